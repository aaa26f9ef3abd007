"""A nurse drops a picture into a leaflet; it shows at every step until it reaches patients,
on paper and in the PDF (issue 20: it used to show as a broken image everywhere)."""

import base64
import io
import re

import pytest
from django.contrib.auth.models import Group
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.test_approval import PASSWORD, roles, sign_in
from tests.helpers import assert_accessible
from tests.test_pictures import drawn_pictures

pytestmark = pytest.mark.browser

ALT = "A nephrostomy tube taped to the skin of the back"
SIZE = (240, 160)


def drawing():
    """A small PNG drawing, as a nurse might make in a paint program."""
    image = Image.new("RGB", SIZE, "white")
    ImageDraw.Draw(image).ellipse((40, 20, 200, 140), outline="navy", width=8)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def drop_picture(page, selector, body, name, at):
    """What the browser does when a file is dragged from the desktop into the text box,
    with the text cursor at character `at`."""
    page.evaluate(
        """([selector, b64, name, at]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const files = new DataTransfer();
            files.items.add(new File([bytes], name, {type: "image/png"}));
            const editor = document.querySelector(selector);
            editor.focus();
            editor.selectionStart = editor.selectionEnd = at;
            editor.dispatchEvent(
                new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
        }""",
        [selector, base64.b64encode(body).decode(), name, at],
    )


def assert_picture_shows(picture):
    """The picture has loaded and has pixels: a broken image is `complete` with no width."""
    expect(picture).to_be_visible()
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") == SIZE[0], (
        f"broken picture: {picture.get_attribute('src')}"
    )


def test_an_uploaded_picture_reaches_patients_on_screen_on_paper_and_in_the_pdf(
    page, site, django_user_model
):
    roles()
    for name, group in [("nurse", "Editors"), ("consultant", "Approvers")]:
        user = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))

    sign_in(page, site, "nurse")
    page.goto(site + "/admin/procedures/leafletversion/?q=nephrostomy&status=published&language__exact=en")
    page.get_by_role("link", name="Nephrostomy (kidney tube)").first.click()
    page.get_by_role("button", name="Start a new draft from this version").click()
    expect(page.get_by_text("New draft started from this version")).to_be_visible()

    # The drop lands at the very start of "Getting ready", on the same line as its first
    # sentence: the case that ran the picture's text into "Many nephrostomies are done…".
    editor = page.locator("#id_before")
    drop_picture(page, "#id_before", drawing(), "tube.png", at=0)
    expect(editor).to_have_value(re.compile(r"^!\[\]\(/media/leaflet-images/[\w-]+\.png\)Many nephrostomies"))
    editor.fill(editor.input_value().replace("![](", f"![{ALT}](", 1))

    preview = editor.locator("xpath=following-sibling::div[contains(@class, 'markdownx-preview')]")
    assert_picture_shows(preview.get_by_role("img", name=ALT))
    expect(preview.locator("figure figcaption")).to_have_text(ALT)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    page.get_by_role("link", name="Preview as patients will see it").click()
    expect(page.get_by_text("Draft preview.")).to_be_visible()
    assert_picture_shows(page.get_by_role("img", name=ALT))
    page.go_back()
    page.get_by_role("link", name="Send for review").click()
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_text("Sent for review.")).to_be_visible()
    draft_url = page.url

    sign_in(page, site, "consultant")
    page.goto(draft_url)
    page.get_by_role("link", name="Approve and publish").click()
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_text("Published: patients now see this version.")).to_be_visible()

    # A patient: the picture is a figure of its own, captioned, before the first sentence.
    page.context.clear_cookies()
    page.goto(site + "/procedures/nephrostomy/")
    getting_ready = page.locator('section[aria-labelledby="before"] .prose')
    figure = getting_ready.locator(":scope > figure:first-child")
    expect(figure.locator("figcaption")).to_have_text(ALT)
    assert_picture_shows(figure.get_by_role("img", name=ALT))
    expect(getting_ready.locator(":scope > p").first).to_have_text(
        re.compile(r"^Many nephrostomies are done urgently")
    )
    assert_accessible(page)

    page.goto(site + "/procedures/nephrostomy/print/")
    assert_picture_shows(page.get_by_role("img", name=ALT))
    assert_accessible(page)

    response = page.request.get(site + "/procedures/nephrostomy/leaflet.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    # Drawn once, at its own size (240 CSS pixels are 180 points), read back with pypdf.
    assert [(size, width) for _, size, width, _ in drawn_pictures(response.body())] == [(SIZE, 180)]
