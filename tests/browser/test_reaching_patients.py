"""Reaching the patient, in a real browser: clinic staff make an information prescription and
print its handout; the patient opens the link in Arabic, reads a leaflet, finds "Other formats"
and asks for Braille; a revoked link explains itself. Every page passes axe-core."""

import re

import pytest
from playwright.sync_api import expect

from procedures.models import FormatRequest, Prescription
from tests.helpers import assert_accessible

from .test_approval import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_a_prescription_from_clinic_to_patient(page, site, django_user_model):
    django_user_model.objects.create_user("clinic", password=PASSWORD, is_staff=True)
    sign_in(page, site, "clinic")
    page.goto(site + "/print/prescription/")
    expect(page.locator("h1")).to_have_text("Make an information prescription")
    assert_accessible(page)
    page.get_by_role("button", name="Make the link and QR code").click()  # nothing ticked
    expect(page.get_by_text("Choose at least one leaflet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label(re.compile(r"^Nephrostomy \(kidney tube\) \(IR-003, version \d+\)$")).check()
    page.get_by_label("Tumour embolisation").first.check()
    page.get_by_label("The patient's language").select_option("ar")
    page.get_by_role("button", name="Make the link and QR code").click()
    expect(page.locator("h1")).to_have_text("Information prescription ready")
    assert page.locator(".prescription-handout svg[role=img]").count() == 1
    assert_accessible(page)
    link = page.locator(".prescription-handout__link").inner_text()
    code = Prescription.objects.get().code
    assert link == f"{site}/p/{code}/"
    # On paper only the handout prints, right to left in Arabic.
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_be_hidden()
    expect(page.locator(".prescription-handout")).to_be_visible()
    assert page.locator(".prescription-handout").get_attribute("dir") == "rtl"
    page.emulate_media(media="screen")

    # The patient, not signed in, opens the link: it comes up in Arabic.
    page.context.clear_cookies()
    page.goto(link)
    assert page.url == f"{site}/ar/p/{code}/"
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.locator(".card")).to_have_count(2)
    assert_accessible(page)

    page.locator(".card__title a").first.click()
    assert "/ar/procedures/" in page.url
    expect(page.locator("#other-formats")).to_be_visible()
    page.locator("#other-formats a[href$='/other-formats/']").click()
    assert page.url.endswith("/other-formats/")
    assert_accessible(page)
    page.locator("input[value=braille]").check()
    page.locator("form.print-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page)
    assert FormatRequest.objects.get().braille

    # Staff revoke the link: the patient is told, in plain words.
    Prescription.objects.get().revoke()
    page.goto(link)
    expect(page.locator("h1")).to_have_count(1)
    assert page.url == f"{site}/ar/p/{code}/"
    assert_accessible(page)


def test_the_english_pages_pass_axe(page, site, django_user_model):
    django_user_model.objects.create_user("clinic", password=PASSWORD, is_staff=True)
    sign_in(page, site, "clinic")
    page.goto(site + "/print/prescription/")
    page.get_by_label(re.compile(r"^Nephrostomy \(kidney tube\) \(IR-003, version \d+\)$")).check()
    page.get_by_role("button", name="Make the link and QR code").click()
    link = page.locator(".prescription-handout__link").inner_text()
    page.context.clear_cookies()

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Your leaflets")
    expect(page.get_by_text("the version you were given on")).to_be_visible()
    assert_accessible(page)
    page.goto(site + "/procedures/nephrostomy/other-formats/")
    expect(page.locator("h1")).to_contain_text("Ask for this leaflet in another format or language")
    page.get_by_label("The leaflet in another language").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Tell us which language you would like the leaflet in.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Which language? (optional)").fill("Tigrinya")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("h1")).to_have_text("Your request has been sent")
    assert_accessible(page)
    page.goto(site + "/p/no-such-code/")
    expect(page.locator("h1")).to_have_text("We cannot find this link")
    assert_accessible(page)
