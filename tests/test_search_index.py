"""The stored search text and vector follow the live leaflet: publishing, withdrawing and
saving a procedure re-index it, and drafts are never searched. Runs on SQLite and PostgreSQL."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procedures import throttle, workflow
from procedures.models import LeafletVersion, Procedure
from procedures.search import search, suggest
from tests.helpers import QUERY_BUDGET as BUDGET
from tests.helpers import reads_and_counts

pytestmark = pytest.mark.django_db
ON_SQLITE = connection.vendor == "sqlite"


def test_snippets_escape_the_leaflet_text(client, published):
    draft = workflow.start_new_draft(published)
    draft.what_it_is = "Take less than 5 mg & never more: zebrafinch < 6."
    draft.save()
    workflow.publish(draft)
    body = client.get(reverse("procedures:search"), {"q": "zebrafinch"}).content.decode()
    assert "<mark>zebrafinch</mark> &lt; 6." in body
    assert "5 mg &amp; never" in body


def test_publishing_a_new_version_makes_its_words_findable(published):
    assert [r.procedure for r in search("kingfisher")] == []
    draft = workflow.start_new_draft(published, what_it_is="A kingfisher sits by the river.")
    assert [r.procedure for r in search("kingfisher")] == []  # drafts are never searched
    workflow.publish(draft)
    assert [r.procedure for r in search("kingfisher")] == [published.procedure]


def test_a_withdrawn_leaflet_is_not_found(published):
    assert [r.procedure for r in search("kidney biopsy")] == [published.procedure]
    workflow.withdraw(published)
    assert search("kidney biopsy") == []
    assert suggest("kidny biopsy") == []


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL only: SQLite has no any-word step")
def test_a_name_matched_only_by_unpublished_leaflets_does_not_hide_live_ones(
    published, make_procedure, make_draft
):
    # Every word is in the new procedure's name, but its leaflet is still a draft: the search
    # goes on to leaflets with any of the words, as if nothing had matched every word.
    make_draft(make_procedure("zebra-kidney-scan", title="Zebra kidney scan"))
    assert [r.procedure for r in search("zebra kidney")] == [published.procedure]


def test_new_lay_names_are_found_as_soon_as_the_procedure_is_saved(published):
    procedure = published.procedure
    assert search("wobblekins") == []
    procedure.lay_names = "wobblekins\nkidney tube"
    procedure.save()
    assert [r.procedure for r in search("wobblekins")] == [procedure]


def test_the_stored_text_is_the_live_leaflet_only(published):
    draft = workflow.start_new_draft(published, what_it_is="Unpublished heron words")
    procedure = Procedure.objects.get(pk=published.procedure_id)
    assert "Plain words about what is it?" in procedure.search_text
    assert "heron" not in procedure.search_text
    assert draft.status == LeafletVersion.Status.DRAFT


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL only: GIN indexes and pg_trgm")
def test_postgres_has_the_search_indexes_and_trigram_extension():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'procedures_procedure'")
        indexes = dict(cursor.fetchall())
    assert "gin (search_document)" in indexes["procedure_search_document"]
    assert "gin_trgm_ops" in indexes["procedure_title_trgm"]
    assert "gin_trgm_ops" in indexes["procedure_lay_names_trgm"]


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL only: weighted tsvector")
def test_postgres_weighs_names_above_summary_above_leaflet_text(published):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_document::text FROM procedures_procedure WHERE id = %s",
            [published.procedure_id],
        )
        document = cursor.fetchone()[0]
    assert re.search(r"'kidney':\S*1A", document)  # title
    assert re.search(r"'short':\S*B", document)  # summary: "A short plain summary."
    assert re.search(r"'plain':\S*C", document)  # leaflet text: "Plain words about …"


def within_the_budget(client, query):
    """The search page for `query`, asserting the page query budget; a new search also
    counts itself for flood control, in statements of its own on top of the budget."""
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("procedures:search"), {"q": query}).content.decode()
    reads, counting = reads_and_counts(queries)
    statements = [q["sql"] for q in queries.captured_queries]
    assert reads <= BUDGET and counting <= throttle.STATEMENTS_AT_MOST, statements
    return body


def test_a_search_with_no_results_stays_within_the_page_query_budget(client, published, department):
    # The no-results page also looks up suggestions and the departments' phone numbers.
    body = within_the_budget(client, "xylophone")
    assert "No leaflets found" in body and "01632 960 555" in body


def test_a_misspelt_search_stays_within_the_page_query_budget(client, published, department):
    # Full text finds nothing, so the misspelt-name step answers, in the same statement.
    body = within_the_budget(client, "kidny biopsee")
    assert "Kidney biopsy" in body
