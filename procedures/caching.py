"""Fast public pages at any library size: a page cache that never needs purging, and HTTP
caching headers that let browsers, proxies and a CDN keep what they may.

The scheme: one "library generation" in every key
-------------------------------------------------
A public page depends on (a) what the library holds, (b) today's date (the "review overdue"
line), (c) the code, templates and static files of this deploy and (d) the address asked for.
The cache key holds all four, and what can differ between app servers sharing one cache (whether
WeasyPrint is installed, which the leaflet page mentions; the site and organisation names):

    page:<sha256 of deploy | server variant | library token | today | language | scheme://host/path?query>

(a) is the library generation: one database row (`LibraryGeneration`) whose random token is
replaced whenever something patients can see changes, in the same transaction as the change:

- a version is published, superseded or withdrawn: procedures/workflow.py calls
  `library_changed()` as the last part of each of those steps;
- a procedure, category, department or glossary term is saved or deleted, or a department's
  list of procedures changes (model signals, connected in ProceduresConfig.ready).

Draft saves change nothing patients see, so they leave the token alone. Anything written in
bulk without save() (bulk_create, QuerySet.update) must call `library_changed()` itself, as
make_scale_data does.

Reading the token is one primary-key SELECT, and each worker process keeps what it read for
STATE_MEMO_SECONDS (a quarter of a second), so under load most requests run no query at all.
The trade-off: a change made in another process (another worker or app server, a management
command) reaches this one up to STATE_MEMO_SECONDS late, so for that long a patient may still
get the page as it was before a publish or a withdrawal (a CDN's max-age is far longer). A
change made in this process is seen at once: `library_changed()` makes it forget the token
when the change is committed. Code inside a transaction (ATOMIC_REQUESTS, an atomic block in
a command, the tests' rolled-back transactions) reads the database every time and keeps
nothing: a transaction must see its own changes, and a token it read must not outlive a
rollback.

The token lives in the database rather than in the cache so that every app server, every
worker process and every management command (load_content, make_scale_data) agree on it: a
bump kept in one worker's memory cache would never reach the others. It is random rather than
a counter so that a rolled-back transaction, a database restored from a backup or a test
database can never reuse a value whose pages are still in the cache with other content.
Publishing therefore needs no purge: the next request asks for a key nobody has used, renders
the page once and stores it. Old entries are never read again and simply expire
(PAGE_CACHE_SECONDS) or are evicted.

Served early: PageCacheMiddleware
---------------------------------
A stored page is answered by `PageCacheMiddleware`, first in MIDDLEWARE, before any other
middleware has run: no security, CSP, session, user, messages, CSRF, axes, history or locale
work, no URL resolving, no view. What it needs to find the key is in the request (scheme, host,
path and query; the language, from the address as LocaleMiddleware would choose it) and in
`page_state()` (the token, today). What it stores is the page as it left the whole stack below
it: the body and every header, in order (CSP, Permissions-Policy, X-Frame-Options,
Content-Language, Content-Length, Vary, ETag, Last-Modified, Cache-Control, and
SecurityMiddleware's nosniff, Referrer-Policy, Cross-Origin-Opener-Policy and, over HTTPS,
HSTS), so a hit carries exactly the headers of the same page made by the whole stack. Settings
from the environment that those headers depend on are in the key (`VARIANT_SETTINGS`), so
changing one never leaves old headers in the cache. public_page() renders and marks a page to
store (`page_cache_key`); the middleware stores it on its way out, once every header is on it,
and only if it is still the same for everyone (no cookie, still public).

A request with a session or messages cookie, an Authorization header or a method other than
GET or HEAD is never looked up: it goes down the whole stack and gets a fresh, private page. So
does the English home page for a browser that prefers another language (it is sent there), a
failed If-Match, and any request when the database cannot be read (the 503 page comes from
below). A plain-HTTP request where HTTPS is required finds nothing (pages are only made after
SecurityMiddleware's redirect) and is redirected below; so is a Host header that is not ours,
refused below with a 400. What still runs on a hit: Django's WSGI handler (request object,
request_started and request_finished signals), the key (one SHA-256), one cache read (and
unpickling what it holds), and the library token (usually kept; see above).

Earlier still: StoredPageFront
------------------------------
Even that is more than a bare Django view costs, so `ir_portal/wsgi.py` puts `StoredPageFront`
in front of Django's WSGI handler. Each process keeps the pages it has recently stored or read
from the cache ready in memory (up to READY_BYTES, least recently served dropped first) in
the form Django's handler would send them: the status, the list of headers and the bytes,
plain and gzipped. A GET that is not conditional, for a page kept ready, is answered there
with no Django request cycle at all: the same checks as above (not personal, not a static
file, the English home page only for a browser that wants English), the same key, and the
headers and bytes the same page has from PageCacheMiddleware. It answers only while the
library token it keeps is fresh (`kept_library_state`): the request that finds it
STATE_MEMO_SECONDS old goes to Django, which reads it again (and answers the 503 page if the
database is down), so the front never serves a page longer after a change than the
middleware would. A page kept ready needs no purging for the same reason as the cache: its key
changes with whatever the page depends on. Everything else (HEAD, conditional requests, pages
not kept ready, anything personal) goes to Django unchanged. The test client and the tests'
live server call Django's handler directly: tests/test_caching.py calls the front itself.

A flood of new searches is answered there too. The search view's "Search is busy" page (a
429, the same for everyone refused for that reason at that address: views._searching_paused)
is kept ready with every header the stack gave it, and the front sends it when
views.refused_search() says the view would refuse the request without searching, working out
Retry-After afresh: so a refused search costs about what a page kept ready costs, and the
workers stay free for the leaflets (bench/bench_search.py, the flood runs).

Where a public page is served: every answer to a public page leaves through the one `return`
of `PageCacheMiddleware.__call__`, from the cache (the miss branch not taken) or made by
public_page() below (marked with `page_cache_key` when it is to be stored), or through
StoredPageFront's, from memory. Anything that must happen once per page served, such as
counting views, belongs just before those two returns.

Search results (`search_key`) are kept under (the normalised query, the page's language, the
library generation), as pages are; the search page itself is stored like any public page.

HTTP: the hashed key is the ETag, so a browser or CDN revalidating a page with If-None-Match
costs at most one query and no rendering (304), from the stored page's headers in the
middleware or, when the page is not stored, from public_page(). Last-Modified is when the token last changed
(or local midnight, or the deploy, whichever is later). A 200 answer says
`public, max-age=PUBLIC_PAGE_MAX_AGE, stale-while-revalidate=…, stale-if-error=…`: a CDN may
keep a page that long after a change, so keep the max-age short.

Compressed: a stored page is kept gzipped as well (made once, when it is stored) and sent so
to a browser that says it accepts gzip, which every browser does: a phone on a slow network
gets the largest leaflet in about 11 KB instead of 37 KB, and the worker spends less time writing it.
Both forms say `Vary: Accept-Encoding`, and the gzipped one has the weak form of the ETag, as
Django's GZipMiddleware gives it. Only pages that are the same for everyone are stored, so no
compressed body ever holds a secret beside text someone else chose (the BREACH attack).

Usage counts: a page served from the cache counts as the rendered one did. The view's marks
(procedures/usage.py) are stored with the page, and PageCacheMiddleware, which every answer
leaves through, calls usage.count() for each one, which costs no SQL (counts are written in
batches). A 304 is not counted.

Never stored, never marked public
---------------------------------
- requests with a session or messages cookie or an Authorization header (staff, who may see
  staff-only links) and any request other than GET or HEAD: rendered fresh and marked
  `private, no-store` — the page cache is never even read for them;
- answers other than 200, streaming answers, and answers that set a cookie, used a CSRF token,
  queued a message, changed the session or put a CSP nonce in the page;
- drafts: public views answer 404 for them, and the admin preview is an admin view (Django
  marks every admin page no-store) that nothing here wraps.
"""

