"""Browser tests drive Debian's Chromium through Playwright against a live Django server.

Playwright's own browser download cannot run here, so the system Chromium is used. Missing
Chromium skips these tests on a laptop but fails them in CI (CI=true), where a skipped
browser test would hide a broken accessibility promise.
"""

import os
import shutil
from pathlib import Path

import django.test.testcases
import pytest

from tests.helpers import record_csp_violations

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (to set up data) are still ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Django's live server serves MEDIA_ROOT itself, ahead of the site's URLs and middleware, so
# pictures loaded in these tests even while the site itself answered 404 for them (issue 20).
# Served through the site, as gunicorn serves them, they test what patients get.
django.test.testcases._MediaFilesHandler = lambda application: application

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # the CI machine runs as root
    "--disable-gpu",
    "--disable-background-networking",  # the closed network refuses these connections
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _no_browser(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _no_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A phone-sized page. Anything the Content-Security-Policy blocks fails the test: with
    no inline script or style allowed, a blocked item means something on the page is broken."""
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = record_csp_violations(page)
    yield page
    context.close()
    assert blocked == [], "blocked by the Content-Security-Policy:\n" + "\n".join(blocked)


@pytest.fixture
def site(live_server, transactional_db, small_library):
    """The live server with the small leaflet library (nephrostomy, in English and Arabic, and
    two more; see tests/helpers.py)."""
    return live_server.url
