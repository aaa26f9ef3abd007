"""Search over 10,000 leaflets on PostgreSQL: procedures.search.search() called directly, the
/search/ page through gunicorn, and the leaflet page while searches flood the site.

    .venv/bin/python bench/bench_search.py [--seconds 5] [--leaflets 10000] [--connections 32]
                                           [--flood 16] [--readers 16]

A temporary database on the PostgreSQL server on 127.0.0.1:5432 (BENCH_POSTGRES to change),
dropped at the end, holds the real library from content/ plus synthetic leaflets. gunicorn runs
as in production (3 sync workers) with IR_CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR, as behind a
proxy, so that a request can say which patient's address it comes from.

What is measured:
- search() and suggest() in this process: what a search nobody has made before costs;
- GET /search/ one request at a time: new searches (each query new, from a new address),
  searches made before (the 20 typical queries again: the page cache answers), and new
  searches refused because every place on the machine is taken (this process holds it);
- GET /search/?q=kidney+tube at 8 and 32 connections: the same search, as when a leaflet's
  lay name is linked from somewhere busy;
- the leaflet page at --readers connections alone, then while --flood more connections ask for
  a new search each time: from one address, first while it spends its allowance (the first
  SEARCH_PER_CLIENT_PER_HOUR new searches are real ones), then over its limit (every answer
  is 429, the "Search is busy" page); and from a new address each time, so that every search is
  a real one and the limit cannot help (for information).
Targets: search() p95 < 30 ms; kidney+tube at 32 connections >= 800 req/s with p99 < 100 ms;
leaflet p99 < 50 ms during the flood that the limit holds back (one address, over its limit).
Exits 1 on errors (broken connections, answers other than 200, or other than 200 and 429 for
the floods).
"""

import argparse
import itertools
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REAL_LIBRARY_SLUG, Traffic, bench_workspace, load, load_mix, summary

# What patients type: names, lay words, misspellings, phrases, words only in the text.
QUERIES = [
    "kidney",
    "kidney tube",
    "nephrostomy",
    "nefrostomy",
    "biopsy",
    "liver biopsy",
    "stent",
    "drain",
    "bile duct",
    "blood thinners",
    "what happens afterwards",
    "back pain injection",
    "vertebroplasy",
    "gallbladder",
    "embolisation",
    "feeding tube",
    "chest pain",
    "aneurysm",
    "fistula",
    "synthetic leaflet 04242",
]
# Misspellings that find nothing, so the page offers "Did you mean …?" (suggest()).
NOTHING_FOUND = ["kolesistostomy", "embolysashun", "xylophone"]
# Words patients use, combined two and three at a time into searches nobody has made before.
WORDS = (
    "kidney tube biopsy liver drain stent bile back pain injection blood clot artery vein "
    "bleeding tumour cancer lung bone spine fluid abscess feeding stomach neck leg chest needle "
    "scan cement filter freezing burning dialysis fistula swallowing gallbladder jaundice womb"
).split()
TARGET_SEARCH_P95, TARGET_RATE, TARGET_SEARCH_P99, TARGET_LEAFLET_P99 = 30.0, 800, 100.0, 50.0


def new_searches(seed=18):
    """Queries never asked before in this run: word pairs, then triples, in a shuffled order."""
    rng = random.Random(seed)
    made_before = set(QUERIES)  # "kidney tube" is among the pairs, and already kept
    for size in (2, 3):
        combinations = list(itertools.permutations(WORDS, size))
        rng.shuffle(combinations)
        for words in combinations:
            if " ".join(words) not in made_before:
                yield " ".join(words)


def addresses():
    """A new client address each time (documentation and private ranges only)."""
    for n in itertools.count(1):
        yield f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def measure(call, seconds, next_query):
    latencies, found, deadline = [], {}, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        query = next_query()
        begun = time.perf_counter()
        found[query] = call(query)
        latencies.append((time.perf_counter() - begun) * 1000)
    return latencies, found


def in_turn(queries):
    return itertools.cycle(queries).__next__


