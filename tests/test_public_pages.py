"""Patients see published versions only; every version they were given keeps its URL."""

import pytest
from django.urls import reverse

from procedures import workflow

pytestmark = pytest.mark.django_db


def public_urls(slug, number=1):
    return [
        reverse("procedures:leaflet", args=[slug]),
        reverse("procedures:leaflet_print", args=[slug]),
        reverse("procedures:leaflet_version", args=[slug, number]),
    ]


def test_a_draft_is_404_on_every_leaflet_url(client, make_procedure, make_draft):
    draft = make_draft(make_procedure("secret-draft", title="Secret draft procedure"))
    for url in public_urls("secret-draft"):
        assert client.get(url).status_code == 404, url
    workflow.submit_for_review(draft)
    for url in public_urls("secret-draft"):
        assert client.get(url).status_code == 404, url


def test_a_draft_is_not_listed_anywhere(client, category, department, make_procedure, make_draft):
    procedure = make_procedure("secret-draft", title="Secret draft procedure")
    department.procedures.add(procedure)
    make_draft(procedure, what_it_is="Unmistakable draft words")
    pages = [
        reverse("procedures:home"),
        reverse("procedures:list"),
        reverse("procedures:category", args=[category.slug]),
        reverse("procedures:department", args=[department.slug]),
        reverse("procedures:search") + "?q=Secret",
        reverse("procedures:search") + "?q=Unmistakable",
        "/sitemap.xml",
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "Secret draft procedure" not in body and "secret-draft" not in body, url


def test_the_draft_text_of_a_published_leaflet_stays_hidden(client, published):
    draft = workflow.start_new_draft(published)
    draft.risks = "Draft-only risk wording"
    draft.save()
    body = client.get(published.procedure.get_absolute_url()).content.decode()
    assert "Draft-only risk wording" not in body
    assert "Plain words about what are the risks?" in body


def test_the_leaflet_page_shows_everything_a_patient_needs(client, published, department):
    department.procedures.add(published.procedure)
    body = client.get(published.procedure.get_absolute_url()).content.decode()
    for heading in [
        "What is it?",
        "What are the risks?",
        "When to get help urgently",
        "Questions and contacts",
    ]:
        assert heading in body
    assert "IR-T001" in body and "Version" in body
    assert "Last reviewed" in body and "1 November 2026" in body
    assert "Next review due" in body and "1 November 2029" in body
    assert "Sample content." in body
    assert "01632 960 555" in body and 'href="tel:01632960555"' in body
    assert "Society of Interventional Radiology: standards of practice" in body
    assert 'href="#what-are-the-risks"' not in body  # anchors come from field names
    assert 'href="#risks"' in body


def test_a_replaced_version_keeps_its_url_with_a_banner(client, published):
    second = workflow.start_new_draft(published)
    workflow.publish(second)
    old = client.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1]))
    assert old.status_code == 200
    body = old.content.decode()
    assert "This version has been replaced" in body
    assert f'href="{published.procedure.get_absolute_url()}"' in body
    assert 'name="robots" content="noindex"' in body


def test_the_live_version_number_redirects_to_the_leaflet(client, published):
    response = client.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1]))
    assert response.status_code == 302
    assert response["Location"] == "/procedures/kidney-biopsy/"


def test_a_withdrawn_version_says_so_and_hides_its_text(client, published):
    workflow.withdraw(published)
    response = client.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1]))
    assert response.status_code == 410
    body = response.content.decode()
    assert "withdrawn" in body
    assert "Plain words about what are the risks?" not in body
    assert client.get(published.procedure.get_absolute_url()).status_code == 404


def test_the_print_view_has_document_control_and_contacts(client, published, department):
    department.procedures.add(published.procedure)
    body = client.get(reverse("procedures:leaflet_print", args=["kidney-biopsy"])).content.decode()
    assert "IR-T001 · Version 1 · Last reviewed 1 November 2026 · Next review due 1 November 2029" in body
    assert "01632 960 555" in body
    assert "css/print.css" in body
    assert 'class="site-header"' not in body  # no navigation on paper


def test_search_finds_a_leaflet_by_lay_name(client, published):
    procedure = published.procedure
    procedure.lay_names = "kidney tube\nnefrostomy"
    procedure.save()
    body = client.get(reverse("procedures:search"), {"q": "nefrostomy"}).content.decode()
    assert "Kidney biopsy" in body


def test_search_with_no_results_offers_phone_numbers(client, published, department):
    body = client.get(reverse("procedures:search"), {"q": "zzzz"}).content.decode()
    assert "No leaflets found" in body and "01632 960 555" in body


@pytest.mark.parametrize("query", ["' OR 1=1 --", "x" * 10_000, "\x00\x1b[31m", "🙂 kidney", '"unclosed'])
def test_odd_search_input_gives_a_normal_page(client, published, query):
    response = client.get(reverse("procedures:search"), {"q": query})
    assert response.status_code == 200
