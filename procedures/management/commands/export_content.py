from django.conf import settings
from django.core.management.base import BaseCommand

from procedures.library import export_library


class Command(BaseCommand):
    help = (
        "Write the whole leaflet library from the database to files: the live leaflets in the "
        "content/ format, plus every version (published, superseded, withdrawn and drafts) "
        "under versions/. A backup: import_content restores it into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--content-dir", default=settings.CONTENT_DIR)

    def handle(self, *args, content_dir, **options):
        report = export_library(content_dir)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {report.live} live leaflets, {report.translations} live translations, "
                f"{report.versions} numbered versions and {report.drafts} drafts to {content_dir}."
            )
        )
