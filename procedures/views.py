"""Public pages. Patients only ever see published versions; drafts 404 on every URL."""

import functools
import ipaddress
from itertools import groupby

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, OuterRef, Q, Subquery, TextField, Value
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import (
    get_language,
    get_language_from_path,
    get_language_from_request,
    override,
)
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from . import caching, throttle, usage
from . import search as search_backend
from .context_processors import site
from .models import (
    DEFAULT_LANGUAGE,
    Category,
    Department,
    GlossaryTerm,
    LeafletVersion,
    Procedure,
    UsageCount,
    content_language,
    interface_language,
)

SEARCH_MAX_LENGTH = 200
# New searches (ones not already in the cache) one address may make in an hour, and the whole
# site. Generous, as a hospital's guest Wi-Fi puts a waiting room behind one address; a
# search someone has made before is served from the cache and never counts.
SEARCH_PER_CLIENT_PER_HOUR = 100
SEARCH_SITE_WIDE_PER_HOUR = 20_000
# New searches one machine makes at once. A new search takes a worker for 10 to 70 ms; more at
# once than this get "Search is busy, try again in a moment" at once, so a flood from many
# addresses leaves the other workers to serve leaflets. Searches made before are not limited.
SEARCHES_AT_ONCE = 1


def _current_version(slug):
    """The live version of a leaflet in the page's language, or the live English version
    when there is no approved translation; 404 when there is no live English version (drafts
    are never shown to patients, and a translation never outlives its English leaflet).

    One query for every live language (a leaflet has a handful at most). The version shown
    carries `english`, the live English version, so the page can say that a translation is
    behind it or that the leaflet is not translated, and `live_languages` for hreflang links.
    """
    by_language = {version.language: version for version in _live_versions().filter(procedure__slug=slug)}
    if not by_language:
        raise Http404("No live leaflet")
    return _shown(by_language, content_language(get_language()))


def _current_versions(procedure_ids, language=None):
    """_current_version for several leaflets in one query: {procedure id: the version shown},
    in `language` (the page's, by default) where a translation is live, else in English.
    Leaflets with no live English version are left out, as _current_version answers 404."""
    language = language or content_language(get_language())
    by_procedure = {}
    for version in _live_versions().filter(procedure_id__in=procedure_ids):
        by_procedure.setdefault(version.procedure_id, {})[version.language] = version
    return {procedure_id: _shown(by_language, language) for procedure_id, by_language in by_procedure.items()}


def _live_versions():
    return LeafletVersion.objects.live().select_related("procedure__category", "approver", "translation_of")


def _shown(by_language, language):
    """Of one leaflet's live versions by language (English always among them: live() keeps a
    translation only beside its live English leaflet), the one to show in `language`."""
    shown = by_language.get(language, by_language[DEFAULT_LANGUAGE])
    shown.english = by_language[DEFAULT_LANGUAGE]
    shown.live_languages = sorted(by_language, key=lambda code: (code != DEFAULT_LANGUAGE, code))
    return shown


def _translation_notes(version):
    """What the page says about its language: not translated yet, or translated from an
    older English version."""
    language = content_language(get_language())
    english = getattr(version, "english", None)
    return {
        "untranslated": language != version.language,
        "behind_english": version.is_behind(english),
        "english": english,
    }


def _departments_for(procedure):
    return list(procedure.departments.order_by("site", "name"))


def choose_language(request, code):
    """The language switcher's links (GET, so they work without JavaScript or a form token):
    remember the choice in the language cookie, then go to `next`, the page in that language.
    """
    if code not in dict(settings.LANGUAGES):
        raise Http404("Unknown language")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        with override(code):
            next_url = reverse("procedures:home")
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    add_never_cache_headers(response)
    return response


