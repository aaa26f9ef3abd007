"""Search engines and link previews find and describe leaflets correctly: schema.org JSON-LD,
the sitemap, canonical addresses, Open Graph tags, and each leaflet's own word list."""

import datetime
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from procedures import workflow
from procedures.models import Category, GlossaryTerm, LeafletVersion, Procedure
from tests.helpers import public_urls

pytestmark = pytest.mark.django_db


def json_ld(body):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    return [json.loads(block) for block in blocks]


def meta(body, prop):
    found = re.findall(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', body)
    assert len(found) == 1, (prop, found)
    return found[0]


def test_a_live_leaflet_describes_itself_as_a_medical_web_page(client, published):
    body = client.get("/procedures/kidney-biopsy/").content.decode()
    [data] = json_ld(body)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == "Kidney biopsy"
    assert data["about"] == {"@type": "MedicalProcedure", "name": "Kidney biopsy"}
    assert data["url"] == "http://testserver/procedures/kidney-biopsy/"
    assert data["inLanguage"] == "en-GB"
    assert data["audience"] == {"@type": "MedicalAudience", "audienceType": "Patient"}
    assert data["lastReviewed"] == "2026-11-01" == published.last_reviewed.isoformat()
    modified = datetime.datetime.fromisoformat(data["dateModified"].replace("Z", "+00:00"))
    assert abs(modified - published.published_at) < datetime.timedelta(seconds=1)
    # Published by the system (content files): the trust reviewed it, not a named person.
    assert data["reviewedBy"] == {"@type": "Organization", "name": "Example NHS Trust"}


def test_reviewed_by_names_the_approver_but_never_their_login(client, published, staff):
    approver = get_user_model().objects.create_user(
        "dr.login.name",
        password="a long test password 2",
        first_name="Asha",
        last_name="Patel",
        is_superuser=True,
    )
    draft = workflow.start_new_draft(published, by=staff)
    workflow.submit_for_review(draft, by=staff)
    workflow.publish(draft, by=approver, approved_hash=draft.content_hash())
    body = client.get("/procedures/kidney-biopsy/").content.decode()
    [data] = json_ld(body)
    assert data["reviewedBy"] == {"@type": "Person", "name": "Asha Patel"}
    approver.first_name = approver.last_name = ""
    approver.save()
    cache.clear()  # a name change is not a library change: cached pages keep the old one
    body = client.get("/procedures/kidney-biopsy/").content.decode()
    assert "dr.login.name" not in body
    assert json_ld(body)[0]["reviewedBy"]["@type"] == "Organization"


def test_json_ld_cannot_be_broken_out_of_by_leaflet_text(client, published):
    procedure = published.procedure
    procedure.title = 'Biopsy </script><script>alert("x")</script> <!-- & more'
    procedure.save()
    body = client.get(procedure.get_absolute_url()).content.decode()
    [data] = json_ld(body)
    assert data["name"] == procedure.title
    assert '<script>alert("x")' not in body
    assert body.count("</script>") == 1


def test_only_the_live_leaflet_has_structured_data(client, published, rf):
    assert len(json_ld(client.get("/procedures/kidney-biopsy/").content.decode())) == 1
    workflow.publish(workflow.start_new_draft(published))
    old = client.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1]))
    assert json_ld(old.content.decode()) == []
    # The admin's draft preview renders the leaflet template with preview=True.
    draft = workflow.start_new_draft(LeafletVersion.objects.live("en").get())
    context = {"version": draft, "procedure": draft.procedure, "departments": [], "preview": True}
    preview = render_to_string("procedures/leaflet.html", context, request=rf.get("/"))
    assert "Draft preview" in preview and json_ld(preview) == []


