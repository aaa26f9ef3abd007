"""Flood control for the forms patients can send without an account (feedback, for now).

`too_many(request, purpose, per_client, site_wide)` counts this request and says whether
the client, or the whole site, has gone over its limit for the hour. The counts are rows in
the database (RequestCount), so all worker processes and app servers share them: a limit of
10 an hour means 10, with or without Redis. Nothing that identifies a person is kept: the
client is a keyed hash of its address, and each row lives for two hours at most.
"""

import datetime
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import RequestCount

WINDOW = datetime.timedelta(hours=1)


def too_many(request, purpose, per_client, site_wide):
    from .views import client_address

    client = client_address(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client}".encode()).hexdigest()[:32]
    counts = [_count(f"{purpose}:{digest}"), _count(f"{purpose}:site")]
    return counts[0] > per_client or counts[1] > site_wide


def _count(key):
    """Add one to this window's count for `key` and return the new count."""
    window = _window_start(timezone.now())
    rows = RequestCount.objects.filter(window=window, key=key)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RequestCount.objects.create(window=window, key=key, count=1)
            except IntegrityError:  # another request made this window's row a moment ago
                rows.update(count=F("count") + 1)
            else:
                RequestCount.objects.filter(window__lt=window - WINDOW).delete()
        return rows.values_list("count", flat=True).get()


def _window_start(moment):
    return moment.replace(minute=0, second=0, microsecond=0)
