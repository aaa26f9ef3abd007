"""Printing for clinics: leaflet PDFs, the QR check page, clinic packs and appointment sheets."""

import datetime
import io
import os
import re
import subprocess
import urllib.request
from decimal import Decimal

import pytest
import segno
from django.apps import apps
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from procedures import fasting, pdf, qr, workflow
from procedures.sections import SECTIONS

pytestmark = pytest.mark.django_db

# Like the browser tests: skipped on a laptop without Pango, a failure in CI.
needs_pdf = pytest.mark.skipif(
    not pdf.AVAILABLE and os.environ.get("CI", "").lower() != "true",
    reason="WeasyPrint needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)",
)


def _arial_or_its_metrics():
    """Whether fontconfig gives the print stylesheet's Arial, or Liberation Sans, which has
    Arial's metrics. Without either a PDF falls back to a wider font and lays out otherwise."""
    try:
        found = subprocess.run(["fc-match", "Arial"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return False
    return any(name in found for name in ('"Arial"', '"Liberation Sans"'))


needs_arial_metrics = pytest.mark.skipif(
    not _arial_or_its_metrics() and os.environ.get("CI", "").lower() != "true",
    reason="a page layout measured in Arial's metrics (apt-get install fonts-liberation)",
)

PDF_URL = reverse("procedures:leaflet_pdf", args=["kidney-biopsy"])
APPOINTMENT_URL = reverse("procedures:appointment", args=["kidney-biopsy"])
PACK_URL = reverse("procedures:pack")


@pytest.fixture(autouse=True)
def _empty_cache():
    # The PDF cache outlives a test's database transaction; start every test without it.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def long_leaflet(make_procedure, make_draft, department):
    """A published leaflet long enough to run over several pages."""
    procedure = make_procedure("kidney-biopsy", title="Kidney biopsy")
    department.procedures.add(procedure)
    paragraph = "A sentence of plain words that a patient reads before the procedure. " * 12
    version = make_draft(procedure, risks="\n\n".join([paragraph] * 8), after="\n\n".join([paragraph] * 6))
    workflow.publish(version)
    return version


def pages_text(content):
    """Text of each page, with runs of white space made single (PDF text breaks lines freely)."""
    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def row_counts():
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


# -- the leaflet PDF -------------------------------------------------------------------------


@needs_pdf
def test_the_pdf_has_document_control_on_every_page_and_every_heading(client, long_leaflet):
    response = client.get(PDF_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="IR-T001-v1-kidney-biopsy.pdf"'
    pages = pages_text(response.content)
    total = len(pages)
    assert total >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
        assert "IR-T001 · Version 1 · Last reviewed 1 November 2026 · Next review due 1 November 2029" in text
        assert "Example NHS Trust · Interventional Radiology, Testford General Hospital" in text
    everything = " ".join(pages)
    for section in SECTIONS:
        assert section.heading in everything
    assert "Phone: 01632 960 555" in everything
    assert "Society of Interventional Radiology: standards of practice" in everything
    first = PdfReader(io.BytesIO(response.content)).pages[0]
    assert (round(first.mediabox.width), round(first.mediabox.height)) == (595, 842)  # A4


def headings_ending_a_page(content):
    headings = {s.heading for s in SECTIONS} | {"Phone numbers", "Sources"}
    ends = []
    for page in PdfReader(io.BytesIO(content)).pages:
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith(("IR-T", "Example NHS Trust ·"))]
        ends.append(body[-1])
    return [line for line in ends if line in headings]


@needs_pdf
@needs_arial_metrics
def test_a_heading_is_never_the_last_line_of_a_page(client, rf, make_procedure, make_draft, department):
    procedure = make_procedure("kidney-biopsy", title="Kidney biopsy")
    department.procedures.add(procedure)
    orphans_without_the_rule = []
    # With these lengths (measured with the key-points box and the 24-hour route in place) a
    # heading falls at the foot of a page unless the stylesheet keeps it with its text;
    # rendering again without the rule proves the layout really puts it there.
    for lines in (34, 60):
        version = make_draft(procedure, benefits="\n\n".join(["A short line."] * lines))
        workflow.publish(version)
        assert headings_ending_a_page(client.get(PDF_URL).content) == []
        html = render_to_string(
            "print/pdf.html",
            {"version": version, "procedure": procedure, "departments": [department]},
            request=rf.get("/"),
        ).replace("</head>", "<style>h1, h2, h3, h4 { break-after: auto !important }</style></head>")
        orphans_without_the_rule += headings_ending_a_page(pdf.render(html, "http://testserver/"))
    assert orphans_without_the_rule


@needs_pdf
def test_the_pdf_is_made_once_and_then_served_from_the_cache(client, long_leaflet, department, monkeypatch):
    first = client.get(PDF_URL).content
    key = pdf.leaflet_cache_key(long_leaflet, [department], "http://testserver/")
    assert key.startswith(f"leaflet-pdf:{long_leaflet.pk}:v1:")
    assert cache.get(key) == first

    def render_again(*args, **kwargs):
        raise AssertionError("the cached PDF should have been served")

    monkeypatch.setattr(pdf, "render", render_again)
    assert client.get(PDF_URL).content == first


@needs_pdf
def test_a_newly_published_version_gets_a_new_pdf(client, long_leaflet):
    assert "Version 1" in pages_text(client.get(PDF_URL).content)[0]
    second = workflow.start_new_draft(long_leaflet)
    second.what_it_is = "New words for version two"
    second.save()
    workflow.publish(second)
    response = client.get(PDF_URL)
    assert response["Content-Disposition"] == 'inline; filename="IR-T001-v2-kidney-biopsy.pdf"'
    text = " ".join(pages_text(response.content))
    assert "IR-T001 · Version 2" in text and "New words for version two" in text


@needs_pdf
def test_a_changed_phone_number_is_not_hidden_by_the_cache(client, long_leaflet, department):
    client.get(PDF_URL)
    department.phone = "01632 960 999"
    department.save()
    assert "Phone: 01632 960 999" in " ".join(pages_text(client.get(PDF_URL).content))


@needs_pdf
def test_the_pdf_reads_its_stylesheets_from_disk_and_makes_no_http_request(
    client, published, monkeypatch, settings
):
    requests = []

    def no_network(self, url, *args, **kwargs):
        requests.append(getattr(url, "full_url", url))
        raise OSError("no network in tests")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    text = pages_text(client.get(PDF_URL).content)[0]
    assert "Page 1 of" in text  # only pdf.css puts page numbers in the margin
    assert requests == []
    fetcher = pdf.LocalFileFetcher()
    css = fetcher.fetch("http://testserver/static/css/print.css")
    assert css.read() == (settings.BASE_DIR / "static/css/print.css").read_bytes()
    with pytest.raises(ValueError, match="local files only"):
        fetcher.fetch("https://example.org/tracker.css")
    with pytest.raises(ValueError, match="local files only"):
        fetcher.fetch("http://testserver/media/../../ir_portal/settings.py")


@needs_pdf
def test_without_weasyprint_the_pdf_link_says_so_and_points_to_the_print_view(client, published, monkeypatch):
    print_url = reverse("procedures:leaflet_print", args=["kidney-biopsy"])
    assert f'href="{PDF_URL}"' in client.get(published.procedure.get_absolute_url()).content.decode()

    monkeypatch.setattr(pdf, "AVAILABLE", False)
    response = client.get(PDF_URL)
    assert response.status_code == 503
    body = response.content.decode()
    assert "The PDF is not available" in body and f'href="{print_url}"' in body
    leaflet = client.get(published.procedure.get_absolute_url()).content.decode()
    assert "A PDF of this leaflet is not available on this server" in leaflet
    assert f'href="{PDF_URL}"' not in leaflet


def test_a_draft_never_gets_a_pdf_or_an_appointment_sheet(client, make_procedure, make_draft, department):
    make_draft(make_procedure("secret-draft"))
    assert client.get(reverse("procedures:leaflet_pdf", args=["secret-draft"])).status_code == 404
    appointment = reverse("procedures:appointment", args=["secret-draft"])
    assert client.get(appointment).status_code == 404
    form = {"date": "2026-12-02", "time": "14:30", "arrive_minutes_before": 30, "department": department.pk}
    assert client.post(appointment, form).status_code == 404


# -- the QR code and the check page ----------------------------------------------------------


def svg_path(svg):
    return re.search(r' d="([^"]+)"', svg).group(1)


def test_the_print_view_has_a_qr_code_for_the_check_page(client, published):
    body = client.get(reverse("procedures:leaflet_print", args=["kidney-biopsy"])).content.decode()
    svg = re.search(r"<svg.*?</svg>", body, re.DOTALL).group(0)
    assert 'role="img"' in svg and "<title>" in svg
    expected = "http://testserver/check/IR-T001/1/"
    other = "http://testserver/check/IR-T001/2/"
    # The same modules as segno draws for the check URL, and not those of any other URL.
    assert svg_path(svg) == svg_path(segno.make_qr(expected, error=qr.ERROR_LEVEL).svg_inline())
    assert svg_path(svg) != svg_path(segno.make_qr(other, error=qr.ERROR_LEVEL).svg_inline())
    assert f'href="{expected}"' in body


@needs_pdf
def test_the_pdf_carries_the_check_address(client, published):
    text = pages_text(client.get(PDF_URL).content)[0].replace(" ", "")
    assert "testserver/check/IR-T001/1/" in text


def check_page(client, number=1, resource="IR-T001"):
    return client.get(reverse("procedures:check", args=[resource, number]))


def test_the_check_page_says_a_live_version_is_current(client, published):
    response = check_page(client)
    assert response.status_code == 200
    assert "This printout is current" in response.content.decode()


def test_the_check_page_says_when_a_version_was_replaced_and_links_the_current_one(client, published):
    second = workflow.start_new_draft(published)
    workflow.publish(second)
    published.refresh_from_db()
    body = check_page(client).content.decode()
    day = timezone.localdate(published.retired_at)
    replaced_on = f"{day.day} {day:%B %Y}"
    assert f"This printout has been replaced on {replaced_on}" in body
    assert f'href="{published.procedure.get_absolute_url()}"' in body
    assert "This printout is current" in check_page(client, 2).content.decode()


def test_the_check_page_flags_a_withdrawn_version(client, published):
    workflow.withdraw(published)
    body = check_page(client).content.decode()
    assert "This leaflet has been withdrawn" in body and "Do not rely on this printout" in body
    assert "This printout is current" not in body


@pytest.mark.parametrize(("resource", "number"), [("IR-NOPE", 1), ("IR-T001", 9)])
def test_the_check_page_is_404_for_an_unknown_version(client, published, resource, number):
    response = check_page(client, number, resource)
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()


# -- fasting times ---------------------------------------------------------------------------


def london(*args):
    return fasting.london_time(datetime.date(*args[:3]), datetime.time(*args[3:]))


def wall_clock(moment):
    local = moment.astimezone(fasting.LONDON)
    return local.strftime("%Y-%m-%d %H:%M")


def test_stop_times_count_back_from_arrival():
    plan = fasting.plan(london(2026, 6, 10, 14, 30), 30, Decimal("6"), Decimal("2"))
    assert wall_clock(plan.arrival) == "2026-06-10 14:00"
    assert wall_clock(plan.stop_food) == "2026-06-10 08:00"
    assert wall_clock(plan.stop_clear_fluids) == "2026-06-10 12:00"
    assert fasting.when(plan.stop_food) == "8am on Wednesday 10 June 2026"
    assert fasting.when(plan.stop_clear_fluids) == "midday on Wednesday 10 June 2026"
    assert not plan.clocks_change


def test_an_appointment_just_after_midnight_stops_food_the_evening_before():
    plan = fasting.plan(london(2026, 6, 10, 0, 30), 30, Decimal("6"), Decimal("2"))
    assert fasting.when(plan.arrival) == "midnight on Wednesday 10 June 2026"
    assert fasting.when(plan.stop_food) == "6pm on Tuesday 9 June 2026"
    assert fasting.when(plan.stop_clear_fluids) == "10pm on Tuesday 9 June 2026"


def test_when_the_clocks_go_forward_the_hours_are_real_hours():
    # 29 March 2026: 1am GMT becomes 2am BST. 8am arrival minus 8 real hours is 11pm the day
    # before (the clock shows 9 hours earlier); counting on the clock would have said midnight.
    plan = fasting.plan(london(2026, 3, 29, 8, 0), 0, Decimal("8"), Decimal("2"))
    assert wall_clock(plan.stop_food) == "2026-03-28 23:00"
    assert wall_clock(plan.stop_clear_fluids) == "2026-03-29 06:00"
    # (In UTC: Python subtracts two London times on the clock face, which would say 9 hours.)
    elapsed = plan.arrival.astimezone(fasting.UTC) - plan.stop_food.astimezone(fasting.UTC)
    assert elapsed == datetime.timedelta(hours=8)
    assert plan.clocks_change


def test_when_the_clocks_go_back_the_hours_are_real_hours():
    # 25 October 2026: 2am BST becomes 1am GMT. 8am arrival minus 8 real hours is the first
    # 1am (still summer time), not midnight.
    plan = fasting.plan(london(2026, 10, 25, 8, 0), 0, Decimal("8"), Decimal("2"))
    assert wall_clock(plan.stop_food) == "2026-10-25 01:00"
    assert plan.stop_food.utcoffset() == datetime.timedelta(hours=1)
    assert wall_clock(plan.stop_clear_fluids) == "2026-10-25 06:00"
    assert plan.clocks_change


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_earlier():
    with pytest.raises(fasting.TimeDoesNotExist):
        london(2026, 3, 29, 1, 30)
    assert london(2026, 10, 25, 1, 30).utcoffset() == datetime.timedelta(hours=1)


def test_no_hours_means_no_fasting():
    plan = fasting.plan(london(2026, 6, 10, 14, 0), 30, None, None)
    assert plan.stop_food is None and plan.stop_clear_fluids is None
    assert not plan.fasting


def test_durations_read_plainly():
    assert fasting.duration(Decimal("6")) == "6 hours"
    assert fasting.duration(Decimal("1.5")) == "1 hour 30 minutes"
    assert fasting.duration(Decimal("0.5")) == "30 minutes"


# -- the appointment sheet -------------------------------------------------------------------


@pytest.fixture
def fasting_leaflet(published, department):
    procedure = published.procedure
    procedure.food_hours, procedure.clear_fluids_hours = Decimal("6"), Decimal("2")
    procedure.save()
    department.procedures.add(procedure)
    return published


def appointment_form(department, **changes):
    return {
        "date": "2026-12-02",
        "time": "14:30",
        "arrive_minutes_before": 30,
        "department": department.pk,
        **changes,
    }


@needs_pdf
def test_the_appointment_sheet_is_a_pdf_with_the_patients_times(client, fasting_leaflet, department):
    before = row_counts()
    response = client.post(APPOINTMENT_URL, appointment_form(department))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    pages = pages_text(response.content)
    sheet = pages[0]
    assert "Name:" in sheet
    assert "Arrive at 2pm on Wednesday 2 December 2026, 30 minutes before your appointment" in sheet
    assert "Stop eating at 8am on Wednesday 2 December 2026." in sheet
    assert "Stop drinking clear fluids at midday on Wednesday 2 December 2026." in sheet
    assert "counted back from when you arrive" in sheet
    assert "Level 2" in sheet and "01632 960 555" in sheet
    assert "What is it?" in " ".join(pages[1:])  # the leaflet follows on the next page
    assert row_counts() == before


def test_the_appointment_sheet_as_a_printable_page(client, fasting_leaflet, department):
    response = client.post(APPOINTMENT_URL + "?format=html", appointment_form(department, time="00:30"))
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "Stop eating at 6pm on Tuesday 1 December 2026." in body
    assert "Arrive at midnight on Wednesday 2 December 2026" in body


def test_the_appointment_form_asks_no_name_and_posts(client, fasting_leaflet):
    response = client.get(APPOINTMENT_URL)
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert 'method="post"' in body
    assert not re.search(r'name="[^"]*name[^"]*"', body)


def test_a_procedure_without_fasting_says_so(client, published, department):
    department.procedures.add(published.procedure)
    response = client.post(APPOINTMENT_URL + "?format=html", appointment_form(department))
    body = response.content.decode()
    assert "You do not need to stop eating or drinking before this procedure." in body
    assert "Stop eating" not in body


def test_a_time_the_clocks_skip_is_sent_back_to_the_form(client, fasting_leaflet, department):
    response = client.post(APPOINTMENT_URL, appointment_form(department, date="2026-03-29", time="01:30"))
    assert response.status_code == 400
    assert "this time does not exist" in response.content.decode()


# -- clinic packs ----------------------------------------------------------------------------


@pytest.fixture
def two_leaflets(long_leaflet, make_procedure, make_draft):
    other = make_draft(make_procedure("nephrostomy", title="Nephrostomy"))
    workflow.publish(other)
    make_draft(make_procedure("secret-draft", title="Secret draft procedure"))
    return long_leaflet, other


def test_a_pack_is_for_staff_only(client):
    response = client.get(PACK_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.post(PACK_URL, {"title": "x", "leaflets": ["kidney-biopsy"]}).status_code == 302


def test_the_pack_form_offers_published_leaflets_only(staff_client, two_leaflets):
    body = staff_client.get(PACK_URL).content.decode()
    assert "Kidney biopsy" in body and "Nephrostomy" in body
    assert "Secret draft" not in body and "secret-draft" not in body
    assert "<legend>Biopsies</legend>" in body  # grouped by category
    response = staff_client.post(PACK_URL, {"title": "Clinic", "leaflets": ["secret-draft"]})
    assert response.status_code == 400


@needs_pdf
def test_a_pack_is_one_pdf_with_a_cover_and_page_numbers_in_its_contents(staff_client, two_leaflets):
    response = staff_client.post(
        PACK_URL, {"title": "Tuesday biopsy clinic", "leaflets": ["nephrostomy", "kidney-biopsy"]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = pages_text(response.content)
    cover = pages[0]
    assert "Tuesday biopsy clinic" in cover
    today = timezone.localdate()
    assert f"printed {today.day} {today:%B %Y}" in cover
    for version in two_leaflets:
        title, resource = version.procedure.title, version.procedure.resource_number
        listed = int(re.search(rf"{title} \({resource}, version 1\)[ .]*page (\d+)", cover).group(1))
        # The leaflet starts on the page the contents give: its running footer appears there first.
        assert f"{resource} · Version 1" in pages[listed - 1] and title in pages[listed - 1]
        assert f"{resource} · Version 1" not in pages[listed - 2]


@needs_pdf
def test_a_pack_can_give_one_department_for_every_contact_box(staff_client, two_leaflets, department):
    form = {"title": "Drains clinic", "leaflets": ["nephrostomy"], "department": department.pk}
    text = " ".join(pages_text(staff_client.post(PACK_URL, form).content))
    assert "Nephrostomy" in text and "Phone: 01632 960 555" in text  # not linked to it otherwise
    assert "Kidney biopsy" not in text


def test_a_clinic_can_save_its_pack_and_pick_it_again(staff_client, two_leaflets, department):
    from procedures.models import ClinicPack

    first, second = two_leaflets
    response = staff_client.post(
        PACK_URL,
        {
            "title": "Tuesday biopsy clinic",
            "leaflets": [first.procedure.slug],
            "department": department.pk,
            "action": "save",
        },
    )
    saved = ClinicPack.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?pack={saved.slug}")
    assert (saved.title, saved.department, list(saved.procedures.all())) == (
        "Tuesday biopsy clinic",
        department,
        [first.procedure],
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Tuesday biopsy clinic" in page
    assert f'value="{first.procedure.slug}"' in page
    ticked = re.search(rf'<input[^>]*value="{first.procedure.slug}"[^>]*>', page).group(0)
    assert "checked" in ticked
    unticked = re.search(rf'<input[^>]*value="{second.procedure.slug}"[^>]*>', page).group(0)
    assert "checked" not in unticked
    # Saving again under the same name and department updates the pack.
    staff_client.post(
        PACK_URL,
        {
            "title": "Tuesday biopsy clinic",
            "leaflets": [first.procedure.slug, second.procedure.slug],
            "department": department.pk,
            "action": "save",
        },
    )
    assert ClinicPack.objects.get().procedures.count() == 2