import functools
import hashlib
import logging
import re
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from time import time as wall_clock
from typing import NamedTuple

import django
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.dispatch import receiver
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.http.response import ResponseHeaders
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, parse_http_date, quote_etag
from django.utils.text import compress_string
from django.utils.translation import (
    get_language,
    get_language_from_path,
    get_language_from_request,
    override,
)

from . import usage

logger = logging.getLogger(__name__)

# What the deploy fingerprint reads: a deploy that changes any of it gets fresh keys. locale/
# holds the interface's translations: a deploy that only fixes one must not keep old pages.
DEPLOY_FOLDERS = ("ir_portal", "procedures", "templates", "static", "locale")
GENERATION_PK = 1
# How long a worker process goes on using the library token it last read (see above).
STATE_MEMO_SECONDS = 0.25
_memo = None  # (monotonic() when read, (token, changed_at)), or None: read it next time
_today_memo = None  # (today's first and tomorrow's first second, as timestamps; today)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CONDITIONAL_HEADERS = frozenset(
    ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
)
# The messages framework's cookie (CookieStorage.cookie_name; there is no setting for it).
MESSAGES_COOKIE = "messages"


# -- the library generation ----------------------------------------------------------------


def library_state():
    """(token, changed_at) of the library: read from the database at most every
    STATE_MEMO_SECONDS in each process, and every time inside a transaction."""
    global _memo
    database = connections[DEFAULT_DB_ALIAS]
    if database.in_atomic_block:
        return _read_state(database)
    state = kept_library_state()
    if state is None:
        read_at = monotonic()  # before the read: the copy never counts as younger than it is
        state = _read_state(database)
        # A tuple assigned in one step, so gthread workers' threads never see half of one. Two
        # threads refreshing at once both read the database; either answer is right. A thread
        # whose read began just before a change in this process may store the old token after
        # library_changed() forgot it: stale for STATE_MEMO_SECONDS at most, as for other
        # processes.
        _memo = (read_at, state)
    return state


