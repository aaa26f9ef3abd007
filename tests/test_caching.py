"""The page cache and HTTP caching: what patients get is never stale after a change, drafts
and per-person pages are never kept, and browsers and CDNs may keep the public pages."""

import gzip
import pickle

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date

from procedures import caching, workflow
from procedures.models import LeafletVersion, LibraryGeneration
from tests.helpers import through_the_front

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _memory_cache(settings):
    # These tests read the cache's entries, so they use the local memory backend even when
    # REDIS_URL is set.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def leaflet_url(version):
    return reverse("procedures:leaflet", args=[version.procedure.slug])


def cached_pages():
    """Every page body in the (local memory) cache, decoded."""
    bodies = []
    for key, value in cache._cache.items():
        if ":page:" in key:
            bodies.append(pickle.loads(value).content.decode())
    return bodies


def publish_new_text(version, **sections):
    draft = workflow.start_new_draft(version, **sections)
    workflow.submit_for_review(draft)
    workflow.publish(draft)
    return draft


def test_a_second_request_is_served_from_the_cache(client, published, django_assert_num_queries):
    first = client.get(leaflet_url(published))
    with django_assert_num_queries(1):  # the library generation only
        second = client.get(leaflet_url(published))
    assert second.content == first.content
    assert len(cached_pages()) == 1


def test_a_new_published_version_is_served_at_once(client, published):
    url = leaflet_url(published)
    assert "Plain words about what is it?" in client.get(url).content.decode()
    client.get(url)  # now certainly cached

    publish_new_text(published, what_it_is="Brand new wording for version two.")

    page = client.get(url).content.decode()
    assert "Brand new wording for version two." in page
    assert "<dt>Version</dt><dd>2</dd>" in page
    archived = client.get(reverse("procedures:leaflet_version", args=[published.procedure.slug, 1]))
    assert "This version has been replaced" in archived.content.decode()


def test_a_withdrawn_leaflet_disappears_at_once(client, published):
    url = leaflet_url(published)
    client.get(url), client.get(url)
    listed = client.get(reverse("procedures:list")).content.decode()
    assert published.procedure.title in listed

    workflow.withdraw(published, comment="Advice changed")

    assert client.get(url).status_code == 404
    assert published.procedure.title not in client.get(reverse("procedures:list")).content.decode()


def test_a_leaflet_published_for_the_first_time_appears_at_once(client, make_procedure, make_draft):
    procedure = make_procedure("liver-biopsy", title="Liver biopsy")
    url = procedure.get_absolute_url()
    missing = client.get(url)
    assert missing.status_code == 404
    assert "no-cache" in missing["Cache-Control"]  # a CDN must ask again, not keep the 404

    workflow.publish(make_draft(procedure))

    assert client.get(url).status_code == 200


def test_a_new_phone_number_shows_at_once(client, published, department):
    department.procedures.add(published.procedure)
    url = leaflet_url(published)
    assert "01632 960 555" in client.get(url).content.decode()

    department.phone = "01632 960 999"
    department.save()

    page = client.get(url).content.decode()
    assert "01632 960 999" in page and "01632 960 555" not in page
    assert "01632 960 999" in client.get(reverse("procedures:departments")).content.decode()


def test_a_draft_never_enters_the_cache(staff_client, published, department, category):
    client = Client()  # the staff_client fixture is pytest-django's `client`, signed in
    draft = workflow.start_new_draft(published, what_it_is="Secret draft wording not yet approved.")
    preview = staff_client.get(reverse("admin:procedures_leafletversion_preview", args=[draft.pk]))
    assert "Secret draft wording" in preview.content.decode()
    assert "no-store" in preview["Cache-Control"] and "private" in preview["Cache-Control"]

    slug = published.procedure.slug
    for url in [
        "/",
        reverse("procedures:list"),
        category.get_absolute_url(),
        leaflet_url(published),
        reverse("procedures:leaflet_print", args=[slug]),
        department.get_absolute_url(),
        reverse("procedures:search") + "?q=secret",
    ]:
        assert "Secret draft wording" not in client.get(url).content.decode(), url

    pages = cached_pages()
    assert len(pages) >= 5
    assert not any("Secret draft wording" in page or "Draft preview" in page for page in pages)
    assert not any(key for key in cache._cache if "admin" in key)


