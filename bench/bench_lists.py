"""The list pages at 10,000 leaflets, rendered (cache empty) and from the page cache.

    .venv/bin/python bench/bench_lists.py [--seconds 3] [--leaflets 10000] [--postgres]

Requests go through Django's test Client in this process (routing, every middleware, the page
cache), with DEBUG off and hashed static files, on a throwaway SQLite database (or a temporary
PostgreSQL database with --postgres) holding the real library plus synthetic leaflets.
"Rendered" empties the cache before each request; "cached" asks again and again.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import bench_workspace, summary


def timed(client, url, before=None, seconds=3.0, at_most=10_000, at_least=3):
    latencies, deadline, response = [], time.perf_counter() + seconds, None
    while (time.perf_counter() < deadline or len(latencies) < at_least) and len(latencies) < at_most:
        if before:
            before()
        begun = time.perf_counter()
        response = client.get(url)
        latencies.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return latencies, response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="per page and state")
    parser.add_argument("--leaflets", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    database = "postgresql" if options.postgres else "sqlite"
    with bench_workspace(database) as workspace:
        workspace.prepare(leaflets=options.leaflets)
        workspace.use_in_this_process()
        import django

        django.setup()
        from django.core.cache import cache, caches
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from procedures.models import Category, Department, LeafletVersion

        area = Category.objects.filter(slug__startswith="synthetic-").first()
        unit = Department.objects.filter(slug__startswith="synthetic-").first()
        pages = {
            "home": "/",
            "A to Z": "/procedures/",
            f"category ({area.procedures.count()} leaflets)": area.get_absolute_url(),
            f"department ({unit.procedures.count()} leaflets)": unit.get_absolute_url(),
            "departments": "/departments/",
            "glossary": "/glossary/",
        }
        print(
            f"library: {LeafletVersion.objects.live('en').count()} live leaflets; "
            f"Django test Client in process, DEBUG off; cache: {caches['default'].__class__.__name__}"
        )
        client = Client()
        print(
            f"{'page':26} {'bytes':>9} {'queries':>7} {'rendered p50 ms':>15} {'cached p50 ms':>13} "
            f"{'cached p95':>10} {'ratio':>6}"
        )
        for name, url in pages.items():
            cache.clear()
            with CaptureQueriesContext(connection) as cold_queries:
                client.get(url)
            with CaptureQueriesContext(connection) as warm_queries:
                client.get(url)
            # Read now: every request empties the connection's query log.
            queries = f"{len(cold_queries)}/{len(warm_queries)}"
            rendered, response = timed(client, url, before=cache.clear, seconds=options.seconds, at_most=20)
            cached, _ = timed(client, url, seconds=options.seconds)
            cold, warm = summary(rendered), summary(cached)
            print(
                f"{name:26} {len(response.content):9d} {queries:>7} "
                f"{cold['p50']:15.1f} {warm['p50']:13.2f} {warm['p95']:10.2f} "
                f"{cold['p50'] / warm['p50']:5.0f}x"
            )
        print("queries: rendered/cached; ratio: rendered p50 / cached p50")


if __name__ == "__main__":
    main()
