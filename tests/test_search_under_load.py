"""Search that holds under load: results are kept under (the query as search treats it, the
page's language, the library generation), so a search made before costs no database search
and a publish shows at once; new searches are limited per address, with a calm page."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from procedures import throttle, views, workflow
from procedures.models import Department, Procedure, RequestCount
from tests.helpers import through_the_front
from tests.test_caching import cached_pages

pytestmark = pytest.mark.django_db


def search_url(query, prefix=""):
    return f"{prefix}/search/?{urlencode({'q': query})}"


def search(client, query, prefix="", **extra):
    """The search page, and whether the database was searched for it."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(search_url(query, prefix), **extra)
    table = Procedure._meta.db_table
    return response, any(table in q["sql"] for q in queries.captured_queries)


def test_a_search_typed_differently_is_answered_from_the_kept_results(client, published):
    first, searched = search(client, "kidney biopsy")
    assert searched and "Kidney biopsy" in first.content.decode()

    again, searched = search(client, "  KIDNEY\tBiopsy ")
    assert again.status_code == 200 and not searched
    page = again.content.decode()
    assert "Kidney biopsy" in page and 'href="/procedures/kidney-biopsy/"' in page
    assert "“KIDNEY Biopsy”" in page  # what the patient typed, tidied, not the kept form


def test_a_search_after_a_publish_finds_the_new_leaflet(client, published, make_procedure, make_draft):
    procedure = make_procedure("liver-biopsy", title="Liver biopsy")
    before, _ = search(client, "liver")
    assert "No leaflets found" in before.content.decode()
    search(client, "Liver")  # the results are kept, the page too

    workflow.publish(make_draft(procedure))

    after, searched = search(client, "liver")
    assert searched and 'href="/procedures/liver-biopsy/"' in after.content.decode()
    typed_differently, searched = search(client, "Liver")  # kept again, in the new generation
    assert not searched and 'href="/procedures/liver-biopsy/"' in typed_differently.content.decode()

    workflow.withdraw(published, comment="Advice changed")
    gone, _ = search(client, "kidney biopsy")
    assert 'href="/procedures/kidney-biopsy/"' not in gone.content.decode()


def test_kept_results_link_to_the_leaflets_in_the_pages_language(client, published):
    search(client, "kidney")
    arabic, searched = search(client, "kidney", prefix="/ar")
    assert searched  # kept per language
    page = arabic.content.decode()
    assert 'lang="ar"' in page and 'href="/ar/procedures/kidney-biopsy/"' in page
    english, searched = search(client, "Kidney")
    assert not searched and 'href="/procedures/kidney-biopsy/"' in english.content.decode()


def test_new_searches_from_one_address_are_limited_with_a_calm_page(
    client, published, department, monkeypatch
):
    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 3)
    for query in ("kidney", "biopsy", "tube"):
        assert search(client, query)[0].status_code == 200

    limited, _ = search(client, "needle")
    assert limited.status_code == 429
    page = limited.content.decode()
    assert "Search is busy" in page and "cannot search for you just now" in page
    assert "01632 960 555" in page and 'href="/procedures/"' in page  # the phone, the A to Z
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert "public" not in limited["Cache-Control"] and "no-cache" in limited["Cache-Control"]
    assert not any("Search is busy" in body for body in cached_pages())
    # A flood gets the same page again, kept rather than made for each refused search.
    with CaptureQueriesContext(connection) as queries:
        again = client.get(search_url("scalpel"))
    assert again.status_code == 429 and again.content == limited.content
    assert not any(Department._meta.db_table in q["sql"] for q in queries.captured_queries)

    # Searches made before still work, however they are typed; another address is not limited.
    assert "Kidney biopsy" in search(client, "KIDNEY")[0].content.decode()
    assert search(client, "needle", REMOTE_ADDR="192.0.2.44")[0].status_code == 200


def test_one_address_flooding_leaves_the_site_limit_to_everyone_else(client, published, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 2)
    monkeypatch.setattr(views, "SEARCH_SITE_WIDE_PER_HOUR", 5)
    answers = [search(client, f"flood {n}", REMOTE_ADDR="192.0.2.1")[0].status_code for n in range(20)]
    assert answers == [200, 200] + [429] * 18

    # The flood's refused searches did not count for the site: 2 of its 5 are used.
    for n, address in enumerate(("192.0.2.2", "192.0.2.3", "192.0.2.4")):
        assert search(client, f"patient {n}", REMOTE_ADDR=address)[0].status_code == 200
    assert search(client, "one too many", REMOTE_ADDR="192.0.2.5")[0].status_code == 429


