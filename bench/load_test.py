"""Load test: one leaflet page under steady concurrent load, with production settings.

    .venv/bin/python bench/load_test.py [--connections 32] [--seconds 20] [--path /procedures/nephrostomy/]

Builds a throwaway SQLite database in a temporary folder, loads the leaflet library into it,
collects the static files, then starts gunicorn on 127.0.0.1 on a free port with DEBUG off,
a real secret key and HTTPS redirects off (there is no TLS on loopback). N threads each keep one
HTTP/1.1 connection open (http.client, keep-alive) and request the page as fast as they can for
the given time. Reports requests, errors, non-2xx answers, throughput and latency percentiles,
then stops gunicorn and deletes the folder.

Everything listens and connects on 127.0.0.1 only, and every wait is bounded: the whole run
cannot take much longer than setup + the load time + 30 seconds.
"""

import argparse
import http.client
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"  # loopback only, never anything else
SETUP_TIMEOUT = 300  # migrate + load_content + collectstatic
START_TIMEOUT = 30  # gunicorn answering /healthz


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def production_environment(folder):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ir_portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # no TLS on loopback; everything else as in production
        "DATABASE_URL": f"sqlite:///{folder / 'load-test.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "DJANGO_MEDIA_ROOT": str(folder / "media"),
        "IR_OUTAGE_CONTACTS_FILE": str(folder / "outage-contacts.json"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "REDIS_URL": "",  # each worker's own memory cache, as on a single server
    }


def setup(env):
    for command in (["migrate", "--noinput"], ["load_content"], ["collectstatic", "--noinput"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=SETUP_TIMEOUT)


def start_gunicorn(env, port, workers, threads):
    server = subprocess.Popen(
        [GUNICORN, "ir_portal.wsgi", "--bind", f"{HOST}:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5",
         "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {server.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT} s")


def stop(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.errors = 0
        self.non_2xx = 0
        self.statuses = {}
        self.bytes = 0


def client(port, path, until, results):
    """One keep-alive connection, reopened only after an error."""
    latencies, errors, non_2xx, statuses, received = [], 0, 0, {}, 0
    connection = None
    while time.monotonic() < until:
        if connection is None:
            connection = http.client.HTTPConnection(HOST, port, timeout=10)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = None
            continue
        latencies.append(time.perf_counter() - started)
        received += len(body)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if not 200 <= response.status < 300:
            non_2xx += 1
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = None
    if connection is not None:
        connection.close()
    with results.lock:
        results.latencies += latencies
        results.errors += errors
        results.non_2xx += non_2xx
        results.bytes += received
        for status, count in statuses.items():
            results.statuses[status] = results.statuses.get(status, 0) + count


def percentile(ordered, fraction):
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--path", default="/procedures/nephrostomy/")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    options = parser.parse_args()
    if not 0 < options.seconds <= 300:
        raise SystemExit("--seconds must be between 0 and 300")

    folder = Path(tempfile.mkdtemp(prefix="ir-load-test-"))
    server = None
    try:
        env = production_environment(folder)
        print("setting up a temporary SQLite database with the leaflet library…", flush=True)
        setup(env)
        port = free_port()
        server = start_gunicorn(env, port, options.workers, options.threads)
        probe = http.client.HTTPConnection(HOST, port, timeout=10)
        probe.request("GET", options.path)
        first = probe.getresponse()
        first.read()
        probe.close()
        if first.status != 200:
            raise SystemExit(f"{options.path} answered {first.status}, not 200: nothing to measure")

        results = Results()
        until = time.monotonic() + options.seconds
        threads = [threading.Thread(target=client, args=(port, options.path, until, results))
                   for _ in range(options.connections)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=options.seconds + 15)
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(folder, ignore_errors=True)

    ordered = sorted(results.latencies)
    done = len(ordered)
    print(f"\nGET http://{HOST}:{port}{options.path}")
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; gunicorn {options.workers} workers × {options.threads} threads "
          f"(gthread), SQLite, DEBUG off")
    print(f"{options.connections} keep-alive connections for {elapsed:.1f} s")
    print(f"requests:  {done + results.errors}")
    print(f"completed: {done} ({done / elapsed:.0f} per second, "
          f"{results.bytes / elapsed / 1e6:.1f} MB/s)")
    print(f"errors:    {results.errors} (connection failures and timeouts)")
    print(f"non-2xx:   {results.non_2xx}   statuses: "
          + ", ".join(f"{status}×{count}" for status, count in sorted(results.statuses.items())))
    if ordered:
        print("latency:   "
              f"p50 {percentile(ordered, 0.50) * 1000:.1f} ms · "
              f"p95 {percentile(ordered, 0.95) * 1000:.1f} ms · "
              f"p99 {percentile(ordered, 0.99) * 1000:.1f} ms · "
              f"max {ordered[-1] * 1000:.1f} ms · mean {statistics.fmean(ordered) * 1000:.1f} ms")
    return 1 if results.errors or results.non_2xx or not ordered else 0


if __name__ == "__main__":
    sys.exit(main())
