"""The leaflet page against a bare Django view and /healthz, through gunicorn, 32 connections.

    .venv/bin/python bench/bench_pages.py [--seconds 5] [--turns 3] [--leaflets 10000] [--postgres]

Four answers, measured in one run:
- bare Django: bench/bare_django.py, a WSGI app with no middleware, no database and no
  templates whose one view answers HttpResponse("ok"), started under gunicorn exactly as the
  portal is. About the least any Django request can cost.
- bare, its bytes: the same app answering with the leaflet page's own bytes and headers, for
  comparison: what sending those bytes and a dozen headers costs gunicorn and the load client, with
  no more Django work than "ok". Its rate over bare Django's is the most the leaflet could reach.
- /healthz: "ok" after one `SELECT 1`, through the portal's whole middleware stack.
- the largest leaflet page (about 37 KB), served from the page cache: after the warm-up each
  worker keeps it ready and StoredPageFront sends it before Django's handler runs
  (procedures/caching.py, "Earlier still"), asked for twice: as a
  browser asks (Accept-Encoding: gzip, so it comes gzipped, about 11 KB) and with no Accept-Encoding
  (plain, as a script or the test client would get it).
Targets: leaflet req/s >= 0.9 x bare Django and >= 1.3 x /healthz; leaflet p99 < 50 ms, for
the leaflet as browsers get it; the plain one's ratios are printed beside them.
Each line also gives the CPU that gunicorn (master and workers) and the load client spent per
request: on a shared machine they move less than req/s with the neighbours' load.

Production-like: DEBUG off, hashed static files, HTTPS redirect off (no proxy here), the real
library from content/ plus synthetic leaflets, a throwaway SQLite database (or PostgreSQL on
loopback with --postgres), gunicorn as the README's production command starts it (3 sync
workers, each with its own memory cache: the default). The load client runs on the same
machine, so it takes some of the same CPU from every run alike. The four are measured in
alternating turns (bare, bare its bytes, healthz, leaflet, bare, ...) so that drift affects all.
Exits 1 if any request failed or answered other than 200.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REAL_LIBRARY_SLUG, bench_workspace, get, load, summary

TARGET_BARE, TARGET_HEALTHZ, TARGET_P99 = 0.9, 1.3, 50.0
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chrome and Firefox send


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured turn")
    parser.add_argument(
        "--turns", type=int, default=3, help="rounds of (bare, bare its bytes, healthz, leaflet)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--leaflets", type=int, default=10_000, help="synthetic leaflets added")
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    database = "postgresql" if options.postgres else "sqlite"
    with bench_workspace(database) as workspace:
        workspace.prepare(leaflets=options.leaflets)
        portal = workspace.serve()
        bare = workspace.serve(app="bench.bare_django")
        leaflet = f"/procedures/{REAL_LIBRARY_SLUG}/"
        status, headers, body = get(portal.port, leaflet)
        assert status == 200, status
        assert get(bare.port, "/")[2] == b"ok"
        # The same view answering with the leaflet page's bytes and headers (not gunicorn's own).
        page = workspace.folder / "leaflet-page.json"
        django_headers = {
            k: v for k, v in headers.items() if k.lower() not in ("server", "date", "connection")
        }
        page.write_text(json.dumps({"headers": django_headers, "body": body.decode()}), encoding="utf-8")
        same_bytes = workspace.serve(app="bench.bare_django", env={"BARE_PAGE": str(page)})
        assert get(same_bytes.port, "/")[2] == body
        print(
            f'servers: {portal.describe()}; {bare.describe()}, twice: answering "ok", and the leaflet\'s '
            f"bytes with its {len(django_headers)} headers"
        )
        print(f"library: content/ + {options.leaflets} synthetic leaflets")
        print(f"leaflet page: {leaflet} ({len(body)} bytes, Cache-Control: {headers.get('Cache-Control')})")
        print(
            f"load: {options.connections} connections, {options.seconds:g} s per turn, "
            f"{options.turns} x (bare, bare its bytes, healthz, leaflet, leaflet plain), 2 s warm-up each"
        )

        gzipped = get(portal.port, leaflet, BROWSER)
        assert gzipped[1].get("Content-Encoding") == "gzip", gzipped[1]
        print(f"leaflet page as a browser gets it: {len(gzipped[2])} bytes, gzip")
        servers = {
            "bare Django": bare,
            "bare, its bytes": same_bytes,
            "healthz": portal,
            "leaflet": portal,
            "leaflet, plain": portal,
        }
        paths = {
            "bare Django": "/",
            "bare, its bytes": "/",
            "healthz": "/healthz",
            "leaflet": leaflet,
            "leaflet, plain": leaflet,
        }
        asks = {"leaflet": BROWSER}
        for name, server in servers.items():  # every worker warm, the leaflet in each one's cache
            load(server.port, paths[name], options.connections, 2, asks.get(name))
        results = {name: Totals() for name in servers}
        for _ in range(options.turns):
            for name, server in servers.items():
                results[name].add(server, paths[name], options.connections, options.seconds, asks.get(name))

        print(
            f"{'page':14} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6} {'server CPU us/req':>18} {'client CPU us/req':>18}"
        )
        for name, total in results.items():
            figures = summary(total.latencies)
            print(
                f"{name:14} {total.requests:9d} {total.rate:8.0f} {figures['p50']:7.1f} "
                f"{figures['p95']:7.1f} {figures['p99']:7.1f} {total.errors:6d} "
                f"{total.server_cpu_us:18.0f} {total.client_cpu_us:18.0f}"
            )
        leaflet_rate = results["leaflet"].rate
        to_bare = leaflet_rate / results["bare Django"].rate
        to_healthz = leaflet_rate / results["healthz"].rate
        p99 = summary(results["leaflet"].latencies)["p99"]
        print(
            f"ratio leaflet/bare Django: {to_bare:.2f} "
            f"(target >= {TARGET_BARE}: {met(to_bare >= TARGET_BARE)})"
        )
        print(
            f"ratio leaflet/healthz: {to_healthz:.2f} "
            f"(target >= {TARGET_HEALTHZ}: {met(to_healthz >= TARGET_HEALTHZ)})"
        )
        print(f"leaflet p99 {p99:.1f} ms (target < {TARGET_P99:g} ms: {met(p99 < TARGET_P99)})")
        plain = results["leaflet, plain"].rate
        print(
            "the plain leaflet (no Accept-Encoding): "
            f"/bare Django {plain / results['bare Django'].rate:.2f}, "
            f"/healthz {plain / results['healthz'].rate:.2f}, "
            f"p99 {summary(results['leaflet, plain'].latencies)['p99']:.1f} ms"
        )
        ceiling = results["bare, its bytes"].rate / results["bare Django"].rate
        print(
            "for comparison: bare Django sending the leaflet's bytes and headers / bare Django: "
            f"{ceiling:.2f} "
            f"(what its bytes and headers cost gunicorn and the client alone); "
            f"plain leaflet / that: {plain / results['bare, its bytes'].rate:.2f} "
            "(what the portal's own work costs)"
        )
        cpu = {name: total.server_cpu_us for name, total in results.items()}
        print(
            f"server CPU per request, leaflet/bare Django {cpu['leaflet'] / cpu['bare Django']:.2f}, "
            f"leaflet/healthz {cpu['leaflet'] / cpu['healthz']:.2f} (lower is cheaper; less affected by "
            "other load on the machine than req/s)"
        )
        errors = sum(total.errors for total in results.values())
        print(f"errors: {errors}; load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    return 1 if errors else 0


class Totals:
    """One page's turns added up: requests, time, latencies, errors, CPU of server and client."""

    def __init__(self):
        self.requests, self.seconds, self.latencies, self.errors = 0, 0.0, [], 0
        self.server_cpu, self.client_cpu = 0.0, 0.0

    def add(self, server, path, connections, seconds, headers=None):
        server_before, client_before = server.cpu_seconds(), time.process_time()
        requests, taken, latencies, errors = load(server.port, path, connections, seconds, headers)
        self.server_cpu += server.cpu_seconds() - server_before
        self.client_cpu += time.process_time() - client_before
        self.requests += requests
        self.seconds += taken
        self.latencies += latencies
        self.errors += errors

    @property
    def rate(self):
        return self.requests / self.seconds

    @property
    def server_cpu_us(self):
        return self.server_cpu / max(self.requests, 1) * 1e6

    @property
    def client_cpu_us(self):
        return self.client_cpu / max(self.requests, 1) * 1e6


def met(condition):
    return "met" if condition else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