def test_new_searches_beyond_the_places_free_on_this_machine_are_refused_at_once(
    client, published, department
):
    """A flood from thousands of addresses stays under every address's limit; what keeps the
    leaflets fast then is that only SEARCHES_AT_ONCE workers search at a time. Here another
    worker holds the one place (the same lock file, held from this thread)."""
    assert search(client, "kidney")[0].status_code == 200  # made before: kept
    with throttle.a_free_place("search", views.SEARCHES_AT_ONCE) as held:
        assert held
        busy, searched = search(client, "needle", REMOTE_ADDR="192.0.2.60")
        assert busy.status_code == 429 and not searched
        page = busy.content.decode()
        assert "Search is busy" in page and "searching at this moment" in page
        assert "01632 960 555" in page and int(busy["Retry-After"]) <= 5
        # A search made before needs no place; nor was the refused one counted for the hour.
        assert "Kidney biopsy" in search(client, "Kidney")[0].content.decode()
        assert RequestCount.objects.get(key="search:site").count == 1  # "kidney" alone
    # The place is free again as soon as the other search ends.
    assert search(client, "needle", REMOTE_ADDR="192.0.2.60")[0].status_code == 200
    assert RequestCount.objects.get(key="search:site").count == 2


def test_a_lock_folder_that_cannot_be_made_leaves_search_working(client, published, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.LOCK_DIR = blocker / "locks"
    found, searched = search(client, "kidney")
    assert found.status_code == 200 and searched


# -- refused before Django runs: a flood's answers cost what a page kept ready costs ---------


def without_retry_after(headers):
    return [(name, value) for name, value in headers if name != "Retry-After"]


@pytest.mark.django_db(transaction=True)  # the front answers only outside a transaction
def test_a_search_refused_while_every_place_is_taken_is_answered_before_django_runs(
    published, department, frozen_clock
):
    through_the_front("/search/", QUERY_STRING="q=kidney")  # made before: kept
    with throttle.a_free_place("search", views.SEARCHES_AT_ONCE):
        for prefix in ("", "/ar"):
            made = through_the_front(f"{prefix}/search/", QUERY_STRING="q=needle")
            sent = through_the_front(f"{prefix}/search/", QUERY_STRING="q=scalpel+blade")
            assert made[0] == "429 Too Many Requests" and made[3], prefix  # made by Django
            assert not sent[3], prefix  # answered by the front
            assert sent[:3] == made[:3], prefix  # the status, every header in order, the bytes
            assert dict(sent[1])["Retry-After"] == "5"
            assert ('<html lang="ar"' in sent[2].decode()) == (prefix == "/ar")
            if not prefix:
                assert "searching at this moment" in sent[2].decode()
        # A search made before is answered, by the front too, with its results.
        kept = through_the_front("/search/", QUERY_STRING="q=kidney")
        assert kept[0] == "200 OK" and "Kidney biopsy" in kept[2].decode()
        # A search whose results are kept but whose page is not (another spelling) is Django's.
        kept = through_the_front("/search/", QUERY_STRING="q=KIDNEY")
        assert kept[0] == "200 OK" and kept[3] and "Kidney biopsy" in kept[2].decode()
    # Once the place is free, the same new search reaches Django and is made.
    after = through_the_front("/search/", QUERY_STRING="q=scalpel+blade")
    assert after[0] == "200 OK" and after[3]
    assert RequestCount.objects.get(key="search:site").count == 2  # kidney and scalpel blade


@pytest.mark.django_db(transaction=True)
def test_an_address_over_its_limit_is_refused_before_django_runs_and_others_are_not(
    published, department, staff, frozen_clock, monkeypatch
):
    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 2)
    flood = {"REMOTE_ADDR": "192.0.2.70"}
    answers = [through_the_front("/search/", QUERY_STRING=f"q=flood+{n}", **flood) for n in range(4)]
    assert [(status[:3], django_ran) for status, _, _, django_ran in answers] == [
        ("200", True),
        ("200", True),
        ("429", True),  # Django counts, finds the address at its limit, and this process knows
        ("429", False),  # so the front refuses it, with no query and no Django
    ]
    made, sent = answers[2], answers[3]
    assert without_retry_after(sent[1]) == without_retry_after(made[1]) and sent[2] == made[2]
    assert "a great many new searches" in sent[2].decode()
    assert 0 < int(dict(sent[1])["Retry-After"]) <= 3600
    assert RequestCount.objects.get(key="search:site").count == 2  # refusals are not counted

    # Another address searches; a signed-in nurse at the flooded address still goes through
    # Django, which refuses her too, with a page of her own.
    other = through_the_front("/search/", QUERY_STRING="q=flood+9", REMOTE_ADDR="192.0.2.71")
    assert other[0] == "200 OK" and other[3]
    session = Client()
    session.force_login(staff)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}"
    nurse = through_the_front("/search/", QUERY_STRING="q=flood+10", HTTP_COOKIE=cookie, **flood)
    assert nurse[0].startswith("429") and nurse[3]
    assert "private" in dict(nurse[1])["Cache-Control"]


def test_an_address_known_to_be_over_its_limit_costs_no_query_for_its_counts(client, published, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 1)
    assert search(client, "kidney")[0].status_code == 200
    assert search(client, "needle")[0].status_code == 429  # read the counts: at the limit
    with CaptureQueriesContext(connection) as queries:
        assert search(client, "scalpel")[0].status_code == 429
    assert not any(RequestCount._meta.db_table in q["sql"] for q in queries.captured_queries)
    # Raised again (as by a deploy), the limit is the database's to judge once more.
    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 5)
    assert search(client, "scalpel")[0].status_code == 200