def kept_library_state():
    """The (token, changed_at) this process keeps, while it is fresh; None when knowing it
    would take a query. For StoredPageFront, which answers only what it knows without the
    database. Never set inside a transaction (library_state), so a test's rolled-back
    transaction never leaves it one to use."""
    memo = _memo  # one read of _memo: another thread may replace it
    if memo is not None and monotonic() - memo[0] < STATE_MEMO_SECONDS:
        return memo[1]
    return None


def forget_library_state():
    """Make this process's next library_state() read the database (tests call it between
    tests as they clear the cache)."""
    global _memo
    _memo = None


def _read_state(database):
    """One primary-key SELECT. Raw SQL because public requests run it often: the ORM would
    spend more time building the query than the database spends answering it."""
    with database.cursor() as cursor:
        cursor.execute(_state_sql(), [GENERATION_PK])
        row = cursor.fetchone()
    if row is None:  # a new database that has never had content; the epoch is a fixed date
        return "empty", EPOCH
    return row[0], _as_datetime(row[1])


@functools.lru_cache(maxsize=8)
def _as_datetime(value):
    if isinstance(value, str):  # SQLite without converters
        value = parse_datetime(value)
    if timezone.is_naive(value):  # stored in UTC
        value = value.replace(tzinfo=UTC)
    return value


@functools.cache
def _state_sql():
    from .models import LibraryGeneration

    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('token')}, {quote('changed_at')} "
        f"FROM {quote(LibraryGeneration._meta.db_table)} WHERE {quote('id')} = %s"
    )


def library_changed(*args, **kwargs):
    """Something patients can see changed: every cached page key changes with it.

    Takes any arguments so it can be connected to model signals as it is.
    """
    from .models import LibraryGeneration

    changes = {"token": uuid.uuid4().hex, "changed_at": timezone.now()}
    if not LibraryGeneration.objects.filter(pk=GENERATION_PK).update(**changes):
        try:  # the first change in a new database; a savepoint so a race cannot break the caller
            with transaction.atomic():
                LibraryGeneration.objects.create(pk=GENERATION_PK, **changes)
        except IntegrityError:
            LibraryGeneration.objects.filter(pk=GENERATION_PK).update(**changes)
    # This process must not go on using the old token it keeps: forget it once the new one is
    # committed (at once outside a transaction). Not before: until then other threads must
    # read the old one, and this transaction reads the database anyway (library_state).
    transaction.on_commit(forget_library_state)


