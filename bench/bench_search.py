"""Search over 10,000 leaflets on PostgreSQL: procedures.search.search() called directly, and
the /search/ page through gunicorn.

    .venv/bin/python bench/bench_search.py [--seconds 5] [--leaflets 10000]

A temporary database on the PostgreSQL server on 127.0.0.1:5432 (BENCH_POSTGRES to change),
dropped at the end, holds the real library from content/ plus synthetic leaflets. The search
page is never kept by the page cache (each query differs), so every HTTP request searches.
Target: p95 under 30 ms.
"""

import argparse
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import bench_workspace, load, summary  # noqa: E402

# What patients type: names, lay words, misspellings, phrases, words only in the text.
QUERIES = [
    "kidney", "kidney tube", "nephrostomy", "nefrostomy", "biopsy", "liver biopsy",
    "stent", "drain", "bile duct", "blood thinners", "what happens afterwards", "back pain injection",
    "vertebroplasy", "gallbladder", "embolisation", "feeding tube", "chest pain", "aneurysm",
    "fistula", "synthetic leaflet 04242",
]
# Misspellings that find nothing, so the page offers "Did you mean …?" (suggest()).
NOTHING_FOUND = ["kolesistostomy", "embolysashun", "xylophone"]


def measure(call, seconds, queries):
    latencies, found, deadline = [], {}, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for query in queries:
            begun = time.perf_counter()
            found[query] = call(query)
            latencies.append((time.perf_counter() - begun) * 1000)
    return latencies, found


def line(name, latencies):
    figures = summary(latencies)
    return (f"{name:34} {len(latencies):6d} {figures['p50']:7.1f} {figures['p95']:7.1f} "
            f"{figures['p99']:7.1f} {figures['mean']:7.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--leaflets", type=int, default=10_000)
    options = parser.parse_args()
    with bench_workspace("postgresql") as workspace:
        workspace.prepare(leaflets=options.leaflets)
        workspace.use_in_this_process()
        import django

        django.setup()
        from procedures.models import LeafletVersion
        from procedures.search import search, suggest

        live = LeafletVersion.objects.live("en").count()
        print(f"library: {live} live leaflets ({options.leaflets} synthetic); {len(QUERIES)} queries in turn")

        measure(lambda q: len(search(q)), 1.0, QUERIES)  # warm up the connection and caches
        direct, found = measure(lambda q: len(search(q)), options.seconds, QUERIES)
        assert not any(search(q) for q in NOTHING_FOUND)
        suggestions, offered = measure(lambda q: [p.title for p in suggest(q)], options.seconds / 2, NOTHING_FOUND)

        server = workspace.serve()
        import http.client

        # http.client opens a new connection when the server has closed the last one.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

        def over_http(query):
            connection.request("GET", "/search/?" + urllib.parse.urlencode({"q": query}),
                               headers={"Host": "127.0.0.1"})
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, response.status
            return len(body)

        measure(over_http, 1.0, QUERIES)
        http_one, _ = measure(over_http, options.seconds, QUERIES)
        connection.close()
        requests, seconds, http_many, errors = load(
            server.port, "/search/?q=kidney+tube", connections=8, seconds=options.seconds
        )

        print(f"{'':34} {'calls':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'mean':>7}")
        print(line("search() in process", direct))
        print(line("suggest() when nothing is found", suggestions))
        print(line("GET /search/ (one at a time)", http_one))
        print(line("GET /search/?q=kidney+tube (8 conns)", http_many) + f"  {requests / seconds:.0f} req/s, {errors} errors")
        print("results per query: " + ", ".join(f"{q!r}: {n}" for q, n in found.items()))
        print("did you mean: " + "; ".join(f"{q!r}: {', '.join(titles) or '-'}" for q, titles in offered.items()))
        p95 = summary(direct)["p95"]
        ratio = summary(http_one)["p50"] / summary(direct)["p50"]
        print(f"ratio HTTP/direct p50: {ratio:.2f}; search() p95 {p95:.1f} ms "
              f"(target < 30 ms: {'met' if p95 < 30 else 'NOT met'}); "
              f"HTTP p95 {summary(http_one)['p95']:.1f} ms")


if __name__ == "__main__":
    main()
