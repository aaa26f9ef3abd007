"""Email each leaflet owner the leaflets they must review soon. Safe to run daily from cron:
an owner hears about a leaflet at most once a week."""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from procedures.models import LeafletVersion, Procedure

WARN_DAYS = 90
REMIND_EVERY = datetime.timedelta(days=7)


class Command(BaseCommand):
    help = "Email owners about leaflets overdue or due for review in the next 90 days."

    def add_arguments(self, parser):
        parser.add_argument("--site-url", default="", help="e.g. https://leaflets.example.org, for links")

    def handle(self, *args, site_url="", **options):
        today = timezone.localdate()
        due = (
            LeafletVersion.objects.due_for_review(within=datetime.timedelta(days=WARN_DAYS), today=today)
            .filter(language="en")
            .select_related("procedure__owner")
            .order_by("next_review_due")
        )
        by_owner, no_owner = {}, []
        for version in due:
            procedure = version.procedure
            if procedure.review_reminder_sent_on and today - procedure.review_reminder_sent_on < REMIND_EVERY:
                continue
            if procedure.owner and procedure.owner.email:
                by_owner.setdefault(procedure.owner, []).append(version)
            else:
                no_owner.append(version)
        for owner, versions in by_owner.items():
            lines = []
            for version in versions:
                state = "OVERDUE since" if version.next_review_due < today else "due"
                link = site_url.rstrip("/") + reverse(
                    "admin:procedures_leafletversion_change", args=[version.pk]
                )
                lines.append(
                    f"- {version.procedure.title} ({version.procedure.resource_number}, v{version.number}): "
                    f"review {state} {version.next_review_due:%d %B %Y}\n  {link}"
                )
            send_mail(
                subject=f"{len(versions)} patient leaflet{'s' if len(versions) != 1 else ''} to review",
                message=(
                    f"Hello {owner.get_full_name() or owner.get_username()},\n\n"
                    "These leaflets you own need their review. Open each one, then either "
                    "start a new draft or ask an approver to record a review with no change.\n\n"
                    + "\n".join(lines)
                    + "\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[owner.email],
            )
            Procedure.objects.filter(pk__in=[v.procedure_id for v in versions]).update(
                review_reminder_sent_on=today
            )
            self.stdout.write(f"Reminded {owner.email} about {len(versions)} leaflet(s).")
        for version in no_owner:
            self.stdout.write(
                self.style.WARNING(
                    f"No owner with an email for {version.procedure.title}: "
                    f"review due {version.next_review_due:%d %B %Y}."
                )
            )
        if not by_owner and not no_owner:
            self.stdout.write("No reminders to send today.")
