from django.core.management.base import BaseCommand, CommandError

from procedures.content_files import ContentError
from procedures.library import import_library


class Command(BaseCommand):
    help = (
        "Restore a backup made by export_content into an empty database: every version with "
        "its number, status and dates, so every leaflet address works as before."
    )

    def add_arguments(self, parser):
        parser.add_argument("--content-dir", required=True, help="the folder export_content wrote")

    def handle(self, *args, content_dir, **options):
        try:
            report = import_library(content_dir)
        except ContentError as error:
            raise CommandError(f"{error}\nNothing was restored.") from None
        for note in report.notes:
            self.stdout.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {report.procedures} leaflets: {report.versions} numbered versions and "
                f"{report.drafts} drafts."
            )
        )
