import time

from django.core.management.base import BaseCommand, CommandError

from procedures import synthetic


class Command(BaseCommand):
    help = (
        "Add a large synthetic leaflet library (SYN-00001, …) for benchmarks. Never loaded by "
        "./dev run: use it on a throwaway database only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leaflets", type=int, default=10_000, help="How many (default 10,000).")
        parser.add_argument(
            "--versions",
            type=int,
            default=1,
            help="Versions per leaflet: the last one published, the others superseded.",
        )
        parser.add_argument("--departments", type=int, default=50)
        parser.add_argument("--glossary", type=int, default=500, help="How many glossary terms.")
        parser.add_argument("--categories", type=int, default=10)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--alongside-real-content",
            action="store_true",
            help="Add synthetic leaflets to a database that already has real ones (a benchmark copy).",
        )

    def handle(
        self,
        *args,
        leaflets,
        versions,
        departments,
        glossary,
        categories,
        seed,
        alongside_real_content,
        **options,
    ):
        if min(leaflets, departments, glossary) < 0 or versions < 1 or categories < 1:
            raise CommandError("Counts cannot be negative; --versions and --categories must be at least 1.")
        if synthetic.synthetic_exists():
            raise CommandError("This database already has synthetic leaflets (SYN-…). Use a fresh database.")
        real = synthetic.real_leaflet_count()
        if real and not alongside_real_content:
            raise CommandError(
                f"This database has {real} real leaflets, and patients would see synthetic ones "
                "next to them. Use an empty database, or --alongside-real-content on a copy "
                "made for benchmarks."
            )
        started = time.perf_counter()
        made = synthetic.build(
            leaflets,
            departments=departments,
            glossary=glossary,
            versions=versions,
            categories=categories,
            seed=seed,
            progress=lambda message: self.stdout.write(f"  {message}") if options["verbosity"] > 1 else None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {made['leaflets']} synthetic leaflets ({made['versions']} versions), "
                f"{made['departments']} departments and {made['glossary']} glossary terms "
                f"in {time.perf_counter() - started:.1f} s."
            )
        )