def in_preferred_language(view):
    """For the English home page, where people arrive by typing the address: if they chose
    another language before (the cookie) or their browser asks for one we have, go there.

    Only the home page does this. Every other address names its language (English has no
    prefix), so a link that someone shares opens in the language they shared it in, and
    English pages stay cacheable by a CDN without varying on the browser's language.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if get_language_from_path(request.path_info) is None:
            preferred = get_language_from_request(request)  # the cookie, then Accept-Language
            if preferred != settings.LANGUAGE_CODE:
                with override(preferred):
                    response = redirect(reverse("procedures:home"))
                add_never_cache_headers(response)
                patch_vary_headers(response, ("Accept-Language", "Cookie"))
                return response
            response = view(request, *args, **kwargs)
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            return response
        return view(request, *args, **kwargs)

    return wrapper


def home(request):
    categories = Category.objects.annotate(
        leaflet_count=Count("procedures", filter=Q(procedures__in=Procedure.objects.with_published_leaflet()))
    ).filter(leaflet_count__gt=0)
    return render(request, "procedures/home.html", {"categories": categories})


def _listed(procedures):
    """Procedures for a list of links, without the search text and vector: at 10,000 leaflets
    those are most of the bytes, and lists show only titles and summaries.

    On a page in another language each also carries `translated_title` and
    `translated_summary` from its approved translation (None when there is none), in the
    same query."""
    listed = procedures.with_published_leaflet().defer("search_text", "search_document").order_by("title")
    language = content_language(get_language())
    if language == DEFAULT_LANGUAGE:
        # None rather than absent: a template lookup of a missing attribute makes Django
        # list the object's attributes (dir()): more than half of the A to Z page's rendering
        # time at 10,000 leaflets.
        return listed.annotate(
            translated_title=Value(None, output_field=CharField()),
            translated_summary=Value(None, output_field=TextField()),
        )
    translation = LeafletVersion.objects.live(language).filter(procedure=OuterRef("pk"))
    return listed.annotate(
        translated_title=Subquery(translation.values("title")[:1]),
        translated_summary=Subquery(translation.values("summary")[:1]),
    )


def procedure_list(request):
    procedures = _listed(Procedure.objects)
    letters = [
        (letter, list(group)) for letter, group in groupby(procedures, key=lambda p: p.title[0].upper())
    ]
    return render(request, "procedures/procedure_list.html", {"letters": letters})


def category(request, slug):
    category = get_object_or_404(Category, slug=slug)
    procedures = _listed(category.procedures)
    return render(request, "procedures/category.html", {"category": category, "procedures": procedures})


def leaflet(request, slug):
    version = _current_version(slug)
    response = render(
        request,
        "procedures/leaflet.html",
        {
            "version": version,
            "procedure": version.procedure,
            "departments": _departments_for(version.procedure),
            "alternates": _alternates(version),
            **_translation_notes(version),
        },
    )
    return usage.mark(response, UsageCount.Kind.PAGE_VIEW, [version])


def _alternates(version):
    """(language code, URL) of this leaflet in every language it is published in, English
    first, for hreflang links."""
    links = []
    for language in version.live_languages:
        with override(interface_language(language)):
            links.append((interface_language(language), version.procedure.get_absolute_url()))
    return links


def leaflet_version(request, slug, number):
    """An archived version at its stable URL, with a banner if it has been replaced."""
    version = get_object_or_404(
        LeafletVersion.objects.select_related("procedure__category", "approver").filter(
            status__in=[*LeafletVersion.ARCHIVED_STATUSES, LeafletVersion.Status.WITHDRAWN]
        ),
        procedure__slug=slug,
        number=number,
        language=content_language(get_language()),
    )
    if version.status == LeafletVersion.Status.PUBLISHED:
        return redirect(version.procedure.get_absolute_url())
    current = LeafletVersion.objects.live(version.language).filter(procedure=version.procedure).first()
    if version.status == LeafletVersion.Status.WITHDRAWN:
        return render(
            request,
            "procedures/withdrawn.html",
            {
                "version": version,
                "procedure": version.procedure,
                "current": current,
                "departments": _departments_for(version.procedure),
            },
            status=410,
        )
    response = render(
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
    return usage.mark(response, UsageCount.Kind.PAGE_VIEW, [version])


def leaflet_print(request, slug):
    version = _current_version(slug)
    departments = _departments_for(version.procedure)
    chosen = request.GET.get("department")
    if chosen:
        departments = [d for d in departments if d.slug == chosen] or departments
    return render(
        request,
        "print/leaflet.html",
        {
            "version": version,
            "procedure": version.procedure,
            "departments": departments,
            **_translation_notes(version),
        },
    )


def department_list(request):
    return render(request, "departments/list.html", {"departments": Department.objects.all()})


def department(request, slug):
    department = get_object_or_404(Department, slug=slug)
    procedures = _listed(department.procedures)
    return render(request, "departments/detail.html", {"department": department, "procedures": procedures})


def search(request):
    query, too_long = _search_query(request)
    found = {"results": [], "suggestions": []}
    if query:
        key = caching.search_key(request, query)
        found = caching.cache_read(key)
        if found is None:
            # Only a search nobody has made in this library generation reaches the database,
            # so only those count towards the limits; a patient repeating one never does.
            # The same two checks, in the same order, as refused_search() below.
            with throttle.a_free_place("search", SEARCHES_AT_ONCE) as free:
                if not free:
                    return _searching_paused(request, BUSY_NOW)
                if throttle.too_many(
                    request, "search", SEARCH_PER_CLIENT_PER_HOUR, SEARCH_SITE_WIDE_PER_HOUR
                ):
                    return _searching_paused(request, PAUSED)
                found = _search(query)
            caching.cache_write(key, found)
    nothing_found = bool(query) and not found["results"]
    return render(
        request,
        "procedures/search.html",
        {
            "query": query,
            "too_long": too_long,
            **found,
            "departments": Department.objects.all() if nothing_found else [],
        },
    )


def _search(query):
    """What the search page shows for `query`, small enough to keep in the cache."""
    results = search_backend.search(query)
    return {
        "results": [search_backend.Result(search_backend.slim(r.procedure), r.snippet) for r in results],
        "suggestions": [] if results else [search_backend.slim(p) for p in search_backend.suggest(query)],
    }


def _search_query(request):
    """(the query as the search treats it, whether it was cut short)."""
    query = request.GET.get("q", "").strip()
    # Control characters become spaces, so "kidney<tab>tube" is still two words.
    return search_backend.clean(query[:SEARCH_MAX_LENGTH]), len(query) > SEARCH_MAX_LENGTH


# Why a new search is refused: every place on this machine is taken, or the address (or the
# site) has made its hour's new searches. Each is its own kept "Search is busy" page.
BUSY_NOW, PAUSED = "search-busy-now", "search-paused"


def refused_search(request):
    """BUSY_NOW or PAUSED when the search view would refuse this request with that page
    before searching, as far as is known without a query; else None. For StoredPageFront,
    which then answers the kept refusal before Django runs, so a flood's refused searches
    cost what a page kept ready costs (procedures/caching.py). A search whose results are
    kept is never refused; a client first found at its limit is refused by the view, after
    which this process knows (throttle.known_over_limit)."""
    query, _ = _search_query(request)
    if not query or caching.cache_read(caching.search_key(request, query)) is not None:
        return None
    if not throttle.place_free("search", SEARCHES_AT_ONCE):
        return BUSY_NOW
    if throttle.known_over_limit(request, "search", SEARCH_PER_CLIENT_PER_HOUR, SEARCH_SITE_WIDE_PER_HOUR):
        return PAUSED
    return None


def retry_after(refusal):
    """Retry-After for a refused search: a few seconds for a place, the hour's end for a limit."""
    return "5" if refusal == BUSY_NOW else str(throttle.seconds_left())


def _searching_paused(request, refusal):
    """A calm page with the ways that still work (the A to Z list, searches made before, the
    phone numbers), for a search refused as BUSY_NOW or PAUSED.

    A flood is answered with it again and again, so it is made once for each language and
    library generation and kept, without the query (caching.kept_key): a refused search then
    costs a read of the counts and of the cache, not a page to render. Marked `kept_refusal`,
    so that PageCacheMiddleware keeps it ready, with every header, for StoredPageFront."""
    key = caching.kept_key(request, refusal)
    page = caching.cache_read(key)
    if page is None:
        page = loader.render_to_string(
            "procedures/search_paused.html",
            {
                "departments": Department.objects.all(),
                "language_links_to": request.path,
                "right_now": refusal == BUSY_NOW,
            },
            request,
        )
        caching.cache_write(key, page)
    response = HttpResponse(page, status=429)
    response["Retry-After"] = retry_after(refusal)
    response.kept_refusal = (key, refusal)
    return response


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
