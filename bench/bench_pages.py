"""The leaflet page against /healthz through gunicorn, 32 connections.

    .venv/bin/python bench/bench_pages.py [--seconds 5] [--leaflets 10000] [--postgres]

/healthz answers "ok" after one `SELECT 1`: about the least a Django request that touches the
database can do. A leaflet page served from the page cache should cost about the same (one
primary-key SELECT for the library generation, one cache read), so the target is
leaflet req/s >= 0.9 x healthz req/s and a leaflet p99 under 50 ms.

Production-like: DEBUG off, hashed static files, HTTPS redirect off (no proxy here), the real
library from content/ plus synthetic leaflets, a throwaway SQLite database (or PostgreSQL on
loopback with --postgres), gunicorn as the README's production command starts it (3 sync
workers, each with its own memory cache: the default). The load client runs on the same
machine, so it takes some of the same CPU from both runs alike. healthz and the leaflet are
measured in alternating turns (H L H L H L) so that drift affects both.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REAL_LIBRARY_SLUG, bench_workspace, get, load, summary  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured turn")
    parser.add_argument("--turns", type=int, default=3, help="healthz-then-leaflet pairs")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--leaflets", type=int, default=10_000, help="synthetic leaflets added")
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    database = "postgresql" if options.postgres else "sqlite"
    with bench_workspace(database) as workspace:
        workspace.prepare(leaflets=options.leaflets)
        server = workspace.serve()
        leaflet = f"/procedures/{REAL_LIBRARY_SLUG}/"
        status, headers, body = get(server.port, leaflet)
        assert status == 200, status
        print(f"server: {server.describe()}; library: content/ + {options.leaflets} synthetic leaflets")
        print(f"leaflet page: {leaflet} ({len(body)} bytes, Cache-Control: {headers.get('Cache-Control')})")
        print(f"load: {options.connections} connections, "
              f"{options.seconds:g} s per turn, {options.turns} x (healthz, leaflet) after 2 s warm-up each")

        load(server.port, "/healthz", options.connections, 2)  # warm up both workers
        load(server.port, leaflet, options.connections, 2)
        results = {"healthz": [0, 0.0, [], 0], "leaflet": [0, 0.0, [], 0]}
        for name, path in [("healthz", "/healthz"), ("leaflet", leaflet)] * options.turns:
            requests, seconds, latencies, errors = load(server.port, path, options.connections, options.seconds)
            total = results[name]
            total[0] += requests
            total[1] += seconds
            total[2] += latencies
            total[3] += errors

        rates = {}
        print(f"{'page':8} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
        for name, (requests, seconds, latencies, errors) in results.items():
            rates[name] = requests / seconds
            figures = summary(latencies)
            print(f"{name:8} {requests:9d} {rates[name]:8.0f} {figures['p50']:7.1f} "
                  f"{figures['p95']:7.1f} {figures['p99']:7.1f} {errors:6d}")
        ratio = rates["leaflet"] / rates["healthz"]
        p99 = summary(results["leaflet"][2])["p99"]
        print(f"ratio leaflet/healthz: {ratio:.2f} (target >= 0.9: {'met' if ratio >= 0.9 else 'NOT met'}); "
              f"leaflet p99 {p99:.1f} ms (target < 50 ms: {'met' if p99 < 50 else 'NOT met'})")
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