def connect_signals():
    """Called from ProceduresConfig.ready(), so management commands bump it too."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import Category, Department, GlossaryTerm, Procedure

    # Status changes of versions are not here: the workflow calls library_changed() itself.
    for model in (Procedure, Category, Department, GlossaryTerm):
        post_save.connect(
            library_changed, sender=model, dispatch_uid=f"library-changed-save-{model.__name__}"
        )
        post_delete.connect(
            library_changed, sender=model, dispatch_uid=f"library-changed-delete-{model.__name__}"
        )
    m2m_changed.connect(
        _procedures_offered_changed,
        sender=Department.procedures.through,
        dispatch_uid="library-changed-department-procedures",
    )


def _procedures_offered_changed(action, **kwargs):
    if action.startswith("post_"):
        library_changed()


# -- keys and headers ------------------------------------------------------------------------


@functools.cache
def deploy_fingerprint():
    """(hash, newest modification time) of this deploy's code, templates and static files."""
    digest, newest = hashlib.sha256(), 0.0
    for folder in DEPLOY_FOLDERS:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode() + b"\0" + path.read_bytes())
                newest = max(newest, path.stat().st_mtime)
    return digest.hexdigest()[:16], newest


def page_state(request):
    """(token, changed_at, today) for this request, read once: by PageCacheMiddleware, or
    else by public_page(), and used again by search_key(). So the page looked up, the page
    stored and the search results kept all belong to the same library generation, and a
    request reads it at most once (inside a test's transaction, every read is a query)."""
    state = getattr(request, "_page_state", None)
    if state is None:
        token, changed_at = library_state()
        state = request._page_state = (token, changed_at, _today())
    return state


def _today():
    """timezone.localdate(), worked out from the clock once a day in each process: the time
    zone conversion would otherwise be a tenth of what a page from the cache costs."""
    global _today_memo
    memo, now = _today_memo, wall_clock()
    if memo is not None and memo[0] <= now < memo[1]:
        return memo[2]
    today = timezone.localdate()
    _today_memo = (_midnight(today), _midnight(today + timedelta(days=1)), today)
    return today


def page_digest(request, token, today, language):
    """32 hex digits (128 bits): the ETag, and the page's key in the cache."""
    fingerprint, _ = deploy_fingerprint()
    address = f"{request.scheme}://{_host(request)}{request.path}?{request.META.get('QUERY_STRING', '')}"
    # The address names the language (a prefix, or none for English); it is in the key as
    # well so that a page can never be served in a language other than the one it was made in.
    parts = (fingerprint, _server_variant(), token, today.isoformat(), language, address)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _host(request):
    """The host name as request.get_host() gives it, without checking it against
    ALLOWED_HOSTS on every page from the cache: a page is only made, and so only stored, for
    a host that passed that check (CommonMiddleware asks first), so another finds nothing."""
    if settings.USE_X_FORWARDED_HOST:
        return request.get_host()
    return request.META.get("HTTP_HOST") or request.get_host()


def _language_of_address(request):
    """The language LocaleMiddleware will choose for this request: the address's prefix, or
    English (prefix_default_language=False), known before that middleware has run."""
    return _language_of_prefix(request.path_info[1:].partition("/")[0])


@functools.lru_cache(maxsize=32)
def _language_of_prefix(segment):
    # Django reads only the first segment of the path (get_language_from_path's pattern).
    return get_language_from_path(f"/{segment}/") or settings.LANGUAGE_CODE


def _server_variant():
    """What differs between app servers sharing one cache, or between tests: whether this one
    can make PDFs (the leaflet page says so) and the settings a stored page carries."""
    return f"pdf={_pdf().AVAILABLE}|{_settings_variant()}"


@functools.cache
def _pdf():
    from . import pdf  # imports WeasyPrint: only when a page is first asked for

    return pdf


