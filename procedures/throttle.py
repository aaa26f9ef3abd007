"""Flood control for what patients can do without an account that costs the site something:
leaving feedback, and searches that are not in the cache yet.

`too_many(request, purpose, per_client, site_wide)` counts this request and says whether
the client, or the whole site, has gone over its limit for the hour. The counts are rows in
the database (RequestCount), so all worker processes and app servers share them: a limit of
10 an hour means 10, with or without Redis. Nothing that identifies a person is kept: the
client is a keyed hash of its address, and each row lives for two hours at most.

A client over its own limit is refused without adding to the site's count, so one client's
flood cannot use up everyone else's share.
"""

import datetime
import functools
import hashlib

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import RequestCount

WINDOW = datetime.timedelta(hours=1)
# What one too_many() call runs at most: a count for the client, one for the site, and in a
# new window the deletion of the old ones (tests/test_query_budget.py allows for them).
STATEMENTS_AT_MOST = 3


def too_many(request, purpose, per_client, site_wide):
    from .views import client_address

    client = client_address(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client}".encode()).hexdigest()[:32]
    window = _window_start(timezone.now())
    if _count(window, f"{purpose}:{digest}") > per_client:
        return True
    site_count = _count(window, f"{purpose}:site")
    if site_count == 1:  # the first of a new window: the ones before last go
        RequestCount.objects.filter(window__lt=window - WINDOW).delete()
    return site_count > site_wide


def _count(window, key):
    """Add one to this window's count for `key` and return the new count: one statement,
    in which the database makes the row or adds to it, so two workers counting at once both
    count and neither needs a transaction or a retry."""
    with connection.cursor() as cursor:
        cursor.execute(_count_sql(), [key, connection.ops.adapt_datetimefield_value(window)])
        return cursor.fetchone()[0]


@functools.cache
def _count_sql():
    quote = connection.ops.quote_name
    table = quote(RequestCount._meta.db_table)
    key, window, count = (quote(RequestCount._meta.get_field(name).column) for name in ("key", "window", "count"))
    # ON CONFLICT names the unique constraint's columns (one_count_per_window).
    return (
        f"INSERT INTO {table} ({key}, {window}, {count}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({window}, {key}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {count}"
    )


def seconds_left():
    """Until this window ends, when every count starts again (for Retry-After)."""
    now = timezone.now()
    return int((_window_start(now) + WINDOW - now).total_seconds()) + 1


def _window_start(moment):
    return moment.replace(minute=0, second=0, microsecond=0)