def test_a_matching_etag_gets_304_without_rendering(client, published, django_assert_num_queries):
    url = leaflet_url(published)
    first = client.get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    cache.clear()  # so a 200 would have to render: the 304 must not

    with django_assert_num_queries(1):
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert "max-age=300" in not_modified["Cache-Control"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    publish_new_text(published, what_it_is="Changed.")

    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    earlier = http_date(timezone.now().timestamp() - 3600)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_public_pages_may_be_kept_by_browsers_and_a_cdn(client, published):
    for url in [
        "/",
        reverse("procedures:list"),
        leaflet_url(published),
        reverse("procedures:leaflet_print", args=[published.procedure.slug]),
        reverse("procedures:search") + "?q=kidney",
    ]:
        response = client.get(url)
        control = response["Cache-Control"]
        assert "public" in control and "max-age=300" in control, url
        assert "stale-while-revalidate=" in control, url
        assert response.has_header("ETag") and response.has_header("Last-Modified"), url
        assert not response.cookies, url


def test_staff_get_fresh_private_pages_and_nothing_is_stored(staff_client, published):
    response = staff_client.get(reverse("procedures:leaflet_print", args=[published.procedure.slug]))
    assert response.status_code == 200
    assert "Make a clinic pack" in response.content.decode()  # a staff-only link
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert not response.has_header("ETag")
    assert cached_pages() == []


def test_forms_admin_and_appointment_sheets_are_never_stored(staff_client, published):
    client = Client()
    slug = published.procedure.slug
    answers = [
        client.get(reverse("procedures:appointment", args=[slug])),
        client.post(reverse("procedures:feedback", args=[slug]), {"useful": "yes"}),
        client.post(leaflet_url(published)),
        staff_client.get(reverse("admin:index")),
        staff_client.get(reverse("procedures:pack")),
    ]
    for response in answers:
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
        assert "public" not in response["Cache-Control"]
    assert cached_pages() == []


# -- the decorator on its own: what makes a page personal ------------------------------------


def call(view, request=None):
    """`view` as a public page, through the page cache's middleware, as urls.py serves it."""
    request = request or RequestFactory().get("/somewhere/")
    return caching.PageCacheMiddleware(caching.public_page(view))(request), request


def test_a_plain_page_is_stored():
    # The control for the tests below: the same call stores a page that is not personal.
    response, _ = call(lambda request: HttpResponse("<p>The same for everyone</p>"))
    assert "public" in response["Cache-Control"]
    assert cached_pages() == ["<p>The same for everyone</p>"]


def test_a_page_carrying_a_csrf_token_is_not_stored():
    def form_page(request):
        return HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')

    response, _ = call(form_page)
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert cached_pages() == []


def test_a_page_carrying_a_message_is_not_stored():
    def page_with_message(request):
        request._messages = CookieStorage(request)
        messages.success(request, "Saved")
        return HttpResponse("Saved")

    response, _ = call(page_with_message)
    assert "no-store" in response["Cache-Control"]
    assert cached_pages() == []


def test_a_request_with_a_session_cookie_is_answered_fresh():
    calls = []

    def page(request):
        calls.append(request)
        return HttpResponse(f"page {len(calls)}")

    call(page, RequestFactory().get("/x/"))
    assert cached_pages() == ["page 1"]
    request = RequestFactory().get("/x/")
    request.COOKIES["sessionid"] = "abc"
    response, _ = call(page, request)
    assert response.content == b"page 2"
    assert "private" in response["Cache-Control"]
    assert response["Vary"] == "Cookie"


def test_library_changes_replace_the_generation_token(published, department, category):
    seen = {caching.library_state()[0]}
    for change in [
        lambda: department.save(),
        lambda: department.procedures.add(published.procedure),
        lambda: category.save(),
        lambda: published.procedure.save(),
        lambda: workflow.withdraw(published),
    ]:
        change()
        token = caching.library_state()[0]
        assert token not in seen
        seen.add(token)
    # A draft changes nothing patients see.
    draft = LeafletVersion.objects.create(
        procedure=published.procedure, **dict.fromkeys(("what_it_is",), "x")
    )
    draft.save()
    assert caching.library_state()[0] in seen


@pytest.mark.django_db(transaction=True)
def test_each_process_reads_the_token_at_most_every_quarter_second(monkeypatch, django_assert_num_queries):
    now = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: now[0])
    caching.library_changed()
    with django_assert_num_queries(1):
        token = caching.library_state()[0]
        assert caching.library_state()[0] == token

    # Another process publishes: this one sees it once its copy is STATE_MEMO_SECONDS old.
    LibraryGeneration.objects.filter(pk=caching.GENERATION_PK).update(token="another-process")
    assert caching.library_state()[0] == token
    now[0] += caching.STATE_MEMO_SECONDS
    assert caching.library_state()[0] == "another-process"

    # A change made in this process is seen at once.
    caching.library_changed()
    assert caching.library_state()[0] not in (token, "another-process")

    # Inside a transaction the database is read every time, and what is read is not kept.
    with transaction.atomic(), django_assert_num_queries(2):
        caching.library_changed()
        inside = caching.library_state()[0]
        transaction.set_rollback(True)
    assert caching.library_state()[0] != inside


