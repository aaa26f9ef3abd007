"""A patient on a phone finds their leaflet and prints it; every page passes axe-core."""

import pytest
from playwright.sync_api import expect

from tests.helpers import assert_accessible

pytestmark = pytest.mark.browser


def test_home_to_category_to_leaflet_to_print(page, site):
    page.goto(site + "/")
    expect(page.locator("h1")).to_have_text("Your procedure, explained in plain English")
    expect(page.get_by_role("heading", name="Worried after a procedure?")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Drains and kidneys").click()
    expect(page.locator("h1")).to_have_text("Drains and kidneys")
    assert_accessible(page)

    page.get_by_role("link", name="Nephrostomy (kidney tube)").click()
    expect(page.locator("h1")).to_have_text("Nephrostomy (kidney tube)")
    expect(page.get_by_text("Sample content.")).to_be_visible()
    expect(page.get_by_text("IR-003")).to_be_visible()
    page.get_by_role("link", name="When to get help urgently").click()
    assert page.url.endswith("#urgent-help")
    assert_accessible(page)

    page.get_by_role("link", name="Printable version of this leaflet").click()
    assert "/print/" in page.url
    expect(page.get_by_text("Next review due").first).to_be_visible()
    assert_accessible(page)
    # In print media the navigation is gone and headings stay with their text.
    page.emulate_media(media="print")
    expect(page.locator(".print-help")).to_be_hidden()
    assert page.locator("h2").first.evaluate("h => getComputedStyle(h).breakAfter") == "avoid"


@pytest.mark.parametrize(
    "path",
    ["/procedures/", "/departments/", "/departments/northgate-ir/", "/glossary/", "/search/?q=kidney+tube"],
)
def test_other_pages_pass_axe(page, site, path):
    page.goto(site + path)
    assert page.locator("h1").count() == 1
    assert_accessible(page)


def test_search_from_the_home_page_finds_the_kidney_tube(page, site):
    page.goto(site + "/")
    page.get_by_label("Search for a procedure, or the words you were given").fill("kidney tube")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Nephrostomy (kidney tube)")).to_be_visible()


def test_the_search_is_busy_page_passes_axe(page, site, monkeypatch):
    from procedures import views

    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 0)  # this address has used its hour's
    response = page.goto(site + "/search/?q=kidney+tube")
    assert response.status == 429
    expect(page.locator("h1")).to_have_text("Search is busy")
    expect(page.get_by_role("link", name="see every procedure from A to Z")).to_be_visible()
    assert_accessible(page)
