"""'Other formats' on every leaflet page: the printable page, the PDF, a large-print PDF made
from the same source, and a request form for Easy Read, audio, Braille, BSL, an interpreter or
another language that reaches the department and keeps only what the patient gives."""

import io
import re
from collections import Counter

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from procedures import pdf, workflow
from procedures.formats import PER_CLIENT_PER_HOUR
from procedures.models import FormatRequest
from procedures.sections import SECTIONS

from .test_printing import needs_pdf, pages_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    """A visitor who is not signed in (staff_client signs in the `client` fixture itself)."""
    return Client()


LEAFLET_URL = reverse("procedures:leaflet", args=["kidney-biopsy"])
FORM_URL = reverse("procedures:request_format", args=["kidney-biopsy"])
LARGE_PRINT_URL = reverse("procedures:leaflet_large_print", args=["kidney-biopsy"])


def test_every_leaflet_page_has_an_other_formats_panel_and_stays_cacheable(client, published):
    response = client.get(LEAFLET_URL)
    page = response.content.decode()
    panel = re.search(r'<section class="other-formats.*?</section>', page, re.DOTALL).group(0)
    assert "<h2" in panel and "Other formats" in panel
    for url in (
        reverse("procedures:leaflet_print", args=["kidney-biopsy"]),
        reverse("procedures:leaflet_pdf", args=["kidney-biopsy"]),
        LARGE_PRINT_URL,
        FORM_URL,
    ):
        assert f'href="{url}"' in panel, url
    assert 'href="#other-formats"' in page  # from the contents list at the top
    # No form token in the cached page: the request form is a page of its own.
    assert "csrfmiddlewaretoken" not in page and not response.cookies
    assert "public" in response["Cache-Control"]


# -- the large-print PDF ------------------------------------------------------------------------


def text_sizes(content):
    """{font size in points: characters printed at that size}, read from every page."""
    sizes = Counter()

    def visit(text, cm, tm, font, size):
        if text.strip():
            # The size on the page: the font size scaled by the text and graphics matrices.
            c = tm[2] * cm[0] + tm[3] * cm[2]
            d = tm[2] * cm[1] + tm[3] * cm[3]
            sizes[round(size * (c * c + d * d) ** 0.5, 1)] += len(text.strip())

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


@needs_pdf
def test_the_large_print_pdf_has_18_point_body_text_and_nothing_under_16(
    client, make_procedure, make_draft, department
):
    procedure = make_procedure("kidney-biopsy", title="Kidney biopsy")
    department.procedures.add(procedure)
    paragraph = "A sentence of plain words that a patient reads before the procedure. " * 6
    workflow.publish(
        make_draft(procedure, risks="\n\n".join([paragraph] * 3), after="\n\n".join([paragraph] * 3))
    )
    normal = client.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"]))
    large = client.get(LARGE_PRINT_URL)
    assert large.status_code == 200 and large["Content-Type"] == "application/pdf"
    assert large["Content-Disposition"] == 'inline; filename="IR-T001-v1-kidney-biopsy-large-print.pdf"'

    normal_sizes, large_sizes = text_sizes(normal.content), text_sizes(large.content)
    assert normal_sizes.most_common(1)[0][0] == 11.0  # the normal PDF's body text, measured the same way
    assert large_sizes.most_common(1)[0][0] == 18.0  # body text: most of the characters
    assert min(large_sizes) >= 16.0, large_sizes  # and nothing smaller, footers included

    reader = PdfReader(io.BytesIO(large.content))
    assert (round(reader.pages[0].mediabox.width), round(reader.pages[0].mediabox.height)) == (595, 842)  # A4
    assert len(reader.pages) > len(PdfReader(io.BytesIO(normal.content)).pages)
    # The same source: every heading and section text, the phone number, the document control.
    text = " ".join(pages_text(large.content))
    for section in SECTIONS:
        assert section.heading in text, section.heading
    assert "A sentence of plain words" in text and "Plain words about why do i need it?" in text
    assert "Phone: 01632 960 555" in text
    assert "IR-T001 · Version 1 · Last reviewed 1 November 2026" in text


@needs_pdf
def test_the_large_print_pdf_is_cached_apart_from_the_normal_one(client, published):
    large = client.get(LARGE_PRINT_URL).content
    normal = client.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"])).content
    assert large != normal
    key = pdf.leaflet_cache_key(published, [], "http://testserver/", variant="large-print")
    assert cache.get(key) == large
    assert client.get(LARGE_PRINT_URL).content == large