def test_every_public_address_goes_through_the_page_cache():
    from procedures import urls

    made_for_one_person = {
        "healthz",
        "feedback",
        "feedback_comment",
        "appointment",
        "pack",
        "prescription_make",
        "prescription_made",
        "prescription_send",
    }
    for pattern in urls.urlpatterns:
        if pattern.name not in made_for_one_person:
            assert getattr(pattern.callback, "public_page", False), pattern.name


def test_a_deploy_that_only_fixes_a_translation_gets_fresh_pages(settings, tmp_path):
    # Issue 15, defect 5: the cache keys ignored locale/, so old pages and PDFs kept being
    # served after a deploy that changed only an interface catalogue.
    import shutil

    deploy = tmp_path / "deploy"
    for folder in caching.DEPLOY_FOLDERS:
        shutil.copytree(
            settings.BASE_DIR / folder, deploy / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    settings.BASE_DIR = deploy
    caching.deploy_fingerprint.cache_clear()
    try:
        before = caching.deploy_fingerprint()[0]
        catalogue = deploy / "locale" / "ar" / "LC_MESSAGES" / "django.mo"
        catalogue.write_bytes(catalogue.read_bytes() + b"\0")
        caching.deploy_fingerprint.cache_clear()
        assert caching.deploy_fingerprint()[0] != before
    finally:
        caching.deploy_fingerprint.cache_clear()


def test_a_page_given_a_cookie_below_the_cache_is_not_stored():
    def stack(request):
        response = caching.public_page(lambda request: HttpResponse("page"))(request)
        response.set_cookie("something", "personal")  # as a middleware below the cache might
        return response

    caching.PageCacheMiddleware(stack)(RequestFactory().get("/x/"))
    assert cached_pages() == []


# -- served early: before any middleware but SecurityMiddleware ----------------------------


def made_by_the_whole_stack(response):
    """AuthenticationMiddleware gives every request it sees a user; a page served from the
    cache never reaches it."""
    return hasattr(response.wsgi_request, "user")


def every_kind_of_public_page(published, department):
    department.procedures.add(published.procedure)
    publish_new_text(published, what_it_is="Version two.")  # so that version 1 is archived
    procedure = published.procedure
    # A version's own pages exist in the languages it was written in: English here.
    urls = [
        reverse("procedures:leaflet_version", args=[procedure.slug, 1]),
        reverse("procedures:check", args=[procedure.resource_number, 2]),
    ]
    for language in ("en-gb", "ar"):
        with translation.override(language):
            urls += [
                reverse("procedures:home"),
                reverse("procedures:list"),
                procedure.category.get_absolute_url(),
                procedure.get_absolute_url(),
                reverse("procedures:leaflet_print", args=[procedure.slug]),
                reverse("procedures:departments"),
                department.get_absolute_url(),
                reverse("procedures:glossary"),
                reverse("procedures:search") + "?q=kidney",
            ]
    return urls


def test_every_public_page_is_served_early_with_the_same_headers(client, published, department):
    urls = every_kind_of_public_page(published, department)
    assert any(url.startswith("/ar/") for url in urls)
    for url in urls:
        for secure in (False, True):  # HSTS on HTTPS only
            made = client.get(url, secure=secure)
            assert made.status_code == 200 and made_by_the_whole_stack(made), url
            served = client.get(url, secure=secure)
            assert not made_by_the_whole_stack(served), url
            assert served.status_code == 200 and served.content == made.content, url
            # Every header, with its value, in the same order.
            assert list(served.headers.items()) == list(made.headers.items()), url
    assert "Strict-Transport-Security" in served and "Content-Security-Policy" in served


def test_a_304_from_the_cache_has_the_headers_of_one_made_by_the_whole_stack(client, published):
    for url in (leaflet_url(published), "/"):  # the home page also says Vary
        etag = client.get(url)["ETag"]
        early = client.get(url, HTTP_IF_NONE_MATCH=etag)
        cache.clear()
        late = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert early.status_code == late.status_code == 304
        assert not made_by_the_whole_stack(early) and made_by_the_whole_stack(late)
        assert list(early.headers.items()) == list(late.headers.items())
        assert early.content == b""

    # A stale ETag gets the stored page, still early.
    client.get(leaflet_url(published))
    stale = client.get(leaflet_url(published), HTTP_IF_NONE_MATCH='"not-this-one"')
    assert stale.status_code == 200 and not made_by_the_whole_stack(stale)
    assert "Plain words about" in stale.content.decode()


def test_a_browser_that_accepts_gzip_gets_the_stored_page_gzipped(client, published):
    """Every browser sends Accept-Encoding: gzip; a phone on a slow line gets the page in a
    fraction of the bytes, and a shared cache keeps the two forms apart (Vary)."""
    url = leaflet_url(published)
    browser = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd"}
    made = client.get(url, **browser)  # rendered, stored, and sent gzipped
    served = client.get(url, **browser)
    plain = client.get(url)
    assert made_by_the_whole_stack(made) and not made_by_the_whole_stack(served)
    assert "Content-Encoding" not in plain and "Plain words about" in plain.content.decode()
    for answer in (made, served):
        assert answer["Content-Encoding"] == "gzip"
        assert gzip.decompress(answer.content) == plain.content
        assert int(answer["Content-Length"]) == len(answer.content) < len(plain.content) / 2
        assert answer["ETag"] == f"W/{plain['ETag']}"  # other bytes: not the same strong ETag
        # The other headers are the plain page's, CSP and security headers included.
        changed = {"Content-Encoding", "Content-Length", "ETag"}
        assert {k: v for k, v in answer.headers.items() if k not in changed} == {
            k: v for k, v in plain.headers.items() if k not in changed
        }
    assert "accept-encoding" in caching._vary(plain) and "accept-encoding" in caching._vary(served)

    # Revalidating with either ETag costs no body.
    for etag in (served["ETag"], plain["ETag"]):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag, **browser)
        assert again.status_code == 304 and again.content == b"" and again["ETag"] == served["ETag"]


