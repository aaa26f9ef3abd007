"""An Arabic-reading patient: the page runs right to left, the switcher works without
JavaScript, and the leaflet page and its print view pass axe-core."""

import pytest
from playwright.sync_api import expect

from tests.helpers import assert_accessible

pytestmark = pytest.mark.browser


def test_arabic_leaflet_and_print_view_right_to_left_and_accessible(page, site):
    page.goto(site + "/ar/procedures/nephrostomy/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    # Laid out right to left: the heading starts at the right-hand edge of the page.
    heading = page.locator("h1").bounding_box()
    main = page.locator("main").bounding_box()
    assert main["x"] + main["width"] - (heading["x"] + heading["width"]) < 40
    # The callout's coloured bar is on the right, where Arabic lines start.
    callout = page.locator(".callout--warning").first
    assert callout.evaluate("e => getComputedStyle(e).borderRightWidth") == "8px"
    assert callout.evaluate("e => getComputedStyle(e).borderLeftWidth") == "0px"
    assert_accessible(page)

    page.locator(".print-link a").first.click()
    assert "/ar/procedures/nephrostomy/print/" in page.url
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page)
    page.emulate_media(media="print")
    qr = page.locator(".qr-check").bounding_box()
    assert qr["x"] < 200  # the code floats to the left, the end of an Arabic line


def test_switching_language_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site + "/procedures/nephrostomy/")
        page.get_by_role("navigation", name="Language").get_by_role("link", name="العربية").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        assert page.url == site + "/ar/procedures/nephrostomy/"
        page.get_by_role("link", name="Polski").click()
        expect(page.locator("html")).to_have_attribute("lang", "pl")
        assert page.url == site + "/pl/procedures/nephrostomy/"
        # The choice is remembered: the home page opens in Polish.
        page.goto(site + "/")
        assert page.url == site + "/pl/"
    finally:
        context.close()
