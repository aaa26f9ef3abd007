from django.conf import settings
from django.core.management.base import BaseCommand

from procedures.library import export_library


class Command(BaseCommand):
    help = "Write the live leaflet library from the database to content/ files."

    def add_arguments(self, parser):
        parser.add_argument("--content-dir", default=settings.CONTENT_DIR)

    def handle(self, *args, content_dir, **options):
        count = export_library(content_dir)
        self.stdout.write(self.style.SUCCESS(f"Exported {count} leaflets to {content_dir}."))
