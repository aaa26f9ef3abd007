"""What the page benchmarks share: the machine line, a throwaway database (SQLite in a temporary
folder, or a temporary PostgreSQL database on loopback), gunicorn on a free loopback port, and
a load client that drives many connections from one thread. Nothing in the repository is written.

Every loop here is bounded in time, and everything listens and connects on 127.0.0.1 only.
"""

import collections
import contextlib
import http.client
import os
import platform
import selectors
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
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
        subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )

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
    return (
        f"machine: nproc {len(os.sched_getaffinity(0))}, {model}; Python {platform.python_version()}; "
        f"{db}; {platform.system()} {platform.release()}; load average {load1:.2f} (1 min), "
        f"{load5:.2f} (5 min) at start"
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn on 127.0.0.1 as the README's production command runs it: 3 sync workers.

    A sync worker answers one request at a time and closes the connection after it, as it
    would behind the HTTPS proxy in front of it, so a free worker takes the next waiting
    request. Threaded workers with keep-alive measured worse here: each worker accepted as
    many connections as it could, and a turn that put all 32 connections on one worker ran at
    half speed with 40% of the CPU idle."""

    def __init__(self, workspace, workers=3, app="ir_portal.wsgi", env=None):
        """`app`: the WSGI module (bench.bare_django for the bare Django view); `env`: more
        environment variables for it."""
        self.port = free_port()
        self.workers, self.app = workers, app
        # A file, not a pipe nobody reads: a flood of 429s logs a line each, and a full pipe
        # would stop the workers.
        self.log = workspace.folder / f"gunicorn-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    str(GUNICORN),
                    app,
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env={**workspace.env, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped:\n" + self.log.read_text())
            try:
                if get(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def describe(self):
        return (
            f"gunicorn {self.app}, {self.workers} sync workers (the README's production command), "
            f"127.0.0.1:{self.port}"
        )

    def cpu_seconds(self):
        """CPU time (user + system) gunicorn's master and workers have used so far. On a
        shared machine a request's wall-clock time depends on the neighbours; its CPU time
        much less, so the benchmarks print both."""
        master = self.process.pid
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that ended meanwhile
            # After the name: state, ppid, ... utime and stime are the 12th and 13th.
            if int(entry.name) == master or int(fields[1]) == master:
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

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


class Traffic:
    """One kind of request in a load run: `connections` clients, each asking again as soon as
    it is answered. `path` is a path, `headers` a dict added to each request; either may be a
    function giving the next one instead (varied searches, each from another address).
    Answers with a status in `expected` are served (and timed); any other answer and any
    broken connection is an error."""

    def __init__(self, name, connections, path, headers=None, expected=(200,)):
        self.name, self.connections, self.expected = name, connections, frozenset(expected)
        self._path, self._headers = path, headers or {}
        varies = callable(path) or callable(self._headers)
        self._fixed = None if varies else self._request(path, self._headers)
        self.latencies, self.errors, self.statuses = [], 0, collections.Counter()

    @staticmethod
    def _request(path, headers):
        extra = "".join(f"{header}: {value}\r\n" for header, value in headers.items())
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()

    def next_request(self):
        if self._fixed:
            return self._fixed
        path = self._path() if callable(self._path) else self._path
        return self._request(path, self._headers() if callable(self._headers) else self._headers)

    @property
    def served(self):
        return len(self.latencies)


def load(port, path, connections=32, seconds=5.0, headers=None):
    """`connections` clients asking for `path` for `seconds`, each as fast as it is answered.

    Returns (requests, seconds taken, latencies in ms, errors); load_mix() for several kinds
    of request at once."""
    traffic = Traffic(path, connections, path, headers)
    taken = load_mix(port, [traffic], seconds)
    return traffic.served, taken, traffic.latencies, traffic.errors


def load_mix(port, traffics, seconds=5.0):
    """Every connection of every Traffic at once, for `seconds`; fills in each Traffic's
    latencies, errors and statuses, and returns the seconds taken.

    One thread drives every connection through a selector and reads answers with a few lines
    of parsing. The client shares the 2 cores with the server, so it should take as little
    as it can: this one used about 200 us of CPU per request where a thread per connection
    with http.client used about 290 us, and served 12 to 15% more requests in the same run.
    Kinds of request measured together share the one thread, so neither is timed late for
    waiting on the other's thread. A connection is kept open while the server keeps it open.
    """
    selector = selectors.DefaultSelector()

    def ask(sock, traffic, begun=None):
        sock.sendall(traffic.next_request())
        selector.register(sock, selectors.EVENT_READ, _Exchange(begun or time.perf_counter(), traffic))

    def reconnect(sock, traffic):
        # The server closes after each answer (a sync worker) or on an error: the next
        # request's time includes opening its connection, as a proxy's would.
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(sock)
        sock.close()
        begun = time.perf_counter()
        try:
            fresh = _connect(port)
        except OSError:
            return False  # the server has gone: this client stops; the run ends with the last one
        try:
            ask(fresh, traffic, begun)
        except OSError:
            fresh.close()
            return False
        return True

    clients = [(_connect(port), traffic) for traffic in traffics for _ in range(traffic.connections)]
    began = time.perf_counter()
    deadline = began + seconds
    for sock, traffic in clients:
        ask(sock, traffic)
    while selector.get_map():
        now = time.perf_counter()
        if now > deadline + 30:
            break  # a server that stopped answering: give up, bounded
        for key, _ in selector.select(timeout=1.0):
            sock, exchange = key.fileobj, key.data
            traffic = exchange.traffic
            try:
                chunk = sock.recv(1 << 18)
            except OSError:
                chunk = b""
            if not chunk:  # the server closed the connection mid-answer
                traffic.errors += 1
                if not (time.perf_counter() < deadline and reconnect(sock, traffic)):
                    with contextlib.suppress(KeyError, ValueError):
                        selector.unregister(sock)
                    sock.close()
                continue
            if not exchange.feed(chunk):
                continue  # the answer is not all here yet
            finished = time.perf_counter()
            traffic.statuses[exchange.status] += 1
            if exchange.status in traffic.expected:
                traffic.latencies.append((finished - exchange.begun) * 1000)
            else:
                traffic.errors += 1
            if finished >= deadline:
                selector.unregister(sock)
                sock.close()
            elif exchange.keep_alive:
                selector.unregister(sock)
                try:
                    ask(sock, traffic)
                except OSError:  # closed while idle (a keep-alive timeout): open another
                    if not reconnect(sock, traffic):
                        traffic.errors += 1
            elif not reconnect(sock, traffic):
                traffic.errors += 1
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    selector.close()
    return time.perf_counter() - began


def _connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # send each request at once
    return sock


class _Exchange:
    """One response being read: the status line, then headers, then Content-Length bytes."""

    __slots__ = ("begun", "buffer", "keep_alive", "remaining", "status", "traffic")

    def __init__(self, begun, traffic):
        self.begun, self.traffic = begun, traffic
        self.buffer, self.status, self.remaining, self.keep_alive = b"", None, None, True

    def feed(self, chunk):
        """Take bytes off the socket; True once the whole response is in."""
        if self.remaining is not None:
            self.remaining -= len(chunk)
            return self.remaining <= 0
        self.buffer += chunk
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ", 2)[1])
        headers = {
            name.strip().lower(): value.strip().lower()
            for name, value in (line.split(":", 1) for line in lines[1:])
        }
        # Every Django answer here has a length; one without could not be timed.
        length = int(headers.get("content-length", "-1"))
        if length < 0:
            self.status, length = None, 0
        self.keep_alive = headers.get("connection") != "close"
        self.remaining = length - (len(self.buffer) - head_end - 4)
        self.buffer = b""
        return self.remaining <= 0


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(latencies):
    return {
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
    }
