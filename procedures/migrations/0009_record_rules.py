"""The record's rules in the database: the hash of the text at each workflow step, at most one
draft per leaflet and language, and staff accounts managed by superusers only. And the
shared counts behind flood control (RequestCount)."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count

STAFF_PERMISSIONS = ["add_user", "change_user"]


def refuse_duplicate_drafts(apps, schema_editor):
    """The constraint below cannot be made while a leaflet has two drafts. Deciding which
    one to keep is an editor's choice, so say which they are rather than delete one."""
    LeafletVersion = apps.get_model("procedures", "LeafletVersion")
    doubled = (
        LeafletVersion.objects.filter(status__in=["draft", "in_review"])
        .values("procedure__slug", "language")
        .annotate(drafts=Count("pk"))
        .filter(drafts__gt=1)
    )
    if doubled:
        listed = ", ".join(f"{row['procedure__slug']} [{row['language']}]" for row in doubled)
        raise RuntimeError(
            f"These leaflets have more than one draft: {listed}. Keep one draft of each (copy "
            "any text you need into it, then delete the others in the admin), then migrate again."
        )


def staff_for_superusers_only(apps, schema_editor):
    # An Administrator who could change accounts could make themselves a superuser, or make
    # an approver account to approve their own draft.
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Administrators").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="auth", codename__in=STAFF_PERMISSIONS)
        )


def staff_for_administrators_again(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Administrators").first()
    if group:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="auth", codename__in=STAFF_PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0008_search_name_statistics"),
        ("procedures", "0003_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="workflowevent",
            name="content_hash",
            field=models.CharField(
                blank=True,
                max_length=64,
                help_text="LeafletVersion.content_hash() at this step: what was approved is what went live.",
            ),
        ),
        migrations.RunPython(refuse_duplicate_drafts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="leafletversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["draft", "in_review"])),
                fields=("procedure", "language"),
                name="one_draft_per_leaflet",
                violation_error_message="This leaflet already has a draft: carry on with it.",
            ),
        ),
        migrations.RunPython(staff_for_superusers_only, staff_for_administrators_again),
        migrations.CreateModel(
            name="RequestCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=100)),
                ("window", models.DateTimeField()),
                ("count", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("window", "key"), name="one_count_per_window"),
                ],
            },
        ),
    ]