# Settings from the environment that are in a stored page: the names printed on every page,
# and headers that are stored with it (Cache-Control's max-age; HSTS and the HTTPS redirect,
# as SecurityMiddleware's headers are stored too). Django's version: what is stored includes
# its objects (response headers; models in search results).
VARIANT_SETTINGS = (
    "PORTAL_NAME",
    "ORGANISATION_NAME",
    "PUBLIC_PAGE_MAX_AGE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)


@functools.cache
def _settings_variant():
    return "|".join([*(str(getattr(settings, name)) for name in VARIANT_SETTINGS), django.__version__])


@receiver(setting_changed)
def _forget_settings_variant(**kwargs):
    _settings_variant.cache_clear()
    _not_pages.cache_clear()
    _is_search.cache_clear()  # ROOT_URLCONF, LANGUAGES
    forget_ready_pages()  # made with the settings before


def _last_modified(changed_at, today):
    """When the page last changed: the library, the day (the "overdue" line) or the deploy."""
    _, deployed = deploy_fingerprint()
    return int(max(changed_at.timestamp(), _midnight(today), deployed))


@functools.lru_cache(maxsize=4)
def _midnight(today):
    return timezone.make_aware(datetime.combine(today, time.min)).timestamp()


def _is_personal(request):
    """A request that may get a page made for one person: never served from or put in a
    shared cache."""
    return (
        request.method not in ("GET", "HEAD")
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or MESSAGES_COOKIE in request.COOKIES
        or "HTTP_AUTHORIZATION" in request.META
    )


def _shareable(request, response):
    """Whether this answer is the same for everyone who asks for this address."""
    session = getattr(request, "session", None)
    queued_messages = getattr(getattr(request, "_messages", None), "_queued_messages", None)
    return not (
        response.streaming
        or response.cookies
        or response.has_header("Cache-Control")  # the view decided for itself
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # a CSRF token is in the page
        or queued_messages
        or (session is not None and session.modified)
        or isinstance(getattr(request, "_csp_nonce", None), str)  # a nonce is in the page
        or _vary(response) - {"cookie", "accept-encoding"}
    )


def _vary(response):
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


def _mark_public(response, etag, last_modified, stored=False):
    response["ETag"] = etag
    response["Last-Modified"] = _http_date(last_modified)
    response["Cache-Control"] = (
        f"public, max-age={settings.PUBLIC_PAGE_MAX_AGE}, "
        f"stale-while-revalidate={settings.PUBLIC_PAGE_STALE_WHILE_REVALIDATE}, "
        f"stale-if-error={settings.PUBLIC_PAGE_STALE_IF_ERROR}"
    )
    if stored:  # a stored page is sent gzipped to browsers that accept it (_store)
        patch_vary_headers(response, ("Accept-Encoding",))


_http_date = functools.lru_cache(maxsize=16)(http_date)


def _mark_private(response):
    if not response.has_header("Cache-Control"):
        add_never_cache_headers(response)
    patch_vary_headers(response, ("Cookie",))


def cache_read(key):
    """What the cache holds under `key`, or None, also when the cache is down."""
    try:
        return cache.get(key)
    except Exception:  # a cache outage must not take the pages down with it
        logger.warning("Page cache unavailable: reading %s", key, exc_info=True)
        return None


def cache_write(key, value):
    try:
        cache.set(key, value, timeout=settings.PAGE_CACHE_SECONDS)
    except Exception:
        logger.warning("Page cache unavailable: writing %s", key, exc_info=True)


# -- serving stored pages early -------------------------------------------------------------


class PageCacheMiddleware:
    """The page cache's front door, right after SecurityMiddleware (see the module docstring).

    A request that may be served from the cache is looked up here, before any other middleware
    has run; a stored page is answered at once (or with a 304). Anything else goes on down the
    stack, and a page that public_page() marked on its way up (`page_cache_key`) is stored
    here, with every header the middleware in between added to it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        may_serve = _may_serve(request)
        key = self.key(request) if may_serve else None
        stored = cache_read(key) if key else None
        response = None
        if stored is not None:
            _keep_ready(key, stored)  # before _from_store, which gives away its headers
            response = _from_store(request, stored)
        if response is None:
            response = self.get_response(request)
            key = getattr(response, "page_cache_key", None)
            if key and _storable(response):
                stored = _store(key, response)
                if stored.gzipped is not None and _accepts_gzip(request):
                    _send_gzipped(response, stored.gzipped)
            elif may_serve and hasattr(response, "kept_refusal") and not response.cookies:
                _keep_refusal_ready(response)
        # Every answer leaves here, from the cache or made below, so this is the one place
        # that counts what it was (procedures/usage.py: only answers a view marked count).
        usage.count(request, response)
        return response

    @staticmethod
    def key(request):
        """The key public_page() would store this request's page under, or None when it
        cannot be known before the rest of the stack has run."""
        try:
            token, _, today = page_state(request)
        except DatabaseError:
            return None  # the database is down: the stack below answers with the 503 page
        return _page_key(request, token, today)


def _page_key(request, token, today):
    try:
        return f"page:{page_digest(request, token, today, _language_of_address(request))}"
    except DisallowedHost:
        return None  # not our host name: the stack below answers 400


def _may_serve(request):
    """Whether a page for this request may come from the cache (see the module docstring)."""
    return not (_is_personal(request) or request.path_info.startswith(_not_pages()))


@functools.cache
def _not_pages():
    # WhiteNoise's files and uploaded pictures are never pages: not looked up.
    return tuple(url for url in (settings.STATIC_URL, settings.MEDIA_URL) if url.startswith("/"))


class StoredPage(NamedTuple):
    """A page as the cache keeps it."""

    content: bytes
    gzipped: bytes | None  # None: too short to be worth it
    headers: object  # Django's ResponseHeaders: each was checked when it was set
    by_language: bool  # varies by the browser's language (only the English home page does)
    marks: tuple  # what the page counts as (procedures/usage.py)


# Below this a gzipped page saves less than the headers that say so cost.
GZIP_AT_LEAST = 860
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding


def _store(key, response):
    """Kept: the body, plain and gzipped, and the headers (Django's own object: a page from the
    cache needs no second check), whether the page varies by the browser's language (see
    _from_store) and what it counts as, so a page from the cache is counted like one made.
    Returns what was stored."""
    content = response.content
    stored = StoredPage(
        content,
        compress_string(content) if len(content) >= GZIP_AT_LEAST else None,
        response.headers,
        "accept-language" in _vary(response),
        usage.marks(response),
    )
    cache_write(key, stored)
    _keep_ready(key, stored)
    return stored


def _accepts_gzip(request):
    return _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) is not None


def _send_gzipped(response, gzipped):
    """The stored page's gzipped body in `response`, with the headers that say so."""
    response.content = gzipped
    response["Content-Length"] = str(len(gzipped))
    response["Content-Encoding"] = "gzip"
    _weaken_etag(response)


