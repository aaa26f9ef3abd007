"""How long the first PDF of a leaflet takes, and how fast the cached one is served after.

    .venv/bin/python bench/bench_pdf.py [seconds of cached requests, default 3]

Uses the largest leaflet of the real library (content/), loaded into a throwaway SQLite
database in a temporary folder, and requests go through Django's test Client, so the figures
include URL routing, middleware and the cache lookup, not only WeasyPrint. Nothing in the
repository is written. The cache is the one settings choose (memory, or Redis if REDIS_URL).
"""

import io
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMPORARY = Path(tempfile.mkdtemp(prefix="ir-bench-"))

# Before Django reads its settings: a temporary database and files, production-like DEBUG off.
os.environ["DJANGO_SETTINGS_MODULE"] = "ir_portal.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{TEMPORARY / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"  # the test Client speaks plain HTTP
os.environ["IR_OUTAGE_CONTACTS_FILE"] = str(TEMPORARY / "outage-contacts.json")
os.environ["DJANGO_MEDIA_ROOT"] = str(TEMPORARY / "media")

# WhiteNoise warns that STATIC_ROOT is missing: this run serves no static files over HTTP.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from procedures import pdf  # noqa: E402
from procedures.models import LeafletVersion  # noqa: E402
from procedures.sections import SECTIONS  # noqa: E402

# Production's hashed static names need collectstatic first; read static/ directly instead.
PLAIN_STATIC = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def largest_leaflet():
    versions = LeafletVersion.objects.live("en").select_related("procedure")
    return max(versions, key=lambda v: sum(len(getattr(v, s.field)) for s in SECTIONS))


def timed_get(client, url):
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    return response, elapsed


def main(seconds):
    if not pdf.AVAILABLE:
        sys.exit("WeasyPrint cannot be imported (is Pango installed?): no PDF to measure.")
    call_command("migrate", verbosity=0)
    call_command("load_content", stdout=io.StringIO())
    version = largest_leaflet()
    url = reverse("procedures:leaflet_pdf", args=[version.procedure.slug])
    client = Client()

    cache.clear()
    first, first_render = timed_get(client, url)
    cache.clear()
    _, warm_render = timed_get(client, url)  # fonts and stylesheets already loaded once

    requests, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        cached, _ = timed_get(client, url)
        assert cached.content == first.content
        requests += 1
    rate = requests / (time.perf_counter() - start)

    pages = len(PdfReader(io.BytesIO(first.content)).pages)
    print(
        f"leaflet: {version.procedure.title} ({version.procedure.resource_number} v{version.number}), "
        f"{pages} pages, {len(first.content) / 1024:.0f} KiB"
    )
    print(f"first render (cold process): {first_render * 1000:8.1f} ms")
    print(f"uncached render (warm):      {warm_render * 1000:8.1f} ms")
    print(
        f"cached serve:                {rate:8.1f} requests/second "
        f"({1000 / rate:.2f} ms each, {requests} requests)"
    )
    print(
        f"ratio: a cached serve is {first_render * rate:.0f}x faster than the first render "
        f"({warm_render * rate:.0f}x faster than a warm render)"
    )


if __name__ == "__main__":
    try:
        with override_settings(STORAGES={**django.conf.settings.STORAGES, **PLAIN_STATIC}):
            main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
    finally:
        shutil.rmtree(TEMPORARY, ignore_errors=True)
