"""Cookie-free usage counts: how often each version was read, downloaded, printed in a clinic
pack, checked by its QR code or opened from an information prescription, per day.

Nothing tells one visitor from another: no cookie, no address, no session. A count is a
number per (version, day, kind), in UsageCount, shown on the review dashboard.

How a page is counted
---------------------
A view says what its answer counts as with `mark(response, kind, versions)`. `count_page()`
is the one function that counts, and two places call it, which between them see every answer
(procedures/caching.py): PageCacheMiddleware, which every answer from Django leaves through,
whether it was served from the page cache (the marks are stored with the cached page) or just
made (through `count(request, response)`), and StoredPageFront, which answers pages it keeps
ready before Django runs.

Answers not counted: anything but a 200, HEAD requests, robots that say so in their
User-Agent, and pages a browser or CDN shows from its own copy (a 304, or no request at all),
so the counts are a lower bound.

Why counts wait in memory
-------------------------
A page served from the cache runs no SQL today (about 0.3 ms of Django). Writing one upsert
per request would make every one of them a write transaction: on SQLite each takes the
database's single write lock and syncs the file; on PostgreSQL every view of a popular leaflet
updates the same row, so requests at the same moment queue on its lock. So each process adds
to a dictionary in memory (microseconds, bench/bench_usage.py) and writes everything pending
in one INSERT … ON CONFLICT DO UPDATE once FLUSH seconds have passed since the first count it
has not written (settings.USAGE_FLUSH_SECONDS), and when the process exits: at most one
write per process per minute, whatever the traffic. The price: the dashboard trails by up to
that long, and a process that is killed rather than stopped loses its unwritten counts. Counts
are a guide to what is used, not a record.
"""

import atexit
import logging
import re
import threading
from collections import Counter
from time import monotonic

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Robots that say what they are. Anyone else is counted: the counts are a guide.
ROBOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|preview|monitor|curl/|wget/|python-requests",
    re.IGNORECASE,
)
ROWS_PER_STATEMENT = 200  # 4 values a row: inside SQLite's oldest limit of 999 per statement

_lock = threading.Lock()
_pending = Counter()  # (version_id, day, kind) -> count not yet written
_first_pending_at = None  # monotonic() of the oldest count not yet written
_day = None  # (monotonic() until which it holds, today's date): see _today()


def mark(response, kind, versions):
    """Say that this answer, once it reaches someone, counts as `kind` for each version."""
    response.usage = tuple((str(kind), version.pk) for version in versions)
    return response


def marks(response):
    """What an answer counts as, for storing with a cached page."""
    return getattr(response, "usage", ())


def count(request, response):
    """Count one answer, if it is marked and reached a person. In memory: see the module."""
    if response.status_code == 200:
        count_page(request, marks(response))


def count_page(request, usage):
    """Count a 200 answer that counts as `usage` (marks()): for StoredPageFront, which sends a
    stored page without making a response object."""
    global _first_pending_at
    if not usage or request.method not in ("GET", "POST"):
        return
    if ROBOTS.search(request.META.get("HTTP_USER_AGENT", "")):
        return
    now = monotonic()
    day = _today(now)
    with _lock:
        for kind, version_id in usage:
            _pending[(version_id, day, kind)] += 1
        if _first_pending_at is None:
            _first_pending_at = now
        due = now - _first_pending_at >= settings.USAGE_FLUSH_SECONDS
    if due:
        flush()


def flush():
    """Write every pending count: one statement (for up to ROWS_PER_STATEMENT rows) that adds
    to the day's row or makes it. Returns the number of rows written."""
    global _first_pending_at
    with _lock:
        rows = list(_pending.items())
        _pending.clear()
        _first_pending_at = None
    if not rows:
        return 0
    try:
        # A savepoint inside a request's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[start : start + ROWS_PER_STATEMENT]
                cursor.execute(
                    _upsert_sql(len(chunk)),
                    [
                        value
                        for (version_id, day, kind), number in chunk
                        for value in (version_id, connection.ops.adapt_datefield_value(day), kind, number)
                    ],
                )
    except IntegrityError:
        # A version that is not in this database (one restored from an older backup): these
        # counts can never be written.
        logger.warning("Usage counts dropped: %s rows name versions this database does not have", len(rows))
        return 0
    except DatabaseError as problem:
        logger.warning("Usage counts not written (%s); kept for the next try", problem)
        with _lock:
            _pending.update(dict(rows))
            _first_pending_at = _first_pending_at or monotonic()
        return 0
    return len(rows)


def _today(now):
    """timezone.localdate(), worked out at most once a second (it costs more than the rest of
    count() together); a count in the first second after midnight may go to the day before."""
    global _day
    day = _day
    if day is None or now >= day[0]:
        day = _day = (now + 1.0, timezone.localdate())
    return day[1]


def forget():
    """Drop unwritten counts (tests: their versions vanish with each test's transaction)."""
    global _first_pending_at, _day
    with _lock:
        _pending.clear()
        _first_pending_at = None
        _day = None


def pending():
    """The counts not yet written, {(version_id, day, kind): count}, for tests and benchmarks."""
    with _lock:
        return dict(_pending)


def _upsert_sql(rows):
    from .models import UsageCount

    quote = connection.ops.quote_name
    table = quote(UsageCount._meta.db_table)
    columns = ", ".join(quote(name) for name in ("version_id", "day", "kind", "count"))
    values = ", ".join(["(%s, %s, %s, %s)"] * rows)
    key = ", ".join(quote(name) for name in ("version_id", "day", "kind"))
    # The same statement on PostgreSQL and SQLite (3.24 and later).
    return (
        f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT ({key}) "
        f"DO UPDATE SET {quote('count')} = {table}.{quote('count')} + excluded.{quote('count')}"
    )


atexit.register(flush)  # a worker stopped normally (a restart, a deploy) keeps its counts
