"""Patients find the right leaflet with the words they use, spelt as they spell them.

The same tests run on SQLite (./dev test) and PostgreSQL (DATABASE_URL). SQLite's fallback
has no stemming, so the queries it cannot answer are listed in SQLITE_CANNOT and expected to
fail there (strictly: if the fallback learns to answer one, the list must shrink).
"""

import re

import pytest
from django.db import connection, transaction
from django.urls import reverse

from procedures import workflow
from procedures.models import Category, Procedure
from procedures.search import search, suggest
from tests.helpers import copy_rows

pytestmark = pytest.mark.django_db
ON_SQLITE = connection.vendor == "sqlite"

# (what a patient types, the leaflet that should be in the top 3)
QUERIES = [
    ("kidney tube", "nephrostomy"),
    ("feeding tube", "radiologically-inserted-gastrostomy"),
    ("nefrostomy", "nephrostomy"),
    ("back injection", "epidural-steroid-injection"),
    ("bile drain", "percutaneous-biliary-drainage"),
    ("gallbladder tube", "cholecystostomy"),
    ("stroke clot", "mechanical-thrombectomy"),
    ("aneurysm stent", "endovascular-aneurysm-repair"),
    ("dialysis fistula", "fistuloplasty"),
    ("liver cancer beads", "selective-internal-radiation-therapy"),
    ("freezing tumour", "cryoablation"),
    ("spine cement", "vertebroplasty"),
    ("vertebroplasy", "vertebroplasty"),
    ("lumber puncture", "lumbar-puncture"),
    ("angioplasy", "angioplasty-and-stenting"),
    ("clot filter", "ivc-filter"),
    ("biopsy of bone", "bone-biopsy"),
    ("jaundice drain", "percutaneous-biliary-drainage"),
    ("stent in gullet", "gastrointestinal-stent"),
    ("abscess drain", "drainage-of-fluid-collection"),
    ("tube in my kidney", "nephrostomy"),
    ("trouble swallowing", "gastrointestinal-stent"),
    ("sciatica", "epidural-steroid-injection"),
    ("broken spine bones", "vertebroplasty"),
    ("burning tumours", "thermal-ablation"),
    ("biopsies of the liver", "image-guided-biopsy"),
    ("clots in lungs", "ivc-filter"),
    ("chemo beads", "tumour-embolisation"),
    ("vertbrplsty", "vertebroplasty"),
    ("blocked arteries in legs", "angioplasty-and-stenting"),
    ("stopping bleeding arteries", "embolisation-for-bleeding"),
]
# These need stemming ("arteries" for "artery", "legs" for "leg"), which only PostgreSQL has.
SQLITE_CANNOT = {"blocked arteries in legs", "stopping bleeding arteries"}


def _case(query, slug):
    marks = []
    if ON_SQLITE and query in SQLITE_CANNOT:
        marks = [pytest.mark.xfail(strict=True, reason="SQLite fallback: no stemming")]
    return pytest.param(query, slug, marks=marks, id=query)


@pytest.fixture(scope="module")
def real_library(django_db_setup, django_db_blocker, _real_library_rows):
    """The real library (conftest's `library`) for the whole module, in a transaction rolled
    back after it: every test here searches it, and none changes it for the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        copy_rows(_real_library_rows)
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(("query", "slug"), [_case(*case) for case in QUERIES])
def test_patients_words_find_the_right_leaflet_in_the_top_three(real_library, query, slug):
    top = [result.procedure.slug for result in search(query)[:3]]
    assert slug in top, f"{query!r} gave {top}"


def test_the_query_list_is_long_enough_to_mean_something():
    assert len(QUERIES) >= 20
    assert {query for query, _ in QUERIES} >= SQLITE_CANNOT


def test_a_result_shows_the_matching_words_highlighted(real_library, client):
    body = client.get(reverse("procedures:search"), {"q": "kidney tube"}).content.decode()
    first = body.index('href="/procedures/nephrostomy/"')
    snippet = re.search(r'class="search-results__snippet">(.*?)</p>', body[first:], re.S).group(1)
    assert re.search(r"<mark>(kidney|tube)</mark>", snippet, re.I), snippet


def test_the_snippet_shows_the_word_searched_for_not_one_that_begins_like_it(real_library, make_draft):
    procedure = Procedure.objects.create(
        slug="zoo-visit",
        title="Zoo visit",
        resource_number="IR-Z001",
        category=Category.objects.first(),
        summary="A day out.",
    )
    steps = " ".join(["The keeper explains each step and answers your questions."] * 20)
    text = f"We study zebrafish in the lab. {steps} Then you see the zebras."
    workflow.publish(make_draft(procedure, what_it_is=text))

    [result] = search("zebras")

    assert "<mark>zebras</mark>" in result.snippet, result.snippet


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL's settings")
def test_a_search_leaves_the_database_settings_as_they_were(real_library):
    search("vertebroplasy")  # no full-text match: the misspelt-name step runs as well
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
            "current_setting('pg_trgm.word_similarity_threshold')"
        )
        assert cursor.fetchone() == ("on", "on", "0.6")


def test_a_misspelling_with_no_results_offers_the_closest_names(real_library, client):
    misspelt = [("kolesistostomy", "cholecystostomy"), ("embolysashun", "embolisation-for-bleeding")]
    for query, slug in misspelt:
        assert search(query) == []
        assert suggest(query)[0].slug == slug
        body = client.get(reverse("procedures:search"), {"q": query}).content.decode()
        assert "No leaflets found" in body and "Did you mean" in body
        assert f'href="/procedures/{slug}/"' in body


def test_when_nothing_matches_the_page_offers_the_a_to_z_and_phone_numbers(real_library, client):
    body = client.get(reverse("procedures:search"), {"q": "xylophone"}).content.decode()
    assert "No leaflets found" in body
    assert "Did you mean" not in body
    assert f'href="{reverse("procedures:list")}"' in body
    phones = re.findall(r'href="tel:(\d+)"', body)
    assert phones, "no department phone numbers"


HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE procedures_procedure; --",
    "kidney & | ! tube",
    "!kidney:* <-> (tube",
    "a & | !",
    '"unclosed',
    "((((",
    "%_%\\",
    "<script>alert(1)</script>",
    "x" * 10_000,
    "kidney " * 3_000,
    "\x00\x01\x1b[31m\x7f",
    "kidney\x00tube",
    "\ue000kidney\ue001",
    "🙂🩺 kidney",
    "🙂",
    "the of and",
    "-",
]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:20]))
def test_odd_and_hostile_queries_give_a_normal_page(real_library, client, query):
    response = client.get(reverse("procedures:search"), {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body
    assert search(query) is not None and suggest(query) is not None


def test_a_very_long_query_is_cut_and_the_patient_told(real_library, client):
    body = client.get(reverse("procedures:search"), {"q": "kidney " * 3_000}).content.decode()
    assert "we used only the first 200 letters" in body
    assert 'href="/procedures/nephrostomy/"' in body
