"""Load test: one page under steady concurrent load, served as in production.

    .venv/bin/python bench/load_test.py [--connections 32] [--seconds 20] [--path /procedures/nephrostomy/]

Builds a throwaway SQLite database in a temporary folder, loads the leaflet library into it,
collects the static files and starts gunicorn as the README's production command does (3 sync
workers, DEBUG off, a real secret key, HTTPS redirect off because there is no TLS on loopback).
N connections then ask for the page as fast as they are answered for the given time. Prints
requests, failures, throughput and latency percentiles, then stops gunicorn and deletes the
folder. Exits 1 if any request failed.

Everything listens and connects on 127.0.0.1 only, and every wait is bounded.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import bench_workspace, get, load, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--path", default="/procedures/nephrostomy/")
    options = parser.parse_args()
    if not 0 < options.seconds <= 300:
        raise SystemExit("--seconds must be between 0 and 300")

    with bench_workspace() as workspace:
        print("setting up a temporary SQLite database with the leaflet library…", flush=True)
        workspace.prepare()
        server = workspace.serve()
        status, _, body = get(server.port, options.path)
        if status != 200:
            raise SystemExit(f"{options.path} answered {status}, not 200: nothing to measure")
        print(f"server: {server.describe()}")
        requests, seconds, latencies, failures = load(
            server.port, options.path, options.connections, options.seconds
        )

    print(f"\nGET {options.path} ({len(body)} bytes), {options.connections} connections for {seconds:.1f} s")
    print(
        f"answered 200: {requests} ({requests / seconds:.0f} per second, "
        f"{requests * len(body) / seconds / 1e6:.1f} MB/s)"
    )
    print(f"failed:       {failures} (broken connections and answers other than 200)")
    if latencies:
        figures = summary(latencies)
        print(
            f"latency:      p50 {figures['p50']:.1f} ms · p95 {figures['p95']:.1f} ms · "
            f"p99 {figures['p99']:.1f} ms · max {max(latencies):.1f} ms · "
            f"mean {statistics.fmean(latencies):.1f} ms"
        )
    return 1 if failures or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
