"""Static files as production serves them: hashed, compressed, kept for a year by browsers,
nothing from another site in the way of the first paint, and the largest leaflet page with
its stylesheets and scripts under 100 KB before compression."""

import re

import pytest
from django.test import Client

from procedures.models import LeafletVersion
from procedures.sections import SECTIONS
from tests.helpers import PRODUCTION_STATIC_STORAGE

pytestmark = pytest.mark.django_db
BUDGET = 100 * 1024


@pytest.fixture
def production_static(settings, collected_static):
    """The static files as deployed: hashed, compressed names from STATIC_ROOT."""
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STATIC_STORAGE}
    return collected_static


def largest_leaflet():
    versions = LeafletVersion.objects.live("en").select_related("procedure")
    return max(versions, key=lambda v: sum(len(getattr(v, s.html_field)) for s in SECTIONS))


def assets_of(html):
    stylesheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    stylesheets += re.findall(r'<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"', html)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    return sorted(set(stylesheets)), sorted(set(scripts))


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_largest_leaflet_page_with_its_css_and_js_is_under_100_kb(library, production_static):
    client = Client()  # made after collectstatic, so WhiteNoise sees the files
    page = client.get(largest_leaflet().procedure.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    stylesheets, scripts = assets_of(html)
    assert stylesheets, "the page should have its stylesheet"

    sizes = {"page": len(page.content)}
    for url in stylesheets + scripts:
        assert url.startswith("/static/"), f"{url}: every stylesheet and script comes from this site"
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), f"{url}: not a hashed name"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert "immutable" in asset["Cache-Control"], url
        sizes[url] = len(body(asset))
        compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
        assert compressed["Content-Encoding"] in ("br", "gzip"), url
    assert sum(sizes.values()) <= BUDGET, sizes


def test_nothing_from_another_site_blocks_the_first_paint(small_library, production_static):
    client = Client()
    html = client.get(largest_leaflet().procedure.get_absolute_url()).content.decode()
    head = html.split("</head>")[0]
    stylesheets, scripts = assets_of(html)
    assert all(url.startswith("/static/") for url in stylesheets + scripts)
    for url in stylesheets:  # no fonts or imports fetched from elsewhere either
        css = body(client.get(url)).decode()
        assert "@import" not in css and not re.search(r"url\(['\"]?(https?:)?//", css), url
    # One stylesheet for the screen; print.css is media="print", so it does not block.
    screen = [tag for tag in re.findall(r"<link[^>]*stylesheet[^>]*>", head) if 'media="print"' not in tag]
    assert len(screen) == 1, screen
    blocking = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head)
    assert all(re.search(r"\b(defer|async)\b|type=\"module\"", tag) for tag in blocking), blocking
