"""Leaflets and the interface in the languages patients read (English, Arabic, Polish).

What a patient notices: the page comes in their language (from the address, or the browser on
the home page), the switcher works without JavaScript, Arabic pages run right to left, a
translation appears only once approved and says so when the English leaflet has moved on.
"""

import io
import os
import re

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from procedures import workflow
from procedures.catalogues import check_catalogues, missing_tools
from procedures.content_files import ContentError
from procedures.library import export_library, load_library
from procedures.models import LeafletVersion
from tests.helpers import SMALL_TRANSLATIONS, section_text

pytestmark = pytest.mark.django_db
ARABIC_TEXT = "هذا نص تجريبي باللغة العربية."
UNTRANSLATED = (
    "This leaflet has not been translated into your language yet, so it is shown in "
    "English below. If you need help to understand it, ask the department for an "
    "interpreter. Interpreters are free."
)


def html_tag(response):
    return re.search(r"<html[^>]*>", response.content.decode())[0]


def translate(english, language="ar", title="خزعة الكلية", publish=True):
    """A translation of `english`, written and (by default) approved."""
    draft = workflow.start_translation(english, language)
    draft.title = title
    draft.summary = "ملخص قصير."
    for field in section_text():
        setattr(draft, field, f"{ARABIC_TEXT} ({field})")
    draft.save()
    if publish:
        workflow.publish(draft)
    return draft


def new_english_version(english):
    draft = workflow.start_new_draft(english)
    draft.what_it_is = "Changed English text about the biopsy."
    draft.save()
    workflow.publish(draft)
    return draft


# -- the interface language -------------------------------------------------------------


def test_address_prefix_chooses_the_language(client, published):
    assert 'lang="en-GB" dir="ltr"' in html_tag(client.get("/procedures/"))
    assert 'lang="ar" dir="rtl"' in html_tag(client.get("/ar/procedures/"))
    assert 'lang="pl" dir="ltr"' in html_tag(client.get("/pl/procedures/"))
    with translation.override("pl"):
        polish = translation.gettext("Procedures A to Z")
    assert polish != "Procedures A to Z"
    assert polish in client.get("/pl/procedures/").content.decode()
    assert client.get("/de/procedures/").status_code == 404  # not one of ours


def test_pages_at_their_own_address_do_not_vary_by_the_browser_language(client, published):
    # Issue 15, defect 8: every English page said `Vary: Accept-Language`, so a CDN would keep
    # a copy per browser language of pages that are English whatever the browser asks.
    for url in ("/procedures/", "/procedures/kidney-biopsy/", "/glossary/", "/ar/procedures/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
        assert response.status_code == 200
        assert "accept-language" not in response.get("Vary", "").lower(), url
    # The English home page does send browsers to their language, and says so.
    assert "Accept-Language" in client.get("/")["Vary"]


def test_home_page_follows_the_browser_language(client, published):
    arabic_browser = client.get("/", HTTP_ACCEPT_LANGUAGE="ar-EG,ar;q=0.9,en;q=0.5")
    assert arabic_browser.status_code == 302 and arabic_browser["Location"] == "/ar/"
    assert "Accept-Language" in arabic_browser["Vary"] and "no-cache" in arabic_browser["Cache-Control"]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="pl-PL,pl;q=0.9")["Location"] == "/pl/"
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english.status_code == 200 and "Accept-Language" in english["Vary"]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").status_code == 200  # English
    # A page at its own address stays in that language, whatever the browser prefers.
    assert client.get("/ar/", HTTP_ACCEPT_LANGUAGE="pl").status_code == 200
    assert client.get("/procedures/", HTTP_ACCEPT_LANGUAGE="ar").status_code == 200


