"""Flood control for what patients can do without an account that costs the site something:
leaving feedback, and searches that are not in the cache yet.

`a_free_place(purpose, places)` is the other half, for searches: it says whether one of a few
places on this machine is free for the work, so that however many addresses a flood comes from,
at most that many workers are searching and the rest are free to serve leaflets.

`too_many(request, purpose, per_client, site_wide)` counts this request and says whether
the client, or the whole site, has gone over its limit for the hour. The counts are rows in
the database (RequestCount), so all worker processes and app servers share them: a limit of
10 an hour means 10, with or without Redis. Nothing that identifies a person is kept: the
client is a keyed hash of its address, and each row lives for two hours at most.

A flood must cost little once it is over the limit, and must not use up everyone else's
share: a client (or the site) already at its limit is refused after one read, with nothing
written, so its refused requests neither wait for the disk nor count towards the site's. Each
process also remembers the counts it has seen at a limit until the hour ends (a count only
grows within its hour), so from then on that client is refused with no query at all, and
`known_over_limit()` can say so before Django runs (procedures/caching.py, StoredPageFront).
"""

import contextlib
import datetime
import fcntl
import functools
import hashlib
import logging
import threading

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import RequestCount

logger = logging.getLogger(__name__)

WINDOW = datetime.timedelta(hours=1)
# What one too_many() call runs at most: the read, the count, and in a new window the
# deletion of the old ones (tests/test_query_budget.py allows for them).
STATEMENTS_AT_MOST = 3


def too_many(request, purpose, per_client, site_wide):
    window, limits = _window_start(timezone.now()), _limits(request, purpose, per_client, site_wide)
    if _known_full(window, limits):
        return True
    counts = dict(_counts(window, limits))
    _remember_full(window, limits, counts)
    if any(count >= limits[key] for key, count in counts.items()):
        return True
    counts = _add_one(window, limits)
    _remember_full(window, limits, counts)
    if counts[f"{purpose}:site"] == 1:  # the first of a new window: the ones before last go
        RequestCount.objects.filter(window__lt=window - WINDOW).delete()
    # Two requests may both have read a count just under the limit: the new counts decide.
    return any(counts[key] > limit for key, limit in limits.items())


def known_over_limit(request, purpose, per_client, site_wide):
    """Whether this process has already seen this client, or the site, at its limit this hour:
    too_many() would refuse the request. No query, nothing counted."""
    return _known_full(_window_start(timezone.now()), _limits(request, purpose, per_client, site_wide))


def forget_limits():
    """Forget the counts this process has seen at a limit (tests: their rows are rolled back)."""
    with _full_lock:
        _full.clear()


def _limits(request, purpose, per_client, site_wide):
    """{count's key: its limit}: the client's (a keyed hash of its address) and the site's."""
    from .views import client_address

    client = client_address(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client}".encode()).hexdigest()[:32]
    return {f"{purpose}:{digest}": per_client, f"{purpose}:site": site_wide}


# key -> (window, count) for the counts this process has seen reach their limit: the next
# request is refused. The count, not a flag, so that a limit raised by a deploy (or a test) is
# judged afresh. A client must spend its allowance to be here, and the site's limit caps how
# many can, so it stays small; an old window's keys go when a new window's first one comes.
_full = {}
_full_lock = threading.Lock()  # gthread workers


def _known_full(window, limits):
    for key, limit in limits.items():
        seen = _full.get(key)
        if seen is not None and seen[0] == window and seen[1] >= limit:
            return True
    return False


def _remember_full(window, limits, counts):
    full = {key: (window, count) for key, count in counts.items() if count >= limits[key]}
    if full:
        with _full_lock:
            for key in [key for key, (seen, _) in _full.items() if seen != window]:
                del _full[key]
            _full.update(full)


def place_free(purpose, places):
    """Whether a_free_place() would find a place now; none is held after it returns. It
    holds a free place for the microseconds it takes to look, so a search starting in that
    instant in another worker is told "busy" and tries again in a few seconds: rare, and cheaper
    than the flood it spares the workers."""
    with a_free_place(purpose, places) as free:
        return free


@contextlib.contextmanager
def a_free_place(purpose, places):
    """True inside the block when one of `places` places for `purpose` was free and is now
    held; False when all are taken. The caller refuses rather than waits, so a flood never
    holds more than `places` worker processes of this machine. Each place is an exclusive lock
    on a file (flock), which every process on the machine sees and the kernel lets go of when
    the block ends or its process dies, so nothing can be left locked.

    A folder that cannot be written (a read-only deploy) must not take search down: the place
    is then given, and the log says why the limit is not working."""
    folder = settings.LOCK_DIR
    for number in range(places):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = open(folder / f"{purpose}-{number}.lock", "ab")  # noqa: SIM115 (held below)
        except OSError:
            logger.warning("No lock files in %s: %s is not limited to %s at once", folder, purpose, places)
            yield True
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield True
        finally:
            handle.close()  # closing the file lets go of its lock
        return
    yield False


def seconds_left():
    """Until this window ends, when every count starts again (for Retry-After)."""
    now = timezone.now()
    return int((_window_start(now) + WINDOW - now).total_seconds()) + 1


def _counts(window, keys):
    """(key, count) of this window's rows for `keys`: a read, nothing locked. Raw SQL, as in
    _add_one: a flood is answered after this read alone, and building the ORM's query would
    cost more than running it."""
    params = [connection.ops.adapt_datetimefield_value(window), *keys]
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(len(keys)), params)
        return cursor.fetchall()


@functools.lru_cache(maxsize=4)
def _counts_sql(how_many):
    table, key, window, count = _names()
    placeholders = ", ".join(["%s"] * how_many)
    return f"SELECT {key}, {count} FROM {table} WHERE {window} = %s AND {key} IN ({placeholders})"


def _names():
    quote = connection.ops.quote_name
    fields = (RequestCount._meta.get_field(name).column for name in ("key", "window", "count"))
    return (quote(RequestCount._meta.db_table), *(quote(column) for column in fields))


def _add_one(window, keys):
    """Add one to this window's count for each of `keys`, and return {key: new count}.

    One statement, in which the database makes each row or adds to it, so that workers
    counting at once all count and none needs a transaction or a retry. On PostgreSQL it does
    not wait for the disk: these are flood control, not records, and a count lost in a crash
    costs nothing, while waiting would make every counted request wait for the one before it
    (they all add to the site's row)."""
    placeholders = ", ".join(["(%s, %s, 1)"] * len(keys))
    params = [value for key in keys for value in (key, connection.ops.adapt_datetimefield_value(window))]
    with connection.cursor() as cursor:
        cursor.execute(_add_one_sql(placeholders), params)
        return dict(cursor.fetchall())


@functools.lru_cache(maxsize=4)
def _add_one_sql(placeholders):
    table, key, window, count = _names()
    # psycopg2 sends both statements as one query, which PostgreSQL runs as one transaction,
    # so SET LOCAL ends with it.
    no_wait = "SET LOCAL synchronous_commit = off; " if connection.vendor == "postgresql" else ""
    # ON CONFLICT names the unique constraint's columns (one_count_per_window).
    return (
        f"{no_wait}INSERT INTO {table} ({key}, {window}, {count}) VALUES {placeholders} "
        f"ON CONFLICT ({window}, {key}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key}, {count}"
    )


def _window_start(moment):
    return moment.replace(minute=0, second=0, microsecond=0)