def test_gzip_is_only_for_browsers_that_ask_for_it(client, published):
    url = leaflet_url(published)
    client.get(url)
    for accepts in ("", "identity", "br", "deflate"):
        answer = client.get(url, HTTP_ACCEPT_ENCODING=accepts)
        assert "Content-Encoding" not in answer, accepts
        assert "Plain words about" in answer.content.decode()


def test_head_gets_the_stored_headers_and_no_body(client, published):
    url = leaflet_url(published)
    made = client.head(url)  # the first request, and the page is stored from it
    served_get, served_head = client.get(url), client.head(url)
    assert not made_by_the_whole_stack(served_get) and not made_by_the_whole_stack(served_head)
    assert made.status_code == served_head.status_code == served_get.status_code == 200
    assert made.content == served_head.content == b""
    assert int(served_get["Content-Length"]) == len(served_get.content) > 1000
    assert list(made.headers.items()) == list(served_head.headers.items()) == list(served_get.headers.items())


def test_a_signed_in_nurse_never_gets_the_stored_page(client, staff, published):
    url = reverse("procedures:leaflet_print", args=[published.procedure.slug])
    anonymous = Client()
    anonymous.get(url)
    assert not made_by_the_whole_stack(anonymous.get(url))  # stored, and served early

    client.force_login(staff)
    page = client.get(url)
    assert made_by_the_whole_stack(page)
    assert "Make a clinic pack" in page.content.decode()  # a staff-only link
    assert "private" in page["Cache-Control"] and not page.has_header("ETag")