def test_switcher_links_lead_to_the_same_page_and_remember_the_choice(client, published):
    page = client.get(published.procedure.get_absolute_url()).content.decode()
    switcher = re.search(r'<nav class="language-nav".*?</nav>', page, re.S)[0]
    links = dict(re.findall(r'<a href="([^"]+)" lang="([^"]+)"', switcher))
    assert set(links.values()) == {"en-GB", "ar", "pl"}
    to_arabic = next(url for url, lang in links.items() if lang == "ar").replace("&amp;", "&")
    assert 'aria-current="true">English<' in switcher

    response = client.get(to_arabic)
    assert response.status_code == 302 and response["Location"] == "/ar/procedures/kidney-biopsy/"
    assert response.cookies["django_language"].value == "ar"
    assert client.get(response["Location"]).status_code == 200
    # The choice is remembered: the home page now opens in Arabic, even for an English browser.
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/ar/"
    # ... until English is chosen again.
    client.get(reverse("choose_language", args=["en-gb"]) + "?next=/")
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="ar").status_code == 200


def test_switcher_refuses_other_sites_and_unknown_languages(client, db):
    response = client.get(reverse("choose_language", args=["pl"]) + "?next=https://evil.example/")
    assert response["Location"] == "/pl/"
    assert client.get(reverse("choose_language", args=["xx"])).status_code == 404


def test_every_public_page_has_lang_and_dir(client, published, department):
    department.procedures.add(published.procedure)
    slug = published.procedure.slug
    pages = [
        "/",
        "/procedures/",
        f"/procedures/category/{published.procedure.category.slug}/",
        f"/procedures/{slug}/",
        f"/procedures/{slug}/print/",
        "/departments/",
        f"/departments/{department.slug}/",
        "/glossary/",
        "/search/?q=kidney",
        f"/check/{published.procedure.resource_number}/1/",
        "/no-such-page/",
    ]
    for prefix, expected in (
        ("", 'lang="en-GB" dir="ltr"'),
        ("/ar", 'lang="ar" dir="rtl"'),
        ("/pl", 'lang="pl" dir="ltr"'),
    ):
        for page in pages:
            response = client.get(prefix + page)
            assert response.status_code in (200, 404), (prefix + page, response.status_code)
            if page != f"/procedures/{slug}/print/":  # a printout is in the leaflet's language
                assert expected in html_tag(response), prefix + page


# -- translated leaflets --------------------------------------------------------------------


def test_translation_is_invisible_until_approved(client, published):
    url = "/ar/procedures/kidney-biopsy/"
    draft = translate(published, publish=False)
    page = client.get(url).content.decode()
    assert ARABIC_TEXT not in page and "خزعة الكلية" not in page
    with translation.override("ar"):
        assert translation.gettext(UNTRANSLATED) in page
    assert re.search(r'<article class="leaflet" lang="en-GB" dir="ltr">', page)

    workflow.submit_for_review(draft)
    assert ARABIC_TEXT not in client.get(url).content.decode()
    assert client.get("/ar/procedures/kidney-biopsy/v/1/").status_code == 404

    workflow.publish(draft)
    page = client.get(url).content.decode()
    assert ARABIC_TEXT in page and "<h1>خزعة الكلية</h1>" in page
    assert re.search(r'<article class="leaflet" lang="ar" dir="rtl">', page)
    assert "Sample translation" not in page  # the notice is in Arabic too
    # The English page is unchanged.
    assert ARABIC_TEXT not in client.get("/procedures/kidney-biopsy/").content.decode()


