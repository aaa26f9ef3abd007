from django.core.management.base import BaseCommand, CommandError

from procedures.catalogues import check_catalogues, missing_tools


class Command(BaseCommand):
    help = (
        "Run makemessages and compilemessages on a scratch copy of the code and fail if any "
        "shipped language has a string that is not translated, a fuzzy entry, or a stale .mo."
    )

    def handle(self, *args, **options):
        missing = missing_tools()
        if missing:
            raise CommandError(
                f"GNU gettext is not installed (missing {', '.join(missing)}): apt-get install gettext"
            )
        reports = check_catalogues()
        for report in reports:
            style = self.style.ERROR if report.problems else self.style.SUCCESS
            self.stdout.write(
                style(f"{report.language}: {report.translated} translated, {len(report.problems)} problems")
            )
            for problem in report.problems:
                self.stdout.write(f"  {problem}")
        if any(report.problems for report in reports):
            raise CommandError(
                "Translations are incomplete: update locale/ with makemessages, "
                "translate, then compilemessages."
            )
