"""The least a Django request can cost, to measure the portal against: no middleware, no
database, no templates, one view that answers HttpResponse("ok") at every address.

bench_pages.py starts it under gunicorn exactly as it starts the portal (same command, same
workers, same port setup), so the two differ only in what Django does for each request.

With BARE_PAGE naming a JSON file ({"headers": {...}, "body": "..."}), the view answers with
that body and those headers instead: the leaflet page's own bytes, so that the difference
between it and the portal is only the work Django does, not the leaflet's bytes and the dozen headers
that gunicorn and the load client handle for the leaflet page and not for "ok".
"""

import json
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import re_path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-django-benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "testserver"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

if os.environ.get("BARE_PAGE"):
    with open(os.environ["BARE_PAGE"], encoding="utf-8") as page:
        PAGE = json.load(page)
    BODY, HEADERS = PAGE["body"].encode(), PAGE["headers"]
else:
    # With its length, as the portal's answers have (CommonMiddleware adds it there): without
    # one, gunicorn would send the answer in chunks, which costs more at both ends.
    BODY, HEADERS = b"ok", {"Content-Length": "2"}


def ok(request):
    return HttpResponse(BODY, headers=HEADERS)


urlpatterns = [re_path(r"", ok)]  # every address, /healthz included (the start-up probe)
application = get_wsgi_application()