def test_outdated_translation_is_flagged_to_patients_and_editors(client, admin_client, published):
    arabic = translate(published)
    url = "/ar/procedures/kidney-biopsy/"
    with translation.override("ar"):
        older = translation.gettext("This translation is of an older version of the leaflet.")
    assert older not in client.get(url).content.decode()

    new_english_version(published)
    page = client.get(url).content.decode()
    assert older in page
    assert 'href="/procedures/kidney-biopsy/" hreflang="en-GB"' in page  # read the current English
    assert older in client.get(url + "print/").content.decode()

    listing = admin_client.get(reverse("admin:procedures_leafletversion_changelist") + "?language=ar")
    assert "Behind English (from English v1)" in listing.content.decode()
    change = admin_client.get(reverse("admin:procedures_leafletversion_change", args=[arabic.pk]))
    assert "but the live English leaflet is version 2" in change.content.decode()
    dashboard = admin_client.get(reverse("admin:procedures_leafletversion_dashboard"))
    assert "Translations behind the English leaflet (1)" in dashboard.content.decode()

    # The translator brings it up to date from the English page's button; once approved,
    # the flag goes.
    live_english = LeafletVersion.objects.live("en").get(procedure=published.procedure)
    response = admin_client.post(
        reverse("admin:procedures_leafletversion_translate", args=[live_english.pk, "ar"])
    )
    update = LeafletVersion.objects.drafts().get(language="ar")
    assert response.status_code == 302 and update.translation_of == live_english
    assert update.title == "خزعة الكلية"  # starts from the last Arabic text
    workflow.publish(update)
    assert older not in client.get(url).content.decode()
    listing = admin_client.get(reverse("admin:procedures_leafletversion_changelist") + "?language=ar")
    assert "Up to date (from English v2)" in listing.content.decode()


def test_translation_needs_a_title_and_source_before_review(published):
    draft = workflow.start_translation(published, "pl")
    for field, text in section_text().items():
        setattr(draft, field, text)
    draft.save()
    with pytest.raises(Exception, match="title in this language"):
        workflow.submit_for_review(draft)


def test_untranslated_leaflet_is_shown_in_english_inside_the_page_language(client, published):
    page = client.get("/pl/procedures/kidney-biopsy/").content.decode()
    assert 'lang="pl" dir="ltr"' in page
    assert re.search(r'<article class="leaflet" lang="en-GB" dir="ltr">', page)
    assert '<link rel="canonical" href="http://testserver/procedures/kidney-biopsy/">' in page
    with translation.override("pl"):
        assert translation.gettext("Contents") not in page.split("<article")[1]  # headings in English


def test_translation_goes_when_the_english_leaflet_is_withdrawn(client, published):
    translate(published)
    assert client.get("/ar/procedures/kidney-biopsy/").status_code == 200
    workflow.withdraw(published)
    assert client.get("/ar/procedures/kidney-biopsy/").status_code == 404


def test_the_qr_check_of_a_translation_says_withdrawn_once_the_english_leaflet_is(client, published):
    # Issue 15, defect 3: the Arabic printout's QR code said "current, you can rely on it".
    arabic = translate(published)
    check = f"/ar/check/{published.procedure.resource_number}/{arabic.number}/"
    with translation.override("ar"):
        current, withdrawn = (
            translation.gettext("This printout is current"),
            translation.gettext("This leaflet has been withdrawn"),
        )

    def heading(page):
        return re.search(r"<h1>(.*?)</h1>", page)[1]

    assert heading(client.get(check).content.decode()) == current
    workflow.withdraw(published, comment="Unsafe advice")
    page = client.get(check).content.decode()
    assert heading(page) == withdrawn
    assert published.retired_at.astimezone().strftime("%Y") in page


def test_a_translation_of_a_withdrawn_leaflet_is_in_no_public_list(
    client, published, make_procedure, make_draft
):
    translate(published)
    workflow.withdraw(published)
    assert not LeafletVersion.objects.live("ar").exists()
    assert "kidney-biopsy" not in client.get("/sitemap.xml").content.decode()
    assert "kidney-biopsy" not in client.get("/ar/procedures/").content.decode()


