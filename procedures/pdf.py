"""HTML print templates -> A4 PDF with WeasyPrint.

WeasyPrint needs the Pango library. Where it is missing the import fails with OSError, and
the portal still runs: AVAILABLE is False, the PDF URLs answer 503 and point to the HTML
print view, which needs nothing but a browser.

Stylesheets and uploaded pictures are read straight from disk by LocalFileFetcher: rendering
a PDF never makes an HTTP request, not even to this site (a worker calling itself can
deadlock a small server, and leaflet HTML must not be able to make the server fetch URLs).
"""

import functools
import hashlib
import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import get_language

from .pictures import picture_folder

# WeasyPrint logs every layout step at INFO and a warning for each screen-only rule in
# site.css (media queries it skips) on every render; keep the logs for real failures only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
logging.getLogger("weasyprint").setLevel(logging.ERROR)

try:
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse
except (ImportError, OSError):  # OSError: WeasyPrint is installed but Pango is not
    weasyprint = None

AVAILABLE = weasyprint is not None


# Everything that shapes a printed page besides the version itself. Hashed into cache keys so
# a deploy that changes the layout never serves a PDF made with the old one.
LAYOUT_FOLDERS = ("templates/print", "templates/partials", "static/css")


def _static_file(name):
    # Production serves collected (hashed) names from STATIC_ROOT; development and tests
    # serve the app folders through the finders.
    try:
        if staticfiles_storage.exists(name):
            return Path(staticfiles_storage.path(name))
        found = finders.find(name)
    except SuspiciousFileOperation:  # /static/../../etc/passwd
        return None
    return Path(found) if found else None


def _media_file(name):
    # Only the pictures folder, as procedures/pictures.py serves it: no ../ escapes, no link
    # out of it, nothing else that may one day sit in MEDIA_ROOT.
    path = (Path(settings.MEDIA_ROOT) / name).resolve()
    return path if path.parent == picture_folder() and path.is_file() else None


def local_file_for(url):
    """The file on disk behind a /static/ or /media/ URL of this site, or None."""
    path = unquote(urlsplit(url).path)
    if path.startswith(settings.STATIC_URL):
        return _static_file(path.removeprefix(settings.STATIC_URL))
    if path.startswith(settings.MEDIA_URL):
        return _media_file(path.removeprefix(settings.MEDIA_URL))
    return None


if AVAILABLE:

    class LocalFileFetcher(URLFetcher):
        """Serves /static/ and /media/ from disk and refuses every other URL."""

        def fetch(self, url, headers=None):
            path = local_file_for(url)
            if path is None:
                raise ValueError(f"PDF rendering reads local files only, not {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def render(html, base_url):
    """PDF bytes. `base_url` (the site's address) makes relative links in the PDF clickable."""
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=LocalFileFetcher())
    # PDF/UA-1 (tagged): screen readers follow the headings, lists and links, read pictures'
    # alt text and the QR code's title, and use the document's language (<html lang>) and
    # title (<title>, shown instead of the file name). Checked in tests/test_tagged_pdfs.py.
    return document.write_pdf(pdf_variant="pdf/ua-1")


@functools.cache
def layout_fingerprint():
    digest = hashlib.sha256()
    for folder in LAYOUT_FOLDERS:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def leaflet_cache_key(version, departments, site_url, variant=""):
    """A published version never changes, but what is printed around it can: the procedure's
    title, the departments' contact details, the site address in the QR code and the layout.
    All of them are in the key, so nothing ever needs purging: a change simply makes a new key.
    `variant` names another layout of the same leaflet ("large-print").
    """
    procedure = version.procedure
    # A translation's printout also says whether the English leaflet (views._current_version
    # puts it on the version) has moved on.
    english = getattr(version, "english", None) if version.is_translation else None
    printed = [
        site_url,
        settings.ORGANISATION_NAME,
        layout_fingerprint(),
        get_language(),  # the headings and footer around the text are in the page's language
        english.pk if english else None,
        procedure.title,
        procedure.summary,
        procedure.resource_number,
        procedure.slug,
        *[(d.slug, d.name, d.site, d.phone, d.email, d.opening_hours) for d in departments],
    ]
    fingerprint = hashlib.sha256(repr(printed).encode()).hexdigest()[:16]
    return f"leaflet-pdf:{version.pk}:v{version.number}:{variant + ':' if variant else ''}{fingerprint}"
