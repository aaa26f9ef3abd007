"""Printing for clinics: the leaflet PDF, the QR check page, clinic packs and appointment sheets."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from . import fasting, pdf, usage
from .models import DEFAULT_LANGUAGE, ClinicPack, LeafletVersion, UsageCount, content_language
from .print_forms import AppointmentForm, PackForm
from .views import _current_version, _departments_for, _translation_notes

# A cached PDF never goes stale (its key changes whenever what it shows would), so this only
# lets keys of superseded versions and old layouts expire instead of filling Redis for ever.
PDF_CACHE_SECONDS = 30 * 24 * 60 * 60


def _save_pack(form, user):
    """Save under title + department: a second save with the same name updates the pack."""
    title, department = form.cleaned_data["title"], form.cleaned_data["department"]
    slug = slugify(f"{department.slug if department else 'all'} {title}")[:120]
    saved, _ = ClinicPack.objects.update_or_create(
        slug=slug, defaults={"title": title, "department": department, "updated_by": user}
    )
    saved.procedures.set([v.procedure for v in form.chosen_versions()])
    return saved


def _site_url(request):
    return request.build_absolute_uri("/")


def _filename(version, suffix=""):
    procedure = version.procedure
    return f"{procedure.resource_number}-v{version.number}-{procedure.slug}{suffix}.pdf"


def _pdf_response(document, filename):
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


def _pdf_unavailable(request, procedure=None):
    return render(request, "print/pdf_unavailable.html", {"procedure": procedure}, status=503)


def _departments_shown(request, procedure):
    """The print view's ?department=<slug> narrows the contact box to one department."""
    departments = _departments_for(procedure)
    chosen = request.GET.get("department")
    return [d for d in departments if d.slug == chosen] or departments


def leaflet_pdf_html(request, version, departments, large_print=False):
    """The page WeasyPrint lays out as the leaflet's PDF (css/large-print.css on top for the
    large-print one)."""
    return render_to_string(
        "print/pdf.html",
        {
            "version": version,
            "procedure": version.procedure,
            "departments": departments,
            "large_print": large_print,
            **_translation_notes(version),
        },
        request=request,
    )


def leaflet_pdf(request, slug, large_print=False):
    """The leaflet as an A4 PDF; `large_print` for the large-print one: the same templates and
    text with css/large-print.css on top (18 pt body text)."""
    version = _current_version(slug)
    if not pdf.AVAILABLE:
        return _pdf_unavailable(request, version.procedure)
    departments = _departments_shown(request, version.procedure)
    variant = "large-print" if large_print else ""
    key = pdf.leaflet_cache_key(version, departments, _site_url(request), variant=variant)
    document = cache.get(key)
    if document is None:
        # Two first requests at once both render; the result is identical, so that is harmless.
        document = pdf.render(
            leaflet_pdf_html(request, version, departments, large_print), _site_url(request)
        )
        cache.set(key, document, timeout=PDF_CACHE_SECONDS)
    response = _pdf_response(document, _filename(version, f"-{variant}" if variant else ""))
    kind = UsageCount.Kind.LARGE_PRINT if large_print else UsageCount.Kind.PDF_DOWNLOAD
    return usage.mark(response, kind, [version])


def check(request, resource, number):
    """Where the QR code on a printout leads: is the paper in your hand still current?"""
    # A printed translation's code leads to /<language>/check/…: its numbers are its own.
    language = content_language(get_language())
    version = get_object_or_404(
        LeafletVersion.objects.select_related("procedure").filter(
            status__in=[*LeafletVersion.ARCHIVED_STATUSES, LeafletVersion.Status.WITHDRAWN],
            language=language,
        ),
        procedure__resource_number=resource,
        number=number,
    )
    current = LeafletVersion.objects.live(language).filter(procedure=version.procedure).first()
    if current is not None and current.pk == version.pk:
        state, retired_at = "current", None
    elif version.status == LeafletVersion.Status.SUPERSEDED:
        state, retired_at = "replaced", version.retired_at
    else:
        # Withdrawn itself, or a translation still marked published whose English leaflet was
        # withdrawn: either way nobody may rely on it, from the day it was taken off.
        state = "withdrawn"
        retired_at = (
            version.retired_at
            or LeafletVersion.objects.filter(
                procedure=version.procedure, language=DEFAULT_LANGUAGE, status=LeafletVersion.Status.WITHDRAWN
            )
            .order_by("-retired_at")
            .values_list("retired_at", flat=True)
            .first()
        )
    response = render(
        request,
        "procedures/check.html",
        {
            "version": version,
            "procedure": version.procedure,
            "current": current,
            "state": state,
            "retired_at": retired_at,
        },
    )
    # The printed version is counted, not the current one: it shows which old copies are still about.
    return usage.mark(response, UsageCount.Kind.QR_CHECK, [version])