def _weaken_etag(response):
    # The compressed bytes differ from the plain ones, so the ETag must not claim they are the
    # same (RFC 9110 8.8.1); If-None-Match compares weakly, so either form still gets a 304.
    etag = response.get("ETag", "")
    if etag and not etag.startswith("W/"):
        response["ETag"] = f"W/{etag}"


def _storable(response):
    """Still the same for everyone once the middleware below has added to it."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and response.get("Cache-Control", "").startswith("public")
        and not _vary(response) - {"cookie", "accept-encoding", "accept-language"}
    )


def _from_store(request, stored):
    """The stored page as this request gets it: 200, or 304 if the browser has it already.
    None sends the request on down the stack: a browser that prefers another language, on
    the English home page, which sends it there (views.in_preferred_language), and a failed
    precondition (If-Match), which public_page() answers."""
    content, gzipped, headers, by_language, marks = stored
    gzip = gzipped is not None and _accepts_gzip(request)
    if by_language and get_language_from_request(request) != settings.LANGUAGE_CODE:
        return None
    answer = None
    if not CONDITIONAL_HEADERS.isdisjoint(request.META):
        answer = get_conditional_response(
            request, etag=headers["ETag"], last_modified=parse_http_date(headers["Last-Modified"])
        )
    if answer is None:
        response = HttpResponse(content)
        response.headers = headers  # unpickled for this request alone: nobody else holds it
        response.usage = marks
        if gzip:
            _send_gzipped(response, gzipped)
        return response
    if answer.status_code != 304:
        return None
    # What a 304 made below would carry: the page's headers but its type, and no body.
    not_modified = HttpResponseNotModified()
    for header, value in headers.items():
        if header != "Content-Type":
            not_modified[header] = "0" if header == "Content-Length" else value
    if gzip:
        _weaken_etag(not_modified)
    return not_modified


# -- earlier still: pages kept ready in each process ----------------------------------------


class StoredPageFront:
    """The WSGI application in front of Django's (ir_portal/wsgi.py): a plain GET for a page
    this process has served from the page cache or stored is answered here, from memory, as
    ready WSGI headers and bytes (see "Earlier still" in the module docstring). Anything else
    goes to Django, and so to PageCacheMiddleware, as before."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        request, page = self.ready_page(environ)
        if page is None:
            return self.application(environ, start_response)
        headers, body = page.gzipped if page.gzipped and _accepts_gzip(request) else page.plain
        if page.refusal is None:
            usage.count_page(request, page.marks)  # as PageCacheMiddleware counts the same page
            # A copy: a WSGI server may add to the list it is given (wsgiref adds Date and Server).
            headers = list(headers)
        else:  # a refused search: when to try again is worked out now, as the view would
            from .views import retry_after

            wait = retry_after(page.refusal)
            headers = [(name, wait if name == "Retry-After" else value) for name, value in headers]
        start_response(page.status, headers)
        return [body]

    @staticmethod
    def ready_page(environ):
        """(request, ReadyPage) for a request this front answers, else (None, None)."""
        # Conditional requests (a 304 or a failed If-Match) and HEAD are PageCacheMiddleware's.
        if environ.get("REQUEST_METHOD") != "GET" or not CONDITIONAL_HEADERS.isdisjoint(environ):
            return None, None
        # Only what is known without the database: Django's stack reads the token when this
        # process's copy is STATE_MEMO_SECONDS old, and answers if the database is down.
        state = kept_library_state()
        if state is None:
            return None, None
        request = WSGIRequest(environ)
        if not _may_serve(request):
            return None, None
        today = _today()
        request._page_state = (*state, today)  # what page_state() would read (see there)
        page = _ready_page(_page_key(request, state[0], today))
        if page is None and _is_search(request.path_info):
            page = _ready_refusal(request)
        if page is None or (
            page.by_language and get_language_from_request(request) != settings.LANGUAGE_CODE
        ):
            return None, None  # the English home page for a browser that prefers another language
        return request, page


