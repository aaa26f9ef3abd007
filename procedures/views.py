"""Public pages. Patients only ever see published versions; drafts 404 on every URL."""

import ipaddress
from itertools import groupby

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from . import search as search_backend
from .context_processors import site
from .models import Category, Department, GlossaryTerm, LeafletVersion, Procedure

SEARCH_MAX_LENGTH = 200


def _current_version(slug):
    """The live English version of a leaflet, or 404: drafts are never shown to patients."""
    return get_object_or_404(
        LeafletVersion.objects.current().select_related("procedure__category", "approver"),
        procedure__slug=slug,
    )


def _departments_for(procedure):
    return list(procedure.departments.order_by("site", "name"))


def home(request):
    categories = Category.objects.annotate(
        leaflet_count=Count(
            "procedures",
            filter=Q(procedures__versions__status=LeafletVersion.Status.PUBLISHED),
            distinct=True,
        )
    ).filter(leaflet_count__gt=0)
    return render(request, "procedures/home.html", {"categories": categories})


def _listed(procedures):
    """Procedures for a list of links, without the search text and vector: at 10,000 leaflets
    those are most of the bytes, and lists show only titles and summaries."""
    return procedures.with_published_leaflet().defer("search_text", "search_document").order_by("title")


def procedure_list(request):
    procedures = _listed(Procedure.objects)
    letters = [
        (letter, list(group)) for letter, group in groupby(procedures, key=lambda p: p.title[0].upper())
    ]
    return render(request, "procedures/procedure_list.html", {"letters": letters})


def category(request, slug):
    category = get_object_or_404(Category, slug=slug)
    procedures = _listed(category.procedures)
    return render(
        request, "procedures/category.html", {"category": category, "procedures": procedures}
    )


def leaflet(request, slug):
    version = _current_version(slug)
    return render(
        request,
        "procedures/leaflet.html",
        {
            "version": version,
            "procedure": version.procedure,
            "departments": _departments_for(version.procedure),
        },
    )


def leaflet_version(request, slug, number):
    """An archived version at its stable URL, with a banner if it has been replaced."""
    version = get_object_or_404(
        LeafletVersion.objects.select_related("procedure__category", "approver").filter(
            status__in=[*LeafletVersion.ARCHIVED_STATUSES, LeafletVersion.Status.WITHDRAWN]
        ),
        procedure__slug=slug,
        number=number,
        language="en",
    )
    if version.status == LeafletVersion.Status.PUBLISHED:
        return redirect(version.procedure.get_absolute_url())
    current = LeafletVersion.objects.current().filter(procedure=version.procedure).first()
    if version.status == LeafletVersion.Status.WITHDRAWN:
        return render(
            request,
            "procedures/withdrawn.html",
            {"version": version, "procedure": version.procedure, "current": current,
             "departments": _departments_for(version.procedure)},
            status=410,
        )
    return render(
        request,
        "procedures/leaflet.html",
        {
            "version": version,
            "procedure": version.procedure,
            "current": current,
            "departments": _departments_for(version.procedure),
            "archived": True,
        },
    )


def leaflet_print(request, slug):
    version = _current_version(slug)
    departments = _departments_for(version.procedure)
    chosen = request.GET.get("department")
    if chosen:
        departments = [d for d in departments if d.slug == chosen] or departments
    return render(
        request,
        "print/leaflet.html",
        {"version": version, "procedure": version.procedure, "departments": departments},
    )


def department_list(request):
    return render(
        request, "departments/list.html", {"departments": Department.objects.all()}
    )


def department(request, slug):
    department = get_object_or_404(Department, slug=slug)
    procedures = _listed(department.procedures)
    return render(
        request, "departments/detail.html", {"department": department, "procedures": procedures}
    )


def search(request):
    query = request.GET.get("q", "").strip()
    too_long = len(query) > SEARCH_MAX_LENGTH
    # Control characters become spaces, so "kidney<tab>tube" is still two words.
    query = search_backend.clean(query[:SEARCH_MAX_LENGTH])
    results = search_backend.search(query) if query else []
    nothing_found = bool(query) and not results
    return render(
        request,
        "procedures/search.html",
        {"query": query, "results": results, "too_long": too_long,
         "suggestions": search_backend.suggest(query) if nothing_found else [],
         "departments": Department.objects.all() if nothing_found else []},
    )


def glossary(request):
    return render(request, "procedures/glossary.html", {"terms": GlossaryTerm.objects.all()})


@never_cache
def healthz(request):
    """For load balancers: answers 200 only when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def client_address(request):
    """The visitor's IP address, from the header CLIENT_IP_HEADER names (REMOTE_ADDR, or the
    proxy's header), or None. Used for feedback flood control and the admin sign-in lockout.

    In a list ("client, proxy") the last address is the one our own proxy added; the ones
    before it are whatever the client claimed. Anything that is not an address gives None:
    the lockout stores it in an IP address column, which refuses other text.
    """
    value = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


# Error pages: plain words and the way back, never a stack trace (DEBUG is off in production).

def bad_request(request, exception):
    # Often a bad Host header: render without the request, which may be the thing that is wrong.
    return HttpResponse(loader.render_to_string("400.html", site(None)), status=400)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    """A form sent without its security token: usually an old tab, or cookies turned off."""
    return render(request, "403_csrf.html", status=403)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request):
    # No context processors: the database may be the thing that failed.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