def appointment_html(request, version, department, plan, for_pdf):
    """The appointment sheet: the page WeasyPrint lays out (`for_pdf`), or the print view."""
    return render_to_string(
        "print/appointment.html",
        {
            "layout": "print/pdf.html" if for_pdf else "print/leaflet.html",
            "for_pdf": for_pdf,
            **_translation_notes(version),
            "version": version,
            "procedure": version.procedure,
            "departments": [department],
            "department": department,
            "plan": plan,
        },
        request=request,
    )


@never_cache  # the page holds an appointment time: no browser or proxy may keep a copy
def appointment(request, slug):
    """A leaflet with a first page giving this patient's stop-eating and arrival times.

    Nothing is saved or logged: the form has no name field, is sent by POST (so the time is
    not in the URL or server logs) and the answer is marked no-store.
    """
    version = _current_version(slug)
    procedure = version.procedure
    form = AppointmentForm(request.POST if request.method == "POST" else None, procedure=procedure)
    if not form.is_bound or not form.is_valid():
        return render(
            request,
            "print/appointment_form.html",
            {"form": form, "version": version, "procedure": procedure},
            status=400 if form.is_bound else 200,
        )
    as_html = request.GET.get("format") == "html"
    if not as_html and not pdf.AVAILABLE:
        return _pdf_unavailable(request, procedure)
    plan = fasting.plan(
        form.cleaned_data["appointment"],
        form.cleaned_data["arrive_minutes_before"],
        procedure.food_hours,
        procedure.clear_fluids_hours,
    )
    html = appointment_html(request, version, form.cleaned_data["department"], plan, for_pdf=not as_html)
    if as_html:
        return HttpResponse(html)
    return _pdf_response(pdf.render(html, _site_url(request)), _filename(version, "-appointment"))


@staff_member_required
@never_cache
def pack(request):
    """Several leaflets in one PDF for a clinic, with a cover page and a contents list.

    A clinic's usual set can be saved under a name and picked again next week.
    """
    form = PackForm(request.POST if request.method == "POST" else None)
    saved_packs = ClinicPack.objects.select_related("department")
    chosen = saved_packs.filter(slug=request.GET.get("pack", "")).first()
    if chosen and not form.is_bound:
        form.fill_from(chosen)
    if not form.is_bound or not form.is_valid():
        return render(
            request,
            "print/pack_form.html",
            {"form": form, "saved_packs": saved_packs},
            status=400 if form.is_bound else 200,
        )
    if request.POST.get("action") == "save":
        saved = _save_pack(form, request.user)
        messages.success(request, _("Saved “%(pack)s”. Pick it from the list next time.") % {"pack": saved})
        return redirect(reverse("procedures:pack") + f"?pack={saved.slug}")
    if not pdf.AVAILABLE:
        return _pdf_unavailable(request)
    department = form.cleaned_data["department"]
    leaflets = [
        {
            "version": version,
            "departments": [department] if department else _departments_for(version.procedure),
            "id_prefix": f"leaflet-{number}-",
        }
        for number, version in enumerate(form.chosen_versions(), start=1)
    ]
    title = form.cleaned_data["title"]
    html = render_to_string(
        "print/pack.html",
        {"title": title, "department": department, "leaflets": leaflets, "today": timezone.localdate()},
        request=request,
    )
    document = pdf.render(html, _site_url(request))
    response = _pdf_response(document, f"clinic-pack-{slugify(title) or 'leaflets'}.pdf")
    printed = [leaflet["version"] for leaflet in leaflets]
    return usage.mark(response, UsageCount.Kind.PACK_PRINT, printed)