class ReadyPage(NamedTuple):
    """A stored page as StoredPageFront sends it: (WSGI headers, body), plain and gzipped."""

    plain: tuple
    gzipped: tuple | None
    by_language: bool
    marks: tuple
    status: str = "200 OK"
    refusal: str | None = None  # a refused search's "Search is busy" page: why (views.BUSY_NOW…)

    @property
    def size(self):
        return len(self.plain[1]) + (len(self.gzipped[1]) if self.gzipped else 0)


# The memory each process gives pages kept ready, the least recently served dropped first. A
# budget in bytes, not a number of pages: the key holds the query string, so anyone can make
# many keys for one page, and some pages are large (the A to Z list of a big library). The
# largest leaflet takes about 50 KB (plain and gzipped), so 16 MB keeps over 300 of them; a page
# over a sixteenth of the budget is never kept ready and comes from PageCacheMiddleware.
READY_BYTES = 16 * 1024 * 1024
_ready = {}  # page key -> ReadyPage, least recently served first
_ready_bytes = 0  # what the pages in _ready take
_ready_lock = threading.Lock()  # gthread workers: one thread's change is not another's


def _keep_ready(key, stored, **refused):
    """Keep a page that was just stored or read from the cache ready for StoredPageFront.
    Its key names everything the page depends on, so it needs no purging: after a publish
    or at midnight nobody asks for that key again and it is dropped in its turn. `refused`:
    the status and refusal of a refused search's page (_keep_refusal_ready)."""
    global _ready_bytes
    if key in _ready or len(stored.content) + len(stored.gzipped or b"") > READY_BYTES // 16:
        return
    page = ReadyPage(
        _wsgi_form(stored, gzip=False),
        _wsgi_form(stored, gzip=True) if stored.gzipped is not None else None,
        stored.by_language,
        stored.marks,
        **refused,
    )
    with _ready_lock:
        if key in _ready:  # another thread was quicker
            return
        _ready[key] = page
        _ready_bytes += page.size
        while _ready_bytes > READY_BYTES:
            _ready_bytes -= _ready.pop(next(iter(_ready))).size


def _keep_refusal_ready(response):
    """A refused search's "Search is busy" page (views._searching_paused) as the whole stack
    made it: the same for everyone who is refused for that reason at that address, as the
    view keeps its body (caching.kept_key). Never gzipped: the phone on a slow network is not
    the one flooding the site, and a refusal must cost as little as it can."""
    key, refusal = response.kept_refusal
    stored = StoredPage(response.content, None, response.headers, False, ())
    status = f"{response.status_code} {response.reason_phrase}"
    _keep_ready(key, stored, status=status, refusal=refusal)


def _ready_refusal(request):
    """The kept "Search is busy" page for a new search the view would refuse (views.refused_search),
    when this process has it ready; else None, and Django answers."""
    from .views import refused_search

    try:
        refusal = refused_search(request)
        return _ready_page(kept_key(request, refusal)) if refusal else None
    except DisallowedHost:
        return None  # not our host name: the stack below answers 400


