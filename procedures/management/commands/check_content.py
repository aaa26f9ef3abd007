from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from procedures.content_check import check_library


class Command(BaseCommand):
    help = (
        "Check the leaflet files in content/ for missing or hard-to-read text, overdue reviews, "
        "pictures without descriptions and broken links. Reads the files, not the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--content-dir", default=settings.CONTENT_DIR)

    def handle(self, *args, content_dir, **options):
        report = check_library(content_dir, today=timezone.localdate())
        for leaflet in report.leaflets:
            self.stdout.write(f"\n{_shown(leaflet.path)}")
            self.stdout.write(f"  {'Section':<28}{'Ease':>6}{'Grade':>7}{'Words':>7}")
            for section, figures in leaflet.sections:
                self.stdout.write(_row(section.heading, figures))
            self.stdout.write(_row("Whole leaflet", leaflet.overall))
        if report.problems:
            self.stdout.write("")
        for problem in report.problems:
            text = str(replace(problem, path=_shown(problem.path)))
            self.stdout.write(self.style.WARNING(text) if problem.warning else self.style.ERROR(text))

        summary = (
            f"{report.checked} leaflets and {report.translations} translations checked: "
            f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        )
        if report.leaflets:
            count = len(report.leaflets)
            summary += (
                f". Library average: reading ease "
                f"{sum(leaflet.overall.reading_ease for leaflet in report.leaflets) / count:.1f}, grade "
                f"{sum(leaflet.overall.grade for leaflet in report.leaflets) / count:.1f}, "
                f"{sum(leaflet.overall.words for leaflet in report.leaflets) // count} words a leaflet"
            )
        self.stdout.write("")
        if report.errors:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))


def _row(label, figures):
    return f"  {label:<28}{figures.reading_ease:>6.1f}{figures.grade:>7.1f}{figures.words:>7}"


def _shown(path):
    # Paths relative to where the command was run are shorter and still clickable in editors.
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
