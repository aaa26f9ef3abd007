"""Information prescriptions, format requests and usage counts (issue 19), and what each role
may do with them: editors and approvers see prescriptions and revoke them, see format requests
and mark them done, and read the usage counts; administrators may do everything (0003_roles)."""

import django.db.models.deletion
from django.db import migrations, models

import procedures.models

ROLE_PERMISSIONS = [
    "view_prescription",
    "change_prescription",
    "view_prescribedleaflet",
    "view_formatrequest",
    "change_formatrequest",
    "view_usagecount",
]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrations; make them now so groups can hold them.
    app_config = apps.get_app_config("procedures")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label="procedures")
    for group in Group.objects.filter(name__in=["Editors", "Approvers"]):
        group.permissions.add(*ours.filter(codename__in=ROLE_PERMISSIONS))
    for group in Group.objects.filter(name="Administrators"):
        group.permissions.add(
            *ours.filter(
                content_type__model__in=["prescription", "prescribedleaflet", "formatrequest", "usagecount"]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0010_house_style"),
    ]

    operations = [
        migrations.CreateModel(
            name="FormatRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("easy_read", models.BooleanField(default=False, verbose_name="Easy Read")),
                ("audio", models.BooleanField(default=False)),
                ("braille", models.BooleanField(default=False)),
                ("bsl", models.BooleanField(default=False, verbose_name="BSL")),
                ("interpreter", models.BooleanField(default=False)),
                ("translation", models.BooleanField(default=False)),
                (
                    "language",
                    models.CharField(blank=True, help_text="The language asked for, if any.", max_length=100),
                ),
                (
                    "contact",
                    models.TextField(
                        blank=True,
                        help_text="How the patient asked to be contacted, if they did. Deleted when marked done.",
                        max_length=300,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("done_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="format_requests",
                        to="procedures.department",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="format_requests",
                        to="procedures.leafletversion",
                    ),
                ),
            ],
            options={
                "ordering": ["done_at", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="PrescribedLeaflet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "procedure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="procedures.procedure",
                    ),
                ),
                (
                    "version_given",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="procedures.leafletversion",
                    ),
                ),
            ],
            options={
                "ordering": ["position"],
            },
        ),
        migrations.CreateModel(
            name="Prescription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        default=procedures.models.new_prescription_code,
                        editable=False,
                        max_length=16,
                        unique=True,
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        default="en",
                        editable=False,
                        help_text="The patient's language: the link opens the leaflets in it.",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_on", models.DateField(help_text="The link works until the end of this day.")),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        help_text="Whose phone numbers the patient sees.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="prescriptions",
                        to="procedures.department",
                    ),
                ),
                (
                    "procedures",
                    models.ManyToManyField(
                        related_name="+", through="procedures.PrescribedLeaflet", to="procedures.procedure"
                    ),
                ),
            ],
            options={
                "verbose_name": "information prescription",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="prescribedleaflet",
            name="prescription",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="leaflets",
                to="procedures.prescription",
            ),
        ),
        migrations.CreateModel(
            name="UsageCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("page_view", "page views"),
                            ("pdf_download", "PDF downloads"),
                            ("large_print", "large-print PDF downloads"),
                            ("pack_print", "clinic pack prints"),
                            ("qr_check", "QR check scans"),
                            ("prescription_open", "prescription opens"),
                        ],
                        max_length=20,
                    ),
                ),
                ("count", models.PositiveIntegerField(default=0)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="usage_counts",
                        to="procedures.leafletversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-day", "version", "kind"],
            },
        ),
        migrations.AddConstraint(
            model_name="prescribedleaflet",
            constraint=models.UniqueConstraint(
                fields=("prescription", "procedure"), name="one_leaflet_once_per_prescription"
            ),
        ),
        migrations.AddIndex(
            model_name="usagecount",
            index=models.Index(fields=["day"], name="usage_day"),
        ),
        migrations.AddConstraint(
            model_name="usagecount",
            constraint=models.UniqueConstraint(
                fields=("version", "day", "kind"), name="one_count_per_version_day_kind"
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
