"""Information prescriptions: clinic staff give a patient a short link and a QR code that open
the chosen leaflets, always the current versions, in the patient's language; the link expires
or can be revoked, and nothing about the patient is kept."""

import datetime
import logging
import re
import string

import pytest
import segno
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from procedures import qr, sending, workflow
from procedures.models import Prescription, add_months

from .test_translations import new_english_version, translate

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    """A visitor who is not signed in (staff_client signs in the `client` fixture itself)."""
    return Client()


MAKE_URL = reverse("procedures:prescription_make")


@pytest.fixture
def two_leaflets(published, make_procedure, make_draft):
    other = make_draft(make_procedure("nephrostomy", title="Nephrostomy"))
    workflow.publish(other)
    return published, other


def make_prescription(staff_client, slugs, **fields):
    response = staff_client.post(MAKE_URL, {"leaflets": slugs, "language": "en-gb", "months": 6, **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Prescription.objects.get(code=response["Location"].rstrip("/").rsplit("/", 1)[-1])


def patient_url(prescription):
    return f"/p/{prescription.code}/"


def staff_page(staff_client, prescription):
    url = reverse("procedures:prescription_made", args=[prescription.code])
    return staff_client.get(url).content.decode()


# -- staff make one ------------------------------------------------------------------------


def test_making_one_is_for_staff_only(client, published):
    for response in (client.get(MAKE_URL), client.post(MAKE_URL, {"leaflets": ["kidney-biopsy"]})):
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert not Prescription.objects.exists()


def test_staff_get_a_short_link_a_qr_code_and_a_dated_handout(staff_client, two_leaflets):
    form = staff_client.get(MAKE_URL).content.decode()
    assert "Kidney biopsy (IR-T001, version 1)" in form and "Nephrostomy (IR-T002, version 1)" in form
    six_months = add_months(timezone.localdate(), 6)
    assert f"6 months, until {six_months.day} {six_months:%B %Y}" in form

    prescription = make_prescription(staff_client, ["kidney-biopsy", "nephrostomy"])
    assert len(prescription.code) == 12 and prescription.expires_on == six_months
    page = staff_page(staff_client, prescription)
    link = f"http://testserver/p/{prescription.code}/"
    assert f'<p class="prescription-handout__link" dir="ltr">{link}</p>' in page
    svg = re.search(r'<svg role="img".*?</svg>', page, re.DOTALL).group(0)
    drawn = re.search(r' d="([^"]+)"', svg).group(1)
    expected = segno.make_qr(link, error=qr.ERROR_LEVEL).svg_inline()
    assert drawn == re.search(r' d="([^"]+)"', expected).group(1)
    assert f"The link works until {six_months.day} {six_months:%B %Y}." in page
    assert "Kidney biopsy" in page and "Nephrostomy" in page
    assert "Kidney biopsy (IR-T001): version 1 [en]" in page  # the version given, for the record


def test_a_prescription_needs_a_leaflet_and_offers_only_live_ones(
    staff_client, published, make_procedure, make_draft
):
    make_draft(make_procedure("secret-draft", title="Secret draft procedure"))
    assert "Secret draft" not in staff_client.get(MAKE_URL).content.decode()
    response = staff_client.post(MAKE_URL, {"leaflets": ["secret-draft"], "language": "en-gb", "months": 6})
    assert response.status_code == 400
    response = staff_client.post(MAKE_URL, {"language": "en-gb", "months": 6})
    assert response.status_code == 400 and "Choose at least one leaflet." in response.content.decode()
    assert not Prescription.objects.exists()


# -- patients open it -------------------------------------------------------------------------


def test_it_opens_the_current_versions_after_a_new_one_is_published(patient, staff_client, two_leaflets):
    biopsy, _nephrostomy = two_leaflets
    prescription = make_prescription(staff_client, ["kidney-biopsy", "nephrostomy"])
    given_on = timezone.localdate()
    page = patient.get(patient_url(prescription)).content.decode()
    assert page.count("the version you were given on") == 2
    assert f'href="{biopsy.procedure.get_absolute_url()}"' in page
    patient.get(patient_url(prescription))  # now served from the page cache

    new_english_version(biopsy)

    page = patient.get(patient_url(prescription)).content.decode()
    assert (
        f"Version 2. You were first given version 1 on {given_on.day} {given_on:%B %Y}: "
        "it has been updated since."
    ) in page
    assert "Version 1, the version you were given on" in page  # the nephrostomy leaflet
    assert prescription.leaflets.get(procedure=biopsy.procedure).version_given == biopsy  # the record stays


def test_opening_one_costs_the_same_few_queries_for_two_leaflets_or_six(
    patient, staff_client, two_leaflets, make_procedure, make_draft, django_assert_max_num_queries
):
    def queries_to_open(prescription):
        url = patient_url(prescription)
        with django_assert_max_num_queries(4) as rendered:
            assert patient.get(url).status_code == 200
        with django_assert_max_num_queries(1):
            patient.get(url)
        return len(rendered)

    two = queries_to_open(make_prescription(staff_client, ["kidney-biopsy", "nephrostomy"]))
    for number in range(4):
        workflow.publish(make_draft(make_procedure(f"leaflet-{number}")))
    six = queries_to_open(
        make_prescription(staff_client, ["kidney-biopsy", "nephrostomy", *[f"leaflet-{n}" for n in range(4)]])
    )
    assert two == six


def test_a_withdrawn_leaflet_says_so_and_the_rest_still_open(patient, staff_client, two_leaflets):
    biopsy, nephrostomy = two_leaflets
    prescription = make_prescription(staff_client, ["kidney-biopsy", "nephrostomy"])
    workflow.withdraw(nephrostomy)
    response = patient.get(patient_url(prescription))
    assert response.status_code == 200
    page = response.content.decode()
    assert "This leaflet is no longer available" in page
    assert f'href="{biopsy.procedure.get_absolute_url()}"' in page
    assert f'href="{nephrostomy.procedure.get_absolute_url()}"' not in page


def test_it_opens_in_the_patients_language(patient, staff_client, two_leaflets):
    biopsy, nephrostomy = two_leaflets
    arabic = translate(biopsy)
    prescription = make_prescription(staff_client, ["kidney-biopsy", "nephrostomy"], language="ar")
    assert prescription.leaflets.get(procedure=biopsy.procedure).version_given == arabic
    assert prescription.leaflets.get(procedure=nephrostomy.procedure).version_given == nephrostomy

    response = patient.get(patient_url(prescription))
    assert response.status_code == 302 and response["Location"] == f"/ar/p/{prescription.code}/"
    page = patient.get(response["Location"]).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "خزعة الكلية" in page  # the approved translation's title
    assert 'href="/ar/procedures/kidney-biopsy/"' in page
    # The untranslated leaflet is shown in English, marked as such.
    english_title = '<h2 class="card__title" lang="en-GB" dir="ltr"><a href="/ar/procedures/nephrostomy/">'
    assert english_title in page

    # Someone who chose English with the switcher gets English, and that page is never kept.
    patient.cookies["django_language"] = "en-gb"
    english = patient.get(patient_url(prescription))
    assert english.status_code == 200 and '<html lang="en-GB"' in english.content.decode()
    assert "no-store" in english["Cache-Control"]
    del patient.cookies["django_language"]
    assert patient.get(patient_url(prescription)).status_code == 302


def test_the_last_day_works_and_the_day_after_answers_410_with_words(
    patient, staff_client, published, monkeypatch
):
    prescription = make_prescription(staff_client, ["kidney-biopsy"])
    today = timezone.localdate()
    Prescription.objects.filter(pk=prescription.pk).update(expires_on=today)
    assert patient.get(patient_url(prescription)).status_code == 200
    assert patient.get(patient_url(prescription)).status_code == 200  # and now in the page cache

    # The next day (the page cache's keys hold the date, so yesterday's copy is not used): the
    # clock moves on a day, and with it the date each process works out once a day.
    from time import time

    from procedures import caching

    monkeypatch.setattr(timezone, "localdate", lambda *args: today + datetime.timedelta(days=1))
    monkeypatch.setattr(caching, "wall_clock", lambda: time() + 24 * 60 * 60)
    response = patient.get(patient_url(prescription))
    assert response.status_code == 410
    page = response.content.decode()
    assert "This link no longer works" in page
    assert f"It worked until {today.day} {today:%B %Y}." in page
    assert 'href="/procedures/"' in page and "no-cache" in response["Cache-Control"]
    assert "We cannot find that page" not in page  # not the site's 404


def test_a_revoked_link_stops_at_once_even_when_cached(patient, staff_client, published, department):
    prescription = make_prescription(staff_client, ["kidney-biopsy"], department=department.pk)
    url = patient_url(prescription)
    patient.get(url), patient.get(url)  # cached

    changelist = reverse("admin:procedures_prescription_changelist")
    staff_client.post(changelist, {"action": "revoke", "_selected_action": [prescription.pk]})

    prescription.refresh_from_db()
    assert prescription.revoked_at is not None
    response = patient.get(url)
    assert response.status_code == 410
    page = response.content.decode()
    assert "Your care team has stopped this link. You have not done anything wrong." in page
    assert "01632 960 555" in page  # the department's phone number
    for_staff = staff_page(staff_client, prescription)
    assert "This link has been revoked" in for_staff and "Send by email" not in for_staff


def test_an_unknown_code_gets_a_clear_page(client, published):
    response = client.get("/p/not-a-real-code/")
    assert response.status_code == 404
    assert "We cannot find this link" in response.content.decode()
    assert "capital and small letters matter" in response.content.decode()


def test_codes_are_unguessable():
    codes = {Prescription().code for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 12 and set(code) <= set(string.ascii_letters + string.digits + "-_")
    # 12 characters of 64 possible each: 72 bits.
    assert 12 * 6 >= 64


# -- sending the link, and keeping nothing personal ---------------------------------------


def every_stored_value():
    """Every value in every table of the database, as text."""
    values = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._default_manager.values_list():
            values += [str(value) for value in row]
    return "\n".join(values)


def test_nothing_personal_is_stored_when_the_link_is_sent(
    staff_client, published, department, caplog, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    prescription = make_prescription(staff_client, ["kidney-biopsy"], department=department.pk)
    address = "patient.person@example.net"
    with caplog.at_level(logging.DEBUG):
        response = staff_client.post(
            reverse("procedures:prescription_send", args=[prescription.code]),
            {"sender": "email", "email-to": address},
            follow=True,
        )
    assert "Sent. The address was used once and has not been saved." in response.content.decode()
    assert address not in response.content.decode()
    [message] = mail.outbox
    assert message.to == [address]
    assert f"http://testserver/p/{prescription.code}/" in message.body
    assert "01632 960 555" in message.body
    assert "Kidney biopsy" not in message.body + message.subject  # an email can be read by others
    assert address not in every_stored_value()
    assert address not in caplog.text
    # The models have no place for anything about the patient.
    fields = {
        f.name
        for model in (Prescription, apps.get_model("procedures", "PrescribedLeaflet"))
        for f in model._meta.get_fields()
    }
    assert fields == {
        "id",
        "code",
        "language",
        "department",
        "procedures",
        "created_at",
        "expires_on",
        "revoked_at",
        "leaflets",
        "prescription",
        "procedure",
        "version_given",
        "position",
    }


def test_the_message_is_in_the_patients_language(staff_client, published, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    prescription = make_prescription(staff_client, ["kidney-biopsy"], language="pl")
    staff_client.post(
        reverse("procedures:prescription_send", args=[prescription.code]),
        {"sender": "email", "email-to": "someone@example.net"},
    )
    [message] = mail.outbox
    assert message.subject.startswith("Informacje")
    assert f"/p/{prescription.code}/" in message.body


def test_a_failed_email_says_so_and_keeps_nothing(staff_client, published, settings):
    # A real SMTP connection to a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 5
    prescription = make_prescription(staff_client, ["kidney-biopsy"])
    response = staff_client.post(
        reverse("procedures:prescription_send", args=[prescription.code]),
        {"sender": "email", "email-to": "someone@example.net"},
    )
    assert response.status_code == 502
    assert "The email could not be sent" in response.content.decode()
    assert "someone@example.net" not in every_stored_value()


def test_a_mistyped_address_is_explained(staff_client, published):
    prescription = make_prescription(staff_client, ["kidney-biopsy"])
    response = staff_client.post(
        reverse("procedures:prescription_send", args=[prescription.code]),
        {"sender": "email", "email-to": "not an address"},
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


class RecordingTextMessages(sending.Sender):
    """Stands in for a trust's SMS gateway, which cannot run here: it keeps what it was given."""

    name = "sms"
    label = "Send by text message"
    field = sending.forms.CharField(label="Mobile phone number", max_length=20)
    sent = []

    def send(self, to, subject, text):
        self.sent.append((to, text))


def test_an_sms_sender_plugs_in_through_the_setting(staff_client, published, settings):
    settings.PRESCRIPTION_SENDERS = [
        "procedures.sending.EmailSender",
        "tests.test_prescriptions.RecordingTextMessages",
    ]
    prescription = make_prescription(staff_client, ["kidney-biopsy"])
    page = staff_page(staff_client, prescription)
    assert "Send by email" in page and "Send by text message" in page
    staff_client.post(
        reverse("procedures:prescription_send", args=[prescription.code]),
        {"sender": "sms", "sms-to": "07700 900123"},
    )
    [(to, text)] = RecordingTextMessages.sent
    assert to == "07700 900123" and f"/p/{prescription.code}/" in text
    assert "07700 900123" not in every_stored_value()
