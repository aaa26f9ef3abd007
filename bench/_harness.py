"""What the page benchmarks share: the machine line, a throwaway database (SQLite in a temporary
folder, or a temporary PostgreSQL database on loopback), gunicorn on a free loopback port, and
a keep-alive load client made of threads and http.client. Nothing in the repository is written.

Every loop here is bounded in time, and everything listens and connects on 127.0.0.1 only.
"""

import contextlib
import http.client
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REAL_LIBRARY_SLUG = "image-guided-biopsy"  # the largest leaflet in content/


class Workspace:
    """A temporary folder and database, and the environment for a production-like process."""

    def __init__(self, database="sqlite"):
        self.folder = Path(tempfile.mkdtemp(prefix="ir-bench-"))
        self.database = database
        self.pg_name = None
        if database == "postgresql":
            self.pg_name = f"ir_portal_bench_{uuid.uuid4().hex[:8]}"
            _postgres_admin(f'CREATE DATABASE "{self.pg_name}"')
            url = f"{POSTGRES_SERVER}/{self.pg_name}"
        else:
            url = f"sqlite:///{self.folder / 'bench.sqlite3'}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ir_portal.settings",
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "benchmark-only-not-a-secret-" + "x" * 30,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": str(self.folder / "static"),
            "DJANGO_MEDIA_ROOT": str(self.folder / "media"),
            "IR_OUTAGE_CONTACTS_FILE": str(self.folder / "outage-contacts.json"),
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("REDIS_URL", None)  # the default: each worker's memory cache
        self.servers = []

    def manage(self, *args):
        subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL, timeout=600)

    def prepare(self, leaflets=0, static=True):
        """Migrate, load the real library from content/, add synthetic leaflets, collectstatic."""
        self.manage("migrate", "--noinput")
        self.manage("load_content")
        if leaflets:
            self.manage("make_scale_data", "--leaflets", str(leaflets), "--alongside-real-content")
        if self.pg_name:
            # Measure the database as autovacuum leaves it a minute after a bulk load, not
            # in between: without the visibility map every index-only scan reads the table.
            _postgres_admin("VACUUM (ANALYZE)", database=self.pg_name)
        if static:
            self.manage("collectstatic", "--noinput")

    def use_in_this_process(self):
        """Point this process's Django at the workspace (call before django.setup())."""
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))

    def serve(self, **options):
        """gunicorn on this workspace, stopped by close()."""
        server = Gunicorn(self, **options)
        self.servers.append(server)
        return server

    def close(self):
        for server in self.servers:
            server.stop()
        if self.pg_name:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:
                pass
            _postgres_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def bench_workspace(database="sqlite"):
    """What every benchmark does around its measurements: stop at once if PostgreSQL is asked
    for and not answering, print the machine, and give a Workspace that is closed, with any
    gunicorn it started, however the benchmark ends."""
    if database == "postgresql" and not postgres_available():
        sys.exit("PostgreSQL is not answering on 127.0.0.1:5432.")
    print(machine(database))
    workspace = Workspace(database)
    try:
        yield workspace
    finally:
        workspace.close()


def _postgres_admin(sql, database="postgres"):
    import psycopg2

    connection = psycopg2.connect(f"{POSTGRES_SERVER}/{database}", connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def postgres_available():
    try:
        _postgres_admin("SELECT 1")
        return True
    except Exception:
        return False


def machine(database="sqlite"):
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if database == "postgresql":
        import psycopg2

        connection = psycopg2.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=5)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db = f"PostgreSQL {cursor.fetchone()[0]} on loopback"
        connection.close()
    else:
        db = f"SQLite {sqlite3.sqlite_version}"
    load1, load5, _ = os.getloadavg()
    return (f"machine: nproc {len(os.sched_getaffinity(0))}, {model}; Python {platform.python_version()}; "
            f"{db}; {platform.system()} {platform.release()}; load average {load1:.2f} (1 min), "
            f"{load5:.2f} (5 min) at start")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn on 127.0.0.1: 2 workers (one per core) with threads, keep-alive on."""

    def __init__(self, workspace, workers=2, threads=4):
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.process = subprocess.Popen(
            [str(GUNICORN), "ir_portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
             "--keep-alive", "30", "--log-level", "warning"],
            cwd=ROOT, env=workspace.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped:\n" + self.process.stderr.read())
            try:
                if get(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def describe(self):
        return f"gunicorn gthread, {self.workers} workers x {self.threads} threads, 127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def load(port, path, connections=32, seconds=5.0):
    """`connections` keep-alive clients asking for `path` for `seconds`.

    Returns (requests, seconds taken, latencies in ms, errors)."""
    latencies, errors = [], [0]
    lock = threading.Lock()
    start_line = threading.Barrier(connections + 1)
    deadline = [0.0]

    def client():
        mine, failed = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start_line.wait()
        while time.perf_counter() < deadline[0]:
            begun = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Host": "127.0.0.1"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
                    continue
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append((time.perf_counter() - begun) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    return len(latencies), time.perf_counter() - began, latencies, errors[0]


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(latencies):
    return {"p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "mean": statistics.fmean(latencies) if latencies else float("nan")}
