"""Cookie-free usage counts per version and day: page views (served from the cache too), PDF
downloads, clinic pack prints, QR check scans and prescription opens, written in batches and
shown on the review dashboard beside feedback."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures import usage, workflow
from procedures.models import Feedback, Prescription, UsageCount

from .test_printing import needs_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    """A visitor who is not signed in (staff_client signs in the `client` fixture itself)."""
    return Client()


LEAFLET_URL = reverse("procedures:leaflet", args=["kidney-biopsy"])


def counts():
    """{(version pk, kind): count} for today, after writing what is pending."""
    usage.flush()
    today = timezone.localdate()
    return {(row.version_id, row.kind): row.count for row in UsageCount.objects.filter(day=today)}


def test_a_page_served_from_the_cache_is_counted_too(client, published, django_assert_num_queries):
    client.get(LEAFLET_URL)
    with django_assert_num_queries(1):  # the library generation: counting runs no SQL
        cached = client.get(LEAFLET_URL)
    client.get(LEAFLET_URL)
    assert not cached.cookies  # cookie-free
    assert counts() == {(published.pk, "page_view"): 3}


def test_a_count_stores_no_identifier(client, published):
    client.get(LEAFLET_URL, REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)")
    assert {f.name for f in UsageCount._meta.fields} == {"id", "version", "day", "kind", "count"}
    usage.flush()
    stored = str(list(UsageCount.objects.values_list()))
    assert "198.51.100" not in stored and "Android" not in stored


def test_each_kind_of_use_is_counted_against_its_version(patient, staff_client, published):
    new = workflow.start_new_draft(published)
    workflow.publish(new)
    patient.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1]))  # the old version's page
    patient.get(reverse("procedures:check", args=["IR-T001", 1]))  # a QR code on an old printout
    patient.get(reverse("procedures:check", args=["IR-T001", 2]))
    response = staff_client.post(
        reverse("procedures:prescription_make"),
        {"leaflets": ["kidney-biopsy"], "language": "en-gb", "months": 6},
    )
    patient.get(Prescription.objects.get().get_absolute_url())
    assert counts() == {
        (published.pk, "page_view"): 1,
        (published.pk, "qr_check"): 1,
        (new.pk, "qr_check"): 1,
        (new.pk, "prescription_open"): 1,
    }
    assert response.status_code == 302


@needs_pdf
def test_pdf_downloads_and_pack_prints_are_counted(patient, staff_client, published):
    patient.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"]))
    patient.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"]))  # from the PDF cache
    patient.get(reverse("procedures:leaflet_large_print", args=["kidney-biopsy"]))
    staff_client.post(reverse("procedures:pack"), {"title": "Clinic", "leaflets": ["kidney-biopsy"]})
    assert counts() == {
        (published.pk, "pdf_download"): 2,
        (published.pk, "large_print"): 1,
        (published.pk, "pack_print"): 1,
    }


def test_what_is_not_counted(client, published):
    first = client.get(LEAFLET_URL)
    usage.forget()
    client.head(LEAFLET_URL)
    client.get(LEAFLET_URL, HTTP_IF_NONE_MATCH=first["ETag"])  # the browser shows its own copy
    client.get(LEAFLET_URL, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    client.get(reverse("procedures:leaflet", args=["no-such-leaflet"]))
    client.get(reverse("procedures:search") + "?q=kidney")
    assert counts() == {}


def test_counts_wait_in_memory_and_are_written_in_one_statement(client, published, settings, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(usage, "monotonic", lambda: now[0])
    settings.USAGE_FLUSH_SECONDS = 60
    client.get(LEAFLET_URL)
    now[0] += 59
    with CaptureQueriesContext(connection) as before:
        client.get(LEAFLET_URL)
    assert not any("INSERT" in q["sql"] for q in before.captured_queries)
    assert not UsageCount.objects.exists()

    now[0] += 1
    with CaptureQueriesContext(connection) as due:
        client.get(LEAFLET_URL)
    inserts = [q["sql"] for q in due.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1 and "ON CONFLICT" in inserts[0]
    assert UsageCount.objects.get().count == 3 and usage.pending() == {}

    # The next batch adds to the day's row rather than making another.
    client.get(LEAFLET_URL)
    assert counts() == {(published.pk, "page_view"): 4}


def test_the_review_dashboard_shows_use_beside_feedback(patient, staff_client, published):
    patient.get(LEAFLET_URL), patient.get(LEAFLET_URL)
    patient.get(reverse("procedures:check", args=["IR-T001", 1]))
    Feedback.objects.create(version=published, useful=True)
    usage.flush()
    page = staff_client.get(reverse("admin:procedures_leafletversion_dashboard")).content.decode()
    assert "Patient feedback on live leaflets" in page
    assert "How live leaflets were used (last 30 days)" in page
    assert (
        '<th scope="col">Page views</th><th scope="col">PDF downloads</th>'
        '<th scope="col">Large-print PDF downloads</th><th scope="col">Clinic pack prints</th>'
        '<th scope="col">QR check scans</th><th scope="col">Prescription opens</th>'
    ) in page
    assert (
        "<tr><td>Kidney biopsy v1</td><td>2</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td></tr>"
        in page
    )
    # Counts older than the window are left out.
    UsageCount.objects.update(day=timezone.localdate() - datetime.timedelta(days=30))
    page = staff_client.get(reverse("admin:procedures_leafletversion_dashboard")).content.decode()
    assert "No use counted yet." in page