def test_without_weasyprint_the_panel_says_so(client, published, monkeypatch):
    monkeypatch.setattr(pdf, "AVAILABLE", False)
    page = client.get(LEAFLET_URL).content.decode()
    assert "A large-print PDF is not available on this server" in page
    assert f'href="{LARGE_PRINT_URL}"' not in page
    assert client.get(LARGE_PRINT_URL).status_code == 503


# -- asking for another format ------------------------------------------------------------------


def test_the_form_says_what_it_keeps_and_is_the_same_for_everyone(client, published):
    response = client.get(FORM_URL)
    page = response.content.decode()
    assert "We keep only what you choose to tell us on this form" in page
    for label in (
        "Easy Read",
        "Audio",
        "Braille",
        "British Sign Language (BSL)",
        "An interpreter",
        "The leaflet in another language",
    ):
        assert label in page, label
    assert "csrfmiddlewaretoken" not in page and not response.cookies
    assert "public" in response["Cache-Control"]


def test_a_request_keeps_only_what_was_given(client, published, department):
    department.procedures.add(published.procedure)
    response = client.post(FORM_URL, {"formats": ["braille", "audio"]}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert "Your request has been sent" in response.content.decode()
    assert "You did not leave contact details" in response.content.decode()
    saved = FormatRequest.objects.get()
    assert (saved.version, saved.department, saved.braille, saved.audio, saved.easy_read) == (
        published,
        department,
        True,
        True,
        False,
    )
    assert saved.contact == "" and saved.language == ""
    assert "203.0.113.7" not in str(FormatRequest.objects.values_list())
    assert {f.name for f in FormatRequest._meta.fields} == {
        "id",
        "version",
        "department",
        "easy_read",
        "audio",
        "braille",
        "bsl",
        "interpreter",
        "translation",
        "language",
        "contact",
        "created_at",
        "done_at",
    }


def test_the_department_hears_of_it_without_the_contact_details(client, published, department, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    department.procedures.add(published.procedure)
    client.post(
        FORM_URL,
        {
            "formats": ["translation", "interpreter"],
            "language": "Tigrinya",
            "contact": "Flat 2, 1 High Street\nTestford",
        },
    )
    saved = FormatRequest.objects.get()
    assert saved.contact == "Flat 2, 1 High Street\nTestford" and saved.language == "Tigrinya"
    [message] = mail.outbox
    assert message.to == ["ir@example.org"]
    assert "Kidney biopsy" in message.body and "Tigrinya" in message.body and "An interpreter" in message.body
    assert "High Street" not in message.body
    assert f"/admin/procedures/formatrequest/{saved.pk}/change/" in message.body


def test_a_translation_needs_a_language_and_nothing_typed_is_lost(client, published):
    response = client.post(FORM_URL, {"formats": ["translation"], "contact": "07700 900123"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tell us which language you would like the leaflet in." in page
    assert "07700 900123" in page  # still in the box
    assert client.post(FORM_URL, {"contact": "x"}).status_code == 400
    assert "Choose at least one format." in client.post(FORM_URL, {}).content.decode()
    assert not FormatRequest.objects.exists()


def test_a_flood_is_refused(client, published):
    for _ in range(PER_CLIENT_PER_HOUR):
        assert client.post(FORM_URL, {"formats": ["audio"]}).status_code == 200
    response = client.post(FORM_URL, {"formats": ["audio"]})
    assert response.status_code == 429
    assert "call the department instead" in response.content.decode()
    assert FormatRequest.objects.count() == PER_CLIENT_PER_HOUR


def test_staff_see_requests_and_marking_one_done_deletes_the_contact(patient, staff_client, published):
    patient.post(FORM_URL, {"formats": ["easy_read"], "contact": "someone@example.net"})
    changelist = reverse("admin:procedures_formatrequest_changelist")
    listing = staff_client.get(changelist).content.decode()
    assert "Easy Read" in listing and "Kidney biopsy v1 [en]" in listing
    saved = FormatRequest.objects.get()
    assert (
        "someone@example.net"
        in staff_client.get(
            reverse("admin:procedures_formatrequest_change", args=[saved.pk])
        ).content.decode()
    )

    staff_client.post(changelist, {"action": "mark_done", "_selected_action": [saved.pk]})

    saved.refresh_from_db()
    assert saved.done_at is not None and saved.contact == ""


def test_a_draft_has_no_request_form(client, make_procedure, make_draft):
    make_draft(make_procedure("secret-draft"))
    url = reverse("procedures:request_format", args=["secret-draft"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"formats": ["audio"]}).status_code == 404