def test_the_sitemap_lists_every_published_leaflet_and_no_draft(client, small_library, make_draft):
    draft_only = Procedure.objects.create(
        slug="secret-draft",
        title="Secret draft",
        resource_number="IR-T999",
        category=Category.objects.first(),
        summary="Not yet approved.",
    )
    make_draft(draft_only)
    body = client.get("/sitemap.xml").content.decode()
    live = LeafletVersion.objects.live("en").select_related("procedure")
    assert live.count() == Procedure.objects.count() - 1
    for version in live:
        url = f"<loc>http://testserver/procedures/{version.procedure.slug}/</loc>"
        assert url in body
        entry = body[body.index(url) :].split("</url>")[0]
        assert f"<lastmod>{version.published_at.date().isoformat()}</lastmod>" in entry
    # One entry per leaflet and language it is published in; translations list each other.
    translations = LeafletVersion.objects.published().exclude(language="en")
    assert translations.count() >= 1
    assert body.count("<url>") == live.count() + translations.count()
    for version in translations.select_related("procedure"):
        assert f"<loc>http://testserver/ar/procedures/{version.procedure.slug}/</loc>" in body
    assert "secret-draft" not in body


def test_a_leaflet_page_has_a_canonical_address_and_open_graph_tags(client, published):
    body = client.get("/procedures/kidney-biopsy/?utm_source=leaflet").content.decode()
    assert '<link rel="canonical" href="http://testserver/procedures/kidney-biopsy/">' in body
    assert meta(body, "og:url") == "http://testserver/procedures/kidney-biopsy/"
    assert meta(body, "og:type") == "article"
    assert meta(body, "og:title") == "Kidney biopsy"
    assert meta(body, "og:description") == "A short plain summary."
    assert meta(body, "og:site_name") == "Interventional Radiology patient information"


def test_every_public_page_has_one_absolute_canonical_address(client, small_library):
    for url in public_urls():
        body = client.get(url).content.decode()
        canonical = re.findall(r'<link rel="canonical" href="([^"]*)">', body)
        assert len(canonical) == 1, url
        assert canonical[0].startswith("http://testserver/"), (url, canonical)
        assert "?" not in canonical[0], url


def test_the_print_view_points_search_engines_at_the_leaflet(client, published):
    body = client.get(reverse("procedures:leaflet_print", args=["kidney-biopsy"])).content.decode()
    assert '<link rel="canonical" href="http://testserver/procedures/kidney-biopsy/">' in body


def linked_slugs(body):
    return set(re.findall(r'<a class="glossary-term" href="/glossary/#([\w-]+)"', body))


def words_used(body):
    section = re.search(r'<section class="words-used".*?</section>', body, re.S)
    assert section, "no 'Words used in this leaflet' section"
    assert "Words used in this leaflet" in section.group(0)
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section.group(0)))


def test_words_used_lists_the_glossary_terms_linked_in_the_leaflet(client, small_library):
    for slug in ["nephrostomy", "vertebroplasty"]:
        body = client.get(f"/procedures/{slug}/").content.decode()
        linked = linked_slugs(body)
        assert len(linked) >= 3, slug
        listed = words_used(body)
        terms = GlossaryTerm.objects.filter(slug__in=linked)
        assert set(listed) == {term.term for term in terms}, slug
        for term in terms:
            assert listed[term.term] == escape(term.definition)
        assert 'href="#words-used"' in body  # in the contents list


def test_words_used_is_printed_too(client, small_library):
    body = client.get(reverse("procedures:leaflet_print", args=["nephrostomy"])).content.decode()
    assert set(words_used(body)) == {t.term for t in GlossaryTerm.objects.filter(slug__in=linked_slugs(body))}


def test_words_used_has_only_the_words_this_leaflet_uses(client, make_procedure, make_draft):
    GlossaryTerm.objects.create(term="Catheter", definition="A thin, soft tube.")
    GlossaryTerm.objects.create(term="Embolisation", definition="Blocking a blood vessel.")
    version = make_draft(make_procedure(), what_it_is="We put a catheter in.", after="The catheter stays.")
    workflow.publish(version)
    body = client.get(version.procedure.get_absolute_url()).content.decode()
    assert words_used(body) == {"Catheter": "A thin, soft tube."}


def test_a_leaflet_without_glossary_words_has_no_empty_list(client, published):
    body = client.get(published.procedure.get_absolute_url()).content.decode()
    assert "words-used" not in body