@functools.lru_cache(maxsize=256)
def _is_search(path_info):
    """Whether the address is the search page's, in any language (/search/, /ar/search/ …),
    resolved as Django will resolve it: in the address's language (i18n_patterns). Kept for
    the few addresses asked for most, as resolving costs a quarter of a refused search."""
    with override(_language_of_prefix(path_info[1:].partition("/")[0])):
        try:
            return resolve(path_info).view_name == "procedures:search"
        except Resolver404:
            return False


def _ready_page(key):
    with _ready_lock:
        page = _ready.pop(key, None)
        if page is not None:
            _ready[key] = page  # now the most recently served
    return page


def _wsgi_form(stored, gzip):
    """The headers and body Django's WSGI handler sends for this stored page from the cache."""
    response = HttpResponse(stored.content)
    response.headers = ResponseHeaders(stored.headers)  # a copy: the stored ones are not ours
    if gzip:
        _send_gzipped(response, stored.gzipped)
    return list(response.items()), response.content


def forget_ready_pages():
    """Drop every page this process keeps ready (tests clear it with the cache)."""
    global _ready_bytes
    with _ready_lock:
        _ready.clear()
        _ready_bytes = 0


# -- the decorators ------------------------------------------------------------------------


def public_page(view=None, *, store=True):
    """For a page that is the same for every patient: ETag, Last-Modified and public
    Cache-Control, and stored by PageCacheMiddleware once made, under the library generation.
    `store=False` keeps the HTTP headers but not the server-side copy (PDFs: cached by pdf.py).
    """
    if view is None:
        return functools.partial(public_page, store=store)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if _is_personal(request):
            response = view(request, *args, **kwargs)
            _mark_private(response)
            return response

        token, changed_at, today = page_state(request)
        digest = page_digest(request, token, today, get_language())
        etag, last_modified = quote_etag(digest), _last_modified(changed_at, today)
        not_modified = (
            get_conditional_response(request, etag=etag, last_modified=last_modified)
            if CONDITIONAL_HEADERS.intersection(request.META)
            else None
        )
        if not_modified is not None:
            if not_modified.status_code == 304:
                _mark_public(not_modified, etag, last_modified, stored=store)
            return not_modified

        response = _render(view, request, *args, **kwargs)
        if response.status_code != 200:
            _mark_uncached(response)
            return response
        if not _shareable(request, response):
            _mark_private(response)
            return response
        _mark_public(response, etag, last_modified, stored=store)
        if store:
            response.page_cache_key = f"page:{digest}"
        return response

    wrapper.public_page = True  # tests/test_caching.py checks every public address has it
    return wrapper


def _render(view, request, *args, **kwargs):
    try:
        return view(request, *args, **kwargs)
    except Http404 as missing:
        # Made into the site's 404 page here rather than by the handler, so that it can be
        # marked: a CDN may otherwise keep a 404 for minutes after the leaflet is published.
        return response_for_exception(request, missing)


def _mark_uncached(response):
    """404s, 410s, 429s and redirects change when something is published: ask every time."""
    if not response.has_header("Cache-Control"):
        patch_cache_control(response, no_cache=True)


# -- search results --------------------------------------------------------------------------


def kept_key(request, name):
    """For an answer that is the same for everyone at this address whatever its query string
    asks (the "Search is busy" page): the page's key without the query, and `name`."""
    token, _, today = page_state(request)
    fingerprint, _ = deploy_fingerprint()
    address = f"{request.scheme}://{request.get_host()}{request.path}"
    language = _language_of_address(request)  # as the view's, and known before Django runs
    parts = (name, fingerprint, _server_variant(), token, today.isoformat(), language, address)
    return f"{name}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def search_key(request, query):
    """Where the results of searching for `query` are kept: under the query as the search
    treats it (search.normalise: "Kidney  TUBE" is "kidney tube"), the page's language and
    the library generation, so a search after a publish finds the new leaflet at once."""
    from .search import normalise

    token, _, _ = page_state(request)
    fingerprint, _ = deploy_fingerprint()
    parts = (fingerprint, token, _language_of_address(request), normalise(query))
    return "search:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