def test_the_stored_english_home_page_still_sends_other_languages_to_theirs(client, published):
    client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert english.status_code == 200 and not made_by_the_whole_stack(english)

    arabic = client.get("/", HTTP_ACCEPT_LANGUAGE="ar-EG,ar;q=0.9")
    assert arabic.status_code == 302 and arabic["Location"] == "/ar/"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"  # chosen with the switcher before
    assert client.get("/")["Location"] == "/pl/"


def test_changed_header_settings_reach_pages_already_stored(client, published, settings):
    # A stored page keeps its Cache-Control and HSTS headers: settings from the environment
    # that make them are in the key, so a change is served at once, not when the page expires.
    url = leaflet_url(published)
    client.get(url, secure=True)
    assert not made_by_the_whole_stack(client.get(url, secure=True))

    settings.PUBLIC_PAGE_MAX_AGE = 60
    settings.SECURE_HSTS_SECONDS = 600
    changed = Client().get(url, secure=True)  # SecurityMiddleware reads it when it starts
    assert "max-age=60," in changed["Cache-Control"]
    assert changed["Strict-Transport-Security"].startswith("max-age=600")


# -- StoredPageFront: pages kept ready, answered before Django's handler runs ----------------


@pytest.mark.django_db(transaction=True)  # the token is kept only outside a transaction
def test_a_page_kept_ready_is_sent_before_django_runs_with_the_same_headers_and_bytes(
    published, department, frozen_clock
):
    from procedures import usage

    urls = [leaflet_url(published), "/", "/ar/", department.get_absolute_url(), "/search/?q=kidney"]
    for url in urls:
        path, _, query = url.partition("?")
        for encoding in ("", "gzip, deflate, br, zstd"):
            asks = {"QUERY_STRING": query, "HTTP_ACCEPT_ENCODING": encoding}
            caching.forget_ready_pages()  # so that Django makes it, or reads it from the cache
            made = through_the_front(path, **asks)
            sent = through_the_front(path, **asks)
            assert made[0] == "200 OK" and made[3], url  # made (or read from the cache) by Django
            assert not sent[3], url  # answered by the front
            assert sent[:3] == made[:3], url  # the status, every header in order, the bytes
            assert ("Content-Encoding", "gzip") in sent[1] or not encoding, url
    # The leaflet counts as read each time, from the front as from Django.
    assert sum(usage.pending().values()) == 4


