"""The page cache's library generation: one row, changed whenever patients' pages change
(procedures/caching.py). No data step: the first change makes the row."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0004_clinic_packs"),
    ]

    operations = [
        migrations.CreateModel(
            name="LibraryGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
                ("changed_at", models.DateTimeField()),
            ],
        ),
    ]
