"""What counting costs a request (procedures/usage.py), and what the alternative would cost.

    .venv/bin/python bench/bench_usage.py [--seconds 3] [--postgres]

On a throwaway SQLite database (or a temporary PostgreSQL one with --postgres) holding the real
library, in this process, with DEBUG off and hashed static files:

1. the largest leaflet page served from the page cache through Django's test Client, with
   counting as shipped and with counting turned off, in alternating turns (p50 and p95);
2. usage.count() alone, and usage.flush() writing 1, 50 and 500 pending rows;
3. the alternative the module rejects: one INSERT … ON CONFLICT DO UPDATE per request, in
   autocommit, from one thread, and from 4 threads counting the same leaflet at once.
"""

import argparse
import datetime
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REAL_LIBRARY_SLUG, bench_workspace, summary


def timed(call, seconds, at_least=50):
    latencies, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(latencies) < at_least:
        begun = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - begun) * 1000)
    return latencies


def p(latencies, fraction):
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    with bench_workspace("postgresql" if options.postgres else "sqlite") as workspace:
        workspace.prepare()
        workspace.use_in_this_process()
        import django

        django.setup()
        from django.db import connection, connections
        from django.http import HttpResponse
        from django.test import Client, RequestFactory
        from django.utils import timezone

        from procedures import usage
        from procedures.models import LeafletVersion, UsageCount

        shipped_count = usage.count
        version = LeafletVersion.objects.current().get(procedure__slug=REAL_LIBRARY_SLUG)
        url = version.procedure.get_absolute_url()
        client = Client()
        assert client.get(url).status_code == 200  # rendered once, now in the page cache

        # 1. The cached page, counting on and off, in alternating turns.
        turns = {"counting on": [], "counting off": []}
        for _ in range(3):
            for name in turns:
                usage.count = shipped_count if name == "counting on" else (lambda request, response: None)
                turns[name] += timed(lambda: client.get(url), options.seconds / 3)
        usage.count = shipped_count
        print(f"cached leaflet page ({len(client.get(url).content) // 1024} KB), test Client in process:")
        for name, latencies in turns.items():
            figures = summary(latencies)
            print(
                f"  {name:13} p50 {figures['p50']:.3f} ms, p95 {figures['p95']:.3f} ms "
                f"({len(latencies)} requests)"
            )
        difference = statistics.median(turns["counting on"]) - statistics.median(turns["counting off"])
        print(f"  difference of the medians: {difference * 1000:+.1f} µs (noise included)")

        # 2. count() alone, and flush().
        request = RequestFactory().get(url)
        response = usage.mark(HttpResponse(b"x"), UsageCount.Kind.PAGE_VIEW, [version])
        usage.forget()
        calls, begun = 0, time.perf_counter()
        while time.perf_counter() - begun < options.seconds:
            for _ in range(1000):
                usage.count(request, response)
            calls += 1000
        each = (time.perf_counter() - begun) / calls * 1e6
        print(f"usage.count() alone: {each:.2f} µs a call ({calls} calls)")
        versions = list(LeafletVersion.objects.published().values_list("pk", flat=True))
        kinds = [kind for kind, _ in UsageCount.Kind.choices]
        for rows in (1, 50, 500):

            def fill(rows=rows):
                usage.forget()
                day = timezone.localdate()
                with usage._lock:
                    for index in range(rows):
                        key = (
                            versions[index % len(versions)],
                            day - datetime.timedelta(days=index // 60),
                            kinds[index % len(kinds)],
                        )
                        usage._pending[key] += 1

            times = []
            for _ in range(20):
                fill()
                begun = time.perf_counter()
                assert usage.flush() == rows
                times.append((time.perf_counter() - begun) * 1000)
            print(
                f"usage.flush() of {rows:3} rows: p50 {p(times, 0.5):6.2f} ms, "
                f"p95 {p(times, 0.95):6.2f} ms (once a minute per process)"
            )

        # 3. The alternative: one upsert per request.
        sql = usage._upsert_sql(1)
        day = connection.ops.adapt_datefield_value(timezone.localdate())

        def upsert():
            with connection.cursor() as cursor:
                cursor.execute(sql, [version.pk, day, "page_view", 1])

        alone = timed(upsert, options.seconds)
        print(f"one upsert per request, one thread:  p50 {p(alone, 0.5):.3f} ms, p95 {p(alone, 0.95):.3f} ms")
        done, stop, failures = [0] * 4, time.perf_counter() + options.seconds, []

        def worker(number):
            try:
                while time.perf_counter() < stop:
                    upsert()
                    done[number] += 1
            except Exception as problem:  # SQLite: "database is locked" under contention
                failures.append(type(problem).__name__)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = f", {len(failures)} threads failed ({', '.join(sorted(set(failures)))})" if failures else ""
        print(
            f"one upsert per request, 4 threads, the same leaflet: "
            f"{sum(done) / options.seconds:,.0f} a second{failed}"
        )
        connections.close_all()


if __name__ == "__main__":
    main()