def test_hreflang_alternates_on_the_page_and_in_the_sitemap(client, published, make_procedure, make_draft):
    other = make_draft(make_procedure("hand-drain"))
    workflow.publish(other)
    translate(published)
    page = client.get("/procedures/kidney-biopsy/").content.decode()
    alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page)
    assert alternates == [
        ("en-GB", "http://testserver/procedures/kidney-biopsy/"),
        ("x-default", "http://testserver/procedures/kidney-biopsy/"),
        ("ar", "http://testserver/ar/procedures/kidney-biopsy/"),
    ]
    assert re.findall(
        r'hreflang="([^"]+)"', client.get("/procedures/hand-drain/").content.decode().split("</head>")[0]
    ) == ["en-GB", "x-default"]

    sitemap = client.get("/sitemap.xml").content.decode()
    assert "<loc>http://testserver/ar/procedures/kidney-biopsy/</loc>" in sitemap
    assert 'hreflang="ar" href="http://testserver/ar/procedures/kidney-biopsy/"' in sitemap
    assert "/ar/procedures/hand-drain/" not in sitemap and "/pl/" not in sitemap


def test_arabic_pdf_is_right_to_left_in_arabic(client, published):
    from procedures import pdf

    if not pdf.AVAILABLE:
        pytest.skip("WeasyPrint is not installed")
    translate(published)
    response = client.get("/ar/procedures/kidney-biopsy/leaflet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "IR-T" in text
    with translation.override("ar"):
        page_words = translation.gettext("Page {page} of {pages}").split("{")[0].strip()
    assert page_words and page_words != "Page"
    english = client.get("/procedures/kidney-biopsy/leaflet.pdf")
    assert english.content != response.content


# -- content files ---------------------------------------------------------------------


def test_sample_translations_load_from_content(client, library):
    arabic = LeafletVersion.objects.live("ar").select_related("procedure", "translation_of")
    assert arabic.count() >= 5
    for version in arabic:
        assert version.is_sample_content and version.title and version.translation_of.number >= 1
        page = client.get(f"/ar/procedures/{version.procedure.slug}/").content.decode()
        assert f"<h1>{version.title}</h1>" in page


def test_translation_file_must_name_a_published_english_version(settings, tmp_path, small_library):
    content = tmp_path / "content"
    export_library(content)
    bad = content / "translations" / "ar" / "nephrostomy.md"
    bad.write_text(
        re.sub(r"^translation_of = \d+$", "translation_of = 70", bad.read_text(encoding="utf-8"), flags=re.M),
        encoding="utf-8",
    )
    with pytest.raises(
        ContentError, match=r"nephrostomy.md:\d+: English version 70 of nephrostomy was never published"
    ):
        load_library(content)


def test_exported_translations_load_back_unchanged(tmp_path, small_library):
    content = tmp_path / "content"
    export_library(content)
    assert len(list((content / "translations" / "ar").glob("*.md"))) == len(SMALL_TRANSLATIONS["ar"])
    report = load_library(content)
    assert report.published == [] and any("[ar]" in name for name in report.unchanged)


# -- catalogues ---------------------------------------------------------------------------


def test_interface_catalogues_are_complete_and_compiled():
    """makemessages on the current code finds nothing untranslated or fuzzy in any shipped
    language, and the committed .mo files match their .po files."""
    missing = missing_tools()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"GNU gettext is needed in CI: missing {missing}")
        pytest.skip(f"GNU gettext not installed: missing {missing}")
    reports = check_catalogues()
    assert {r.language for r in reports} == {"ar", "pl"}
    for report in reports:
        assert report.problems == [], report.language
        assert report.translated > 100


def test_pages_in_other_languages_keep_the_query_budget(client, small_library, django_assert_max_num_queries):
    """Translated titles come in the list's own query; a leaflet's languages in one query."""
    from django.core.cache import cache

    for url in (
        "/ar/",
        "/ar/procedures/",
        "/ar/procedures/nephrostomy/",
        "/ar/procedures/tumour-embolisation/",
        "/pl/procedures/category/drains-and-kidneys/",
        "/ar/departments/northgate-ir/",
    ):
        cache.clear()
        with django_assert_max_num_queries(4):
            assert client.get(url).status_code == 200, url
