from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from procedures.content_files import ContentError
from procedures.library import load_library


class Command(BaseCommand):
    help = "Load the leaflet library from content/ into the database (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--content-dir", default=settings.CONTENT_DIR)

    def handle(self, *args, content_dir, **options):
        try:
            report = load_library(content_dir)
        except ContentError as error:
            raise CommandError(f"{error}\nNothing was loaded: fix the file and run this again.") from None
        for note in report.notes:
            self.stdout.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded content: {len(report.published)} published, "
                f"{len(report.unchanged)} unchanged, {len(report.created)} new procedures."
            )
        )
