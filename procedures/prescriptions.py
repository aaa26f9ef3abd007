"""Information prescriptions: clinic staff pick leaflets for a patient and give them a short
link and a QR code, on screen and on paper. /p/<code>/ opens that set in the patient's
language, always the current versions, each marked with the version first given.

Nothing about the patient is stored (models.Prescription): the code is the only key, it
expires and staff can revoke it in the admin. Sending the link by email (or SMS, once a trust
plugs one in: procedures/sending.py) uses the address once and forgets it.

/p/<code>/ is a public page, cached under the library generation like a leaflet: the same for
everyone with the code, and its cache key holds the date, so it never outlives its expiry
day. Revoking moves the generation on (Prescription.revoke), so a revoked link stops at once.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import get_language, get_language_from_path, override
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import qr, sending, usage
from .models import (
    DEFAULT_LANGUAGE,
    PrescribedLeaflet,
    Prescription,
    UsageCount,
    add_months,
    content_language,
    interface_language,
    text_direction,
)
from .print_forms import PrescriptionForm
from .views import _current_versions

# -- staff: making one -------------------------------------------------------------------------


@staff_member_required
@never_cache
def make(request):
    form = PrescriptionForm(request.POST if request.method == "POST" else None)
    if not form.is_bound or not form.is_valid():
        return render(
            request, "print/prescription_form.html", {"form": form}, status=400 if form.is_bound else 200
        )
    language = content_language(form.cleaned_data["language"])
    chosen = form.chosen_versions()
    with transaction.atomic():
        prescription = Prescription.objects.create(
            language=language,
            department=form.cleaned_data["department"],
            expires_on=add_months(timezone.localdate(), form.cleaned_data["months"]),
        )
        # What the patient is given today: the live version in their language, else English.
        given = _current_versions([v.procedure_id for v in chosen], language=language)
        PrescribedLeaflet.objects.bulk_create(
            [
                PrescribedLeaflet(
                    prescription=prescription,
                    procedure_id=english.procedure_id,
                    version_given=given.get(english.procedure_id, english),
                    position=position,
                )
                for position, english in enumerate(chosen)
            ]
        )
    return redirect("procedures:prescription_made", prescription.code)


def _link(request, prescription):
    """The short link: the address without a language, which opens in the patient's."""
    with override(settings.LANGUAGE_CODE):
        return request.build_absolute_uri(reverse("procedures:prescription", args=[prescription.code]))


def _staff_page(request, prescription, send_forms=None, status=200):
    link = _link(request, prescription)
    language = interface_language(prescription.language)
    with override(language):
        qr_label = _("QR code that opens your leaflets")
    return render(
        request,
        "print/prescription.html",
        {
            "prescription": prescription,
            "leaflets": prescription.leaflets.select_related("procedure", "version_given__procedure"),
            "link": link,
            "qr": qr.qr_svg(link, qr_label),
            "handout_language": language,
            "handout_direction": text_direction(prescription.language),
            "send_forms": send_forms or [sending.SendForm(sender) for sender in sending.senders()],
        },
        status=status,
    )


@staff_member_required
@never_cache
def made(request, code):
    """The link, the QR code and a printable handout for the patient, and the send boxes."""
    prescription = get_object_or_404(Prescription.objects.select_related("department"), code=code)
    return _staff_page(request, prescription)


@staff_member_required
@never_cache
@require_POST
def send(request, code):
    prescription = get_object_or_404(Prescription.objects.select_related("department"), code=code)
    sender = sending.sender_named(request.POST.get("sender", ""))
    if sender is None or prescription.state != "works":
        messages.error(
            request,
            _("This link cannot be sent: it has expired or been revoked.")
            if sender
            else _("This way of sending is not set up."),
        )
        return redirect("procedures:prescription_made", code)
    form = sending.SendForm(sender, request.POST)
    forms = [form if other.name == sender.name else sending.SendForm(other) for other in sending.senders()]
    if not form.is_valid():
        return _staff_page(request, prescription, forms, status=400)
    subject, text = _message(request, prescription)
    try:
        sender.send(form.cleaned_data["to"], subject, text)
    except sending.SendFailed as problem:
        form.add_error("to", str(problem))
        return _staff_page(request, prescription, forms, status=502)
    messages.success(request, _("Sent. The address was used once and has not been saved."))
    return redirect("procedures:prescription_made", code)


def _message(request, prescription):
    """The message in the patient's language. It names no procedure: an email or a text can be
    read by someone else, and the link is all the patient needs."""
    with override(interface_language(prescription.language)):
        subject = _("Information from your care team at %(organisation)s") % {
            "organisation": settings.ORGANISATION_NAME
        }
        lines = [
            _("Your care team has chosen some leaflets for you to read. Open them here:"),
            _link(request, prescription),
            _("The link works until %(date)s.") % {"date": _date(prescription.expires_on)},
        ]
        if prescription.department:
            lines.append(
                _("Questions? Call %(department)s on %(phone)s.")
                % {"department": prescription.department.name, "phone": prescription.department.phone}
            )
    return subject, "\n\n".join(lines)


def _date(day):
    from django.utils.formats import date_format

    return date_format(day, "j F Y")


# -- patients: opening one ----------------------------------------------------------------------


def open_prescription(request, code):
    prescription = Prescription.objects.select_related("department").filter(code=code).first()
    if prescription is None:
        return render(request, "procedures/prescription_gone.html", {"state": "unknown"}, status=404)
    # The short link has no language in it: it opens in the patient's (a link that no longer
    # works too), unless this browser chose English with the language switcher, whose link
    # for English is this address.
    other_language = (
        get_language_from_path(request.path_info) is None and prescription.language != DEFAULT_LANGUAGE
    )
    if other_language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != settings.LANGUAGE_CODE:
        with override(interface_language(prescription.language)):
            response = redirect(reverse("procedures:prescription", args=[code]))
        add_never_cache_headers(response)
        return response
    if prescription.state != "works":
        # 410 Gone, with words: the patient did nothing wrong, and the department can help.
        return render(
            request,
            "procedures/prescription_gone.html",
            {
                "state": prescription.state,
                "prescription": prescription,
                "department": prescription.department,
            },
            status=410,
        )

    page_language = content_language(get_language())
    given = list(prescription.leaflets.select_related("version_given__procedure"))
    shown = _current_versions([item.procedure_id for item in given])
    leaflets = []
    for item in given:
        version = shown.get(item.procedure_id)
        leaflets.append(
            {
                "given": item.version_given,
                "version": version,
                "updated": version is not None and version.pk != item.version_given_id,
                # English text on a page in another language: marked, and an interpreter offered.
                "in_english": (version or item.version_given).language == DEFAULT_LANGUAGE != page_language,
            }
        )
    response = render(
        request,
        "procedures/prescription.html",
        {
            "prescription": prescription,
            "leaflets": leaflets,
            "department": prescription.department,
        },
    )
    if other_language:
        # The English page of a prescription in another language depends on the cookie: it
        # must never be kept and served to someone without it.
        add_never_cache_headers(response)
        patch_vary_headers(response, ("Cookie",))
    return usage.mark(response, UsageCount.Kind.PRESCRIPTION_OPEN, list(shown.values()))