@pytest.mark.django_db(transaction=True)
def test_the_front_never_serves_a_page_longer_after_a_change_than_django_would(published, frozen_clock):
    url = leaflet_url(published)
    through_the_front(url)
    assert not through_the_front(url)[3]

    publish_new_text(published, what_it_is="Brand new wording for version two.")
    made = through_the_front(url)  # a change in this process: seen at once
    assert made[3] and "Brand new wording" in made[2].decode()
    assert not through_the_front(url)[3]

    # Another process publishes: seen once this process's token is STATE_MEMO_SECONDS old,
    # when the request goes to Django again, which reads the token.
    LibraryGeneration.objects.filter(pk=caching.GENERATION_PK).update(token="another-process")
    assert not through_the_front(url)[3]
    frozen_clock[0] += caching.STATE_MEMO_SECONDS
    assert through_the_front(url)[3]


@pytest.mark.django_db(transaction=True)
def test_what_the_front_leaves_to_django(published, staff, frozen_clock):
    url = leaflet_url(published)
    printable = reverse("procedures:leaflet_print", args=[published.procedure.slug])
    for kept in (url, printable, "/"):
        through_the_front(kept)
        assert not through_the_front(kept)[3], kept  # kept ready
    etag = dict(through_the_front(url)[1])["ETag"]
    session = Client()
    session.force_login(staff)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}"
    asks = {
        "a signed-in nurse": (printable, {"HTTP_COOKIE": cookie}),
        "a script with credentials": (url, {"HTTP_AUTHORIZATION": "Basic eDp5"}),
        "HEAD": (url, {"REQUEST_METHOD": "HEAD"}),
        "revalidating": (url, {"HTTP_IF_NONE_MATCH": etag}),
        "another host name": (url, {"HTTP_HOST": "evil.example"}),
        "a browser preferring Arabic": ("/", {"HTTP_ACCEPT_LANGUAGE": "ar-EG,ar;q=0.9"}),
    }
    answers = {name: through_the_front(path, **environ) for name, (path, environ) in asks.items()}
    assert all(answer[3] for answer in answers.values()), {n: a[3] for n, a in answers.items()}
    assert "private" in dict(answers["a signed-in nurse"][1])["Cache-Control"]
    assert "Make a clinic pack" in answers["a signed-in nurse"][2].decode()
    assert answers["revalidating"][0].startswith("304")
    assert answers["another host name"][0].startswith("400")
    assert dict(answers["a browser preferring Arabic"][1])["Location"] == "/ar/"


@pytest.mark.django_db(transaction=True)
def test_pages_kept_ready_stay_within_their_memory_however_many_addresses_are_asked_for(
    published, frozen_clock, monkeypatch
):
    """The key holds the query string, so one page can be asked for under any number of
    addresses: each process keeps at most READY_BYTES of them, the least recently served going."""
    url = leaflet_url(published)
    through_the_front(url)
    page = next(iter(caching._ready.values()))
    # Room for about 16 such pages (the address is in each, so their sizes differ a little).
    monkeypatch.setattr(caching, "READY_BYTES", (page.size + 100) * 16)
    caching.forget_ready_pages()
    for n in range(40):
        through_the_front(url, QUERY_STRING=f"v={n}")
        assert caching._ready_bytes <= caching.READY_BYTES
    assert 15 <= len(caching._ready) <= 16
    assert not through_the_front(url, QUERY_STRING="v=39")[3]  # the latest are kept ready
    assert through_the_front(url, QUERY_STRING="v=0")[3]  # the first went: Django serves it

    # A page over a sixteenth of the budget is never kept ready: it comes from the cache below.
    monkeypatch.setattr(caching, "READY_BYTES", (page.size - 1) * 16)
    caching.forget_ready_pages()
    through_the_front(url)
    assert through_the_front(url)[3] and not caching._ready