def line(name, latencies, extra=""):
    figures = summary(latencies)
    return (
        f"{name:44} {len(latencies):6d} {figures['p50']:7.1f} {figures['p95']:7.1f} "
        f"{figures['p99']:7.1f} {figures['mean']:7.1f}{extra}"
    )


def search_path(query):
    return "/search/?" + urllib.parse.urlencode({"q": query})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--leaflets", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32, help="for kidney+tube")
    parser.add_argument("--readers", type=int, default=16, help="leaflet connections in the flood runs")
    parser.add_argument("--flood", type=int, default=16, help="search connections in the flood runs")
    options = parser.parse_args()
    errors = 0
    with bench_workspace("postgresql") as workspace:
        workspace.prepare(leaflets=options.leaflets)
        workspace.use_in_this_process()
        import django

        django.setup()
        from procedures.models import LeafletVersion
        from procedures.search import search, suggest
        from procedures.views import SEARCH_PER_CLIENT_PER_HOUR

        live = LeafletVersion.objects.live("en").count()
        print(
            f"library: {live} live leaflets ({options.leaflets} synthetic); "
            f"{len(QUERIES)} typical queries in turn"
        )

        measure(lambda q: len(search(q)), 1.0, in_turn(QUERIES))  # warm up the connection and caches
        direct, found = measure(lambda q: len(search(q)), options.seconds, in_turn(QUERIES))
        assert not any(search(q) for q in NOTHING_FOUND)
        suggestions, offered = measure(
            lambda q: [p.title for p in suggest(q)], options.seconds / 2, in_turn(NOTHING_FOUND)
        )

        server = workspace.serve(env={"IR_CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR"})
        print(f"server: {server.describe()}, IR_CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR")
        fresh, address = new_searches(), addresses()
        import http.client

        # http.client opens a new connection when the server has closed the last one.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

        def over_http(query, client=None, expect=200):
            headers = {"Host": "127.0.0.1", **({"X-Forwarded-For": client} if client else {})}
            connection.request("GET", search_path(query), headers=headers)
            response = connection.getresponse()
            body = response.read()
            assert response.status == expect, response.status
            return len(body)

        measure(lambda q: over_http(q, next(address)), 1.0, fresh.__next__)
        http_new, _ = measure(lambda q: over_http(q, next(address)), options.seconds, fresh.__next__)
        measure(over_http, 1.0, in_turn(QUERIES))  # every typical search made once in each worker
        http_kept, _ = measure(over_http, options.seconds, in_turn(QUERIES))
        # This process holds the one place on the machine, as a worker searching would: every
        # new search is refused, by StoredPageFront once each worker has the refusal ready.
        from procedures import throttle
        from procedures.views import SEARCHES_AT_ONCE

        with throttle.a_free_place("search", SEARCHES_AT_ONCE) as held:
            assert held
            measure(lambda q: over_http(q, next(address), expect=429), 1.0, fresh.__next__)
            http_refused, _ = measure(
                lambda q: over_http(q, next(address), expect=429), options.seconds, fresh.__next__
            )
        connection.close()

        kidney_tube = search_path("kidney tube")
        crowds = {}
        for connections in (8, options.connections):
            load(server.port, kidney_tube, connections, 1.0)
            crowds[connections] = load(server.port, kidney_tube, connections, options.seconds)
            errors += crowds[connections][3]

        print(f"{'':44} {'calls':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'mean':>7}")
        print(line("search() in process", direct))
        print(line("suggest() when nothing is found", suggestions))
        print(line("GET /search/, new searches, one at a time", http_new))
        print(line("GET /search/, searches made before, one at a time", http_kept))
        print(line("GET /search/, new and refused (429), one at a time", http_refused))
        for connections, (requests, seconds, latencies, failed) in crowds.items():
            print(
                line(
                    f"GET /search/?q=kidney+tube ({connections} connections)",
                    latencies,
                    f"  {requests / seconds:.0f} req/s, {failed} errors",
                )
            )
        print("results per query: " + ", ".join(f"{q!r}: {n}" for q, n in found.items()))
        print(
            "did you mean: "
            + "; ".join(f"{q!r}: {', '.join(titles) or '-'}" for q, titles in offered.items())
        )

        errors += flood_runs(server, options, fresh, address, SEARCH_PER_CLIENT_PER_HOUR)

        p95 = summary(direct)["p95"]
        requests, seconds, latencies, _ = crowds[options.connections]
        rate, p99 = requests / seconds, summary(latencies)["p99"]
        print(
            f"search() p95 {p95:.1f} ms (target < {TARGET_SEARCH_P95:g} ms: {met(p95 < TARGET_SEARCH_P95)}); "
            f"ratio HTTP new search/direct p50: {summary(http_new)['p50'] / summary(direct)['p50']:.2f}"
        )
        print(
            "ratio p50 refused new search/search made before (both answered before Django runs): "
            f"{summary(http_refused)['p50'] / summary(http_kept)['p50']:.2f}"
        )
        print(
            f"kidney+tube at {options.connections} connections: {rate:.0f} req/s "
            f"(target >= {TARGET_RATE}: {met(rate >= TARGET_RATE)}), p99 {p99:.1f} ms "
            f"(target < {TARGET_SEARCH_P99:g} ms: {met(p99 < TARGET_SEARCH_P99)})"
        )
        print(f"errors: {errors}; load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    return 1 if errors else 0


def flood_runs(server, options, fresh, address, per_client):
    """The leaflet alone, then while other connections ask for new searches: from one address
    (twice: while it spends its allowance of new searches, then over its limit) and from a new
    address each time. Prints a table and the target line; returns the errors."""
    leaflet = f"/procedures/{REAL_LIBRARY_SLUG}/"
    load(server.port, leaflet, options.readers, 1.0)  # in every worker's cache
    one_address = {"X-Forwarded-For": "192.0.2.18"}
    runs = {
        "leaflet alone": None,
        "one address, within its limit": one_address,  # its first new searches are real ones
        "one address, over its limit": one_address,
        "many addresses": lambda: {"X-Forwarded-For": next(address)},
    }
    measured, errors = {}, 0
    for name, headers in runs.items():
        traffics = [Traffic("leaflet", options.readers, leaflet)]
        if headers is not None:
            traffics.append(
                Traffic(
                    "search", options.flood, lambda: search_path(next(fresh)), headers, expected=(200, 429)
                )
            )
        cpu = server.cpu_seconds()
        seconds = load_mix(server.port, traffics, options.seconds)
        measured[name] = (seconds, traffics, server.cpu_seconds() - cpu)
        errors += sum(traffic.errors for traffic in traffics)

    print(
        f"\nthe leaflet page during a search flood: {options.readers} connections ask for the leaflet, "
        f"{options.flood} for a new search each time, {options.seconds:g} s a row; the limit is "
        f'{per_client} new searches an hour from one address, then 429 (the "Search is busy" page)'
    )
    print(
        f"{'flood':32} {'leaflet req/s':>13} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'server CPU s':>12}   flood answers"
    )
    for name, (seconds, traffics, cpu) in measured.items():
        readers, flood = traffics[0], traffics[1:]
        figures = summary(readers.latencies)
        answers = ""
        if flood:
            searches = flood[0]
            answers = (
                f"   {searches.statuses[200]} searched, {searches.statuses[429]} busy (429), "
                f"p50 {summary(searches.latencies)['p50']:.1f} ms, {searches.errors} errors"
            )
        print(
            f"{name:32} {readers.served / seconds:13.0f} {figures['p50']:7.1f} {figures['p95']:7.1f} "
            f"{figures['p99']:7.1f} {readers.errors:6d} {cpu:12.2f}{answers}"
        )
    p99 = summary(measured["one address, over its limit"][1][0].latencies)["p99"]
    print(
        f"leaflet p99 during a flood the limit holds back (one address, over its limit): {p99:.1f} ms "
        f"(target < {TARGET_LEAFLET_P99:g} ms: {met(p99 < TARGET_LEAFLET_P99)})\n"
    )
    return errors


def met(condition):
    return "met" if condition else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
