import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Case, When
from django.utils import timezone

from procedures.models import DEFAULT_LANGUAGE, LeafletVersion, Procedure


def _when(moment):
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M") if moment else "—"


class Command(BaseCommand):
    help = "Every version of one leaflet; with --on DATE, the version patients were given that day."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--on", type=datetime.date.fromisoformat, metavar="YYYY-MM-DD")

    def handle(self, *args, slug, on=None, **options):
        procedure = Procedure.objects.filter(slug=slug).first()
        if not procedure:
            raise CommandError(f"No leaflet called '{slug}'. Slugs are the last part of the page address.")
        versions = LeafletVersion.objects.filter(
            procedure=procedure
        ).ever_published() | LeafletVersion.objects.filter(
            procedure=procedure, status=LeafletVersion.Status.WITHDRAWN
        )
        self.stdout.write(f"{procedure.title} ({procedure.resource_number})")
        # English first, then each translation: versions are numbered per language.
        for version in versions.select_related("approver").order_by(
            Case(When(language=DEFAULT_LANGUAGE, then=0), default=1), "language", "number"
        ):
            language = f" [{version.language}]" if version.is_translation else ""
            self.stdout.write(
                f"  v{version.number}{language}  {version.get_status_display():<10}"
                f"  published {_when(version.published_at)}  until {_when(version.retired_at)}"
                f"  approved by {version.approver or 'system (content files)'}"
            )
        if on:
            live = LeafletVersion.objects.live_on(on).filter(procedure=procedure, language="en").first()
            if live:
                self.stdout.write(
                    self.style.SUCCESS(f"On {on:%d %B %Y} patients were given version {live.number}.")
                )
            else:
                self.stdout.write(
                    self.style.WARNING(f"On {on:%d %B %Y} no version of this leaflet was live.")
                )
