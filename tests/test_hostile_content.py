"""No hostile text becomes live markup, wherever it is typed and wherever it is shown.

Every payload in tests/xss_corpus.py is checked in two ways, and the output parsed with
tests/live_markup.py:

- Alone, through each function that turns typed text into markup: the sanitiser and the
  glossary links, the search snippets, the schema.org data block, the admin's word diff, the
  editor's live preview, the search box, and the HTML each PDF is made from (the leaflet's and
  the appointment sheet's). No PDF is rendered, so this runs for every payload in seconds.
- All together, through every way text reaches a page: the public pages, the print view, the
  admin pages and the PDFs, each opened with pypdf to check that it rendered, holds the text and
  has no script or unsafe link in it. One leaflet holds every payload; departments, glossary words,
  feedback comments and body areas, whose short fields hold one payload each, come one per
  payload. Then the same from content files loaded with load_content.

In one leaflet, an unclosed <script> in one payload would swallow the payloads after it, which
would then go unchecked. pack() shares the payloads out among the leaflet's sections so that each
renders exactly as it does alone.
"""

import datetime
import functools
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from procedures import fasting, pdf, search, workflow
from procedures.content_files import dump_toml_tables, write_leaflet
from procedures.history import section_diffs
from procedures.library import load_library
from procedures.markdown import link_glossary, render_markdown
from procedures.middleware import unavailable_response, write_contacts_snapshot
from procedures.models import (
    Category,
    Department,
    Feedback,
    FormatRequest,
    GlossaryTerm,
    LeafletVersion,
    Procedure,
)
from procedures.print_views import appointment_html, leaflet_pdf_html
from procedures.sections import SECTIONS
from procedures.templatetags.discovery import leaflet_json_ld
from tests.live_markup import live_markup, url_scheme
from tests.xss_corpus import PAYLOADS

IDS = [name for name, _ in PAYLOADS]
EACH_PAYLOAD = pytest.mark.parametrize(("name", "payload"), PAYLOADS, ids=IDS)
needs_pdf = pytest.mark.skipif(not pdf.AVAILABLE, reason="WeasyPrint needs Pango")
FIELDS = [s.field for s in SECTIONS]
DEPARTMENT_TEXT_FIELDS = (
    "name",
    "site",
    "address",
    "phone",
    "opening_hours",
    "urgent_advice",
    "out_of_hours",
    "arrival_instructions",
    "switchboard",
    "out_of_hours_route",
    "pals",
    "pharmacy_helpline",
)
SHEET = {"date": "2027-03-14", "time": "09:30", "arrive_minutes_before": "30"}


def fit(model, field, text):
    """Text cut to the column's length: PostgreSQL refuses longer text (the marker comes first)."""
    length = model._meta.get_field(field).max_length
    return text[:length] if length else text


def marker(name):
    """Plain words put beside each payload, to prove the text really reached the page."""
    return f"Marker {name.replace('-', ' ')} end"


MARKERS = [marker(name) for name in IDS]


def hostile_text(name, payload):
    """What a hostile Markdown section holds: the payload as a block and inline."""
    return f"{marker(name)}\n\n{payload}\n\nA {payload} inline."


def pack(texts, fields):
    """Share [(name, Markdown)] out among `fields`, so that in each field every text renders
    to exactly the HTML it renders to alone: {field: Markdown}. Each text tries the fields from
    a different one, so every field gets some."""
    alone = {name: render_markdown(text) for name, text in texts}
    packed = {field: [] for field in fields}
    for index, (name, text) in enumerate(texts):
        start = index % len(fields)
        for field in fields[start:] + fields[:start]:
            trial = [*packed[field], (name, text)]
            html = render_markdown("\n\n".join(t for _, t in trial))
            if all(alone[n] in html for n, _ in trial):
                packed[field] = trial
                break
        else:
            raise AssertionError(f"{name} cannot share a section with any of the others")
    return {field: "\n\n".join(t for _, t in texts) for field, texts in packed.items()}


@functools.cache
def every_payload_in_sections():
    return pack([(name, hostile_text(name, payload)) for name, payload in PAYLOADS], FIELDS)


def every_payload_in_lines():
    """Every payload after its marker, one after another: for text that is printed escaped,
    line by line (sources, lay names, addresses), where one payload cannot hide another."""
    return "\n".join(f"{marker(name)} {payload}" for name, payload in PAYLOADS)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # PDFs and the feedback throttle live in the cache; each test starts clean.
    cache.clear()


@pytest.fixture
def admin_client(db, django_user_model):
    client = Client()
    client.force_login(
        django_user_model.objects.create_user("reviewer", password="x" * 16, is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def pdf_html(monkeypatch):
    """The HTML each PDF is made from, exactly as it is given to WeasyPrint."""
    given = []
    real = pdf.render

    def spy(html, base_url):
        given.append(html)
        return real(html, base_url)

    monkeypatch.setattr(pdf, "render", spy)
    return given


def assert_markup_clean(html, where, expect=()):
    problems = live_markup(html)
    assert problems == [], f"{where}: {problems}"
    missing = [words for words in expect if words not in html]
    assert missing == [], f"not on {where}: {missing}"
    return html


def assert_clean(response, *, expect=(), status=200):
    path = response.request["PATH_INFO"]
    assert response.status_code == status, (response.status_code, path)
    return assert_markup_clean(
        response.content.decode(), path, [expect] if isinstance(expect, str) else expect
    )


def pdf_problems(document):
    """Scripts, launch actions and unsafe links in a PDF, and its text."""
    assert document.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(document))
    problems = []
    root = reader.trailer["/Root"]
    for key in ("/OpenAction", "/AA"):
        if key in root:
            problems.append(f"document {key}")
    if "/Names" in root and "/JavaScript" in root["/Names"]:
        problems.append("document-level JavaScript")
    if b"/JavaScript" in document or b"/Launch" in document:
        problems.append("a JavaScript or Launch action")
    for number, page in enumerate(reader.pages, start=1):
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is None:
                continue
            action = action.get_object()
            kind = action.get("/S")
            if kind == "/URI":
                scheme = url_scheme(str(action["/URI"]))
                if scheme not in (None, "http", "https", "mailto", "tel"):
                    problems.append(f"page {number}: link to {action['/URI']}")
            elif kind not in ("/GoTo",):
                problems.append(f"page {number}: {kind} action")
    text = "\n".join(page.extract_text() for page in reader.pages)
    return problems, text


def assert_pdf_clean(response, given_html, expect):
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(given_html) == 1, "the PDF was not rendered from fresh HTML"
    assert_markup_clean(given_html.pop(), "the HTML given to WeasyPrint", expect)
    problems, text = pdf_problems(response.content)
    assert problems == []
    # pypdf may break lines anywhere, and with some fonts it leaves NULs between letters.
    text = re.sub(r"[\s\x00]", "", text)
    missing = [words for words in expect if re.sub(r"\s", "", words) not in text]
    assert missing == [], f"not in the PDF: {missing}"


# -- the detector itself: these tests are only worth something if it can see live markup ----


@pytest.mark.parametrize(
    "html",
    [
        "<p>x</p><script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="JaVa&#x09;Script:alert(1)">x</a>',
        '<a href=" vbscript:x">x</a>',
        '<form action="https://evil.example"></form>',
        '<div class="prose"><div>not in a leaflet body</div></div>',
        '<div class="prose"><a href="/" target="_blank">x</a></div>',
        '<div class="prose"><img src="https://tracker.example/p.png" alt="x"></div>',
        '<script type="application/ld+json">{"name": "</script><script>alert(1)</script>"}</script>',
        '<script type="application/ld+json">{"name": "<b>"}</script>',
        "<svg onload=alert(1)></svg>",
        '<p style="color:red">x</p>',
        "<math><mi>x</mi></math>",
        '<meta http-equiv="refresh" content="0;url=/">',
    ],
)
def test_the_detector_sees_live_markup(html):
    assert live_markup(html)


def test_the_detector_passes_escaped_text_and_our_own_markup():
    assert (
        live_markup(
            '<html><head><link rel="stylesheet" href="/static/css/site.css">'
            '<script type="application/ld+json">{"name": "\\u003cb\\u003e"}</script></head><body>'
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=alert(1) javascript:alert(1)</p>"
            '<div class="prose"><p><a href="https://111.nhs.uk" rel="noopener noreferrer">111</a>'
            '<a class="glossary-term" href="/glossary/#stent">stent</a></p></div>'
            '<svg role="img" class="qr-code" viewBox="0 0 4 4"><title>QR</title><path d="M0 0h1"/></svg>'
            '<form method="post" action="/search/"><input name="q"></form></body></html>'
        )
        == []
    )


def test_the_corpus_is_big_and_every_payload_is_live_before_sanitising():
    assert len(PAYLOADS) >= 40 and len(set(IDS)) == len(IDS)
    # Put raw into a page unescaped, most payloads would be live: the corpus has teeth.
    live = [name for name, text in PAYLOADS if live_markup(text)]
    assert len(live) >= 40, live


def test_payloads_in_one_section_can_hide_each_other_so_they_are_packed():
    """The reason for pack(): all the payloads in one section leave some of them unchecked."""
    together = render_markdown("\n\n".join(hostile_text(name, payload) for name, payload in PAYLOADS))
    assert [words for words in MARKERS if words not in together], "pack() would not be needed"
    sections = every_payload_in_sections()
    assert all(sections.values()), "every section holds some payloads"
    rendered = [render_markdown(text) for text in sections.values()]
    for name, payload in PAYLOADS:
        alone = render_markdown(hostile_text(name, payload))
        assert sum(alone in html for html in rendered) == 1, name


# -- each payload alone, through each function that makes markup from text -------------------


def in_a_leaflet_body(html):
    return f'<div class="prose">{html}</div>'


@EACH_PAYLOAD
def test_the_sanitiser_and_the_glossary_links_leave_no_live_markup(name, payload):
    # "stent" first: a payload such as an unclosed <script> swallows whatever follows it.
    html = render_markdown(f"A stent.\n\n{hostile_text(name, payload)}\n\nA stent. {payload} and a stent.")
    assert_markup_clean(in_a_leaflet_body(html), "the sanitised section", [marker(name)])
    # A glossary word whose other forms are the payload, so the linker has it to look for.
    linked = link_glossary(html, [("hostile-word", f"{marker(name)} {payload}", f"{payload}\nstent")], set())
    assert "glossary-term" in linked
    assert_markup_clean(in_a_leaflet_body(linked), "the section with glossary links", [marker(name)])


@EACH_PAYLOAD
def test_the_structured_data_block_cannot_be_broken_out_of(name, payload, rf):
    text = f"{marker(name)} {payload}"
    procedure = Procedure(
        slug="hostile",
        title=fit(Procedure, "title", text),
        resource_number="IR-H01",
        summary=fit(Procedure, "summary", text),
    )
    version = LeafletVersion(
        procedure=procedure, number=1, last_reviewed=datetime.date(2026, 11, 1), published_at=timezone.now()
    )
    assert_markup_clean(
        leaflet_json_ld({"request": rf.get("/")}, version), "the JSON-LD block", [marker(name)]
    )


@EACH_PAYLOAD
def test_the_word_diff_between_versions_escapes_every_word(name, payload):
    older = LeafletVersion(
        sources=hostile_text(name, payload), **{field: hostile_text(name, payload) for field in FIELDS}
    )
    newer = LeafletVersion(
        sources=f"Changed. {older.sources}",
        **{field: f"Changed. {getattr(older, field)}" for field in FIELDS},
    )
    diffs = section_diffs(older, newer)
    assert len(diffs) == len(FIELDS) + 1
    for heading, html in diffs:
        assert "<ins>" in html
        assert_markup_clean(html, f"the diff of {heading}", [marker(name)])


@EACH_PAYLOAD
def test_the_editors_live_preview_never_returns_live_markup(admin_client, name, payload):
    response = admin_client.post("/markdownx/markdownify/", {"content": f"Before\n\n{payload}"})
    assert response.status_code == 200
    assert live_markup(in_a_leaflet_body(response.content.decode())) == []


@EACH_PAYLOAD
def test_search_words_are_never_live(client, published, department, name, payload):
    html = assert_clean(client.get("/search/", {"q": payload}))
    assert "No leaflets found for" in html or "found for" in html


@EACH_PAYLOAD
def test_the_search_snippet_and_the_html_of_each_pdf_are_never_live(make_procedure, rf, name, payload):
    """A published leaflet with the payload in every field, its department and a glossary word:
    the snippet search shows for it, and the HTML WeasyPrint is given for its PDF and for an
    appointment sheet."""
    text = f"{marker(name)} {payload}"
    GlossaryTerm.objects.create(
        term=fit(GlossaryTerm, "term", text), definition=text, also=f"{payload}\nstent"
    )
    procedure = make_procedure(
        "hostile",
        title=fit(Procedure, "title", text),
        summary=fit(Procedure, "summary", text),
        lay_names=f"{payload}\nhostile words",
    )
    version = LeafletVersion.objects.create(
        procedure=procedure,
        sources=f"{marker(name)}\n{payload}",
        last_reviewed=datetime.date(2026, 11, 1),
        **{field: f"{hostile_text(name, payload)}\n\nA stent." for field in FIELDS},
    )
    workflow.publish(version)
    department = Department.objects.create(
        slug="hostile-ward",
        email='ward@example.org" onmouseover="alert(1)',
        **{field: fit(Department, field, text) for field in DEPARTMENT_TEXT_FIELDS},
    )
    department.procedures.add(procedure)

    [result] = search.search("marker")
    assert "<mark>" in result.snippet
    assert_markup_clean(result.snippet, "the search snippet")
    request = rf.get("/procedures/hostile/leaflet.pdf")
    assert_markup_clean(
        leaflet_pdf_html(request, version, [department]), "the leaflet PDF's HTML", [marker(name)]
    )
    plan = fasting.plan(
        timezone.now() + datetime.timedelta(days=3), 30, procedure.food_hours, procedure.clear_fluids_hours
    )
    assert_markup_clean(
        appointment_html(request, version, department, plan, for_pdf=True),
        "the appointment sheet PDF's HTML",
        [marker(name)],
    )


# -- every payload at once, through every page, the admin and the PDFs ------------------------


def every_payload_in_a_leaflet(category):
    procedure = Procedure.objects.create(
        slug="hostile",
        title="Hostile test leaflet",
        resource_number="IR-H01",
        category=category,
        summary="A leaflet full of hostile text.",
    )
    v1 = LeafletVersion.objects.create(
        procedure=procedure,
        sources=every_payload_in_lines(),
        last_reviewed=datetime.date(2026, 11, 1),
        **every_payload_in_sections(),
    )
    workflow.publish(v1)
    # v2 changes every section, so the admin's compare page shows the payloads in its diffs.
    v2 = workflow.start_new_draft(v1, **{field: f"Changed. {getattr(v1, field)}" for field in FIELDS})
    workflow.publish(v2)
    return procedure, v1, v2


@needs_pdf
def test_leaflet_text_never_becomes_live_markup(client, admin_client, category, pdf_html):
    _, v1, v2 = every_payload_in_a_leaflet(category)
    assert_clean(client.get("/procedures/hostile/"), expect=MARKERS)
    assert_clean(client.get("/procedures/hostile/v/1/"), expect=MARKERS)
    assert_clean(client.get("/procedures/hostile/print/"), expect=MARKERS)
    assert_clean(client.get("/search/?q=Marker"), expect="Hostile test leaflet")
    assert_pdf_clean(client.get("/procedures/hostile/leaflet.pdf"), pdf_html, MARKERS)
    base = "/admin/procedures/leafletversion"
    for version in (v1, v2):
        assert_clean(admin_client.get(f"{base}/{version.pk}/change/"), expect=MARKERS)
        assert_clean(admin_client.get(f"{base}/{version.pk}/preview/"), expect=MARKERS)
    assert_clean(admin_client.get(f"{base}/{v2.pk}/compare/"), expect=["Changed.", *MARKERS])
    assert_clean(admin_client.get(f"{base}/{v2.pk}/history/"))
    assert_clean(admin_client.get(f"{base}/?q=hostile"), expect="Hostile test leaflet")


def test_feedback_comments_are_never_live_in_the_admin(client, admin_client, published):
    # The dashboard lists the latest 20 comments and a leaflet's page the latest 10: ten at a time.
    for start in range(0, len(PAYLOADS), 10):
        batch = PAYLOADS[start : start + 10]
        for number, (name, payload) in enumerate(batch):
            patient = {"REMOTE_ADDR": f"192.0.2.{number + 1}"}  # under the flood limit per address
            answer = client.post("/procedures/kidney-biopsy/feedback/", {"useful": "no"}, **patient)
            assert answer.status_code == 302
            assert_clean(client.post(answer["Location"], {"comment": f"{marker(name)} {payload}"}, **patient))
        words = [marker(name) for name, _ in batch]
        comments = list(Feedback.objects.values_list("comment", flat=True))
        assert len(comments) == len(batch) and all(any(c.startswith(w) for c in comments) for w in words)
        assert_clean(admin_client.get("/admin/procedures/leafletversion/dashboard/"), expect=words)
        assert_clean(
            admin_client.get(f"/admin/procedures/leafletversion/{published.pk}/change/"), expect=words
        )
        assert_clean(admin_client.get("/admin/procedures/feedback/"), expect=words)
        Feedback.objects.all().delete()
    # A comment's own admin page, with every payload in one comment (more than a patient may type).
    everything = Feedback.objects.create(version=published, useful=False, comment=every_payload_in_lines())
    assert_clean(admin_client.get(f"/admin/procedures/feedback/{everything.pk}/change/"), expect=MARKERS)


def test_format_requests_are_never_live(client, admin_client, published):
    url = "/procedures/kidney-biopsy/other-formats/"
    for number, (name, payload) in enumerate(PAYLOADS):
        patient = {"REMOTE_ADDR": f"192.0.2.{number + 1}"}  # under the flood limit per address
        words = marker(name)
        hostile = {"language": f"{words} {payload}"[:100], "contact": f"{words} {payload}"[:300]}
        # Sent back with an error (no format ticked), the typed text is kept in the boxes.
        assert_clean(client.post(url, hostile, **patient), expect=words, status=400)
        assert_clean(client.post(url, {**hostile, "formats": ["audio"]}, **patient))
    saved = list(FormatRequest.objects.all())
    assert len(saved) == len(PAYLOADS)
    assert_clean(
        admin_client.get("/admin/procedures/formatrequest/"), expect=[marker(n) for n, _ in PAYLOADS]
    )
    for request in saved:  # each one's page shows its contact box as typed
        words = request.contact.split()[0]
        assert_clean(admin_client.get(f"/admin/procedures/formatrequest/{request.pk}/change/"), expect=words)


def departments_with_every_payload():
    """One department for each payload, in every text field, all offering kidney-biopsy, and
    one more with all of them in its longer fields, for the admin's form (which shows the text as
    typed, so one payload cannot hide another there)."""
    departments = [
        Department.objects.create(
            slug=f"hostile-ward-{number}",
            email=f'ward{number}@example.org" onmouseover="alert(1)',
            **{
                field: fit(Department, field, f"{marker(name)} {payload}") for field in DEPARTMENT_TEXT_FIELDS
            },
        )
        for number, (name, payload) in enumerate(PAYLOADS)
    ]
    every = Department.objects.create(
        slug="hostile-ward",
        email="ward@example.org",
        **{field: fit(Department, field, every_payload_in_lines()) for field in DEPARTMENT_TEXT_FIELDS},
    )
    Procedure.objects.get(slug="kidney-biopsy").departments.set(departments)
    return departments, every


@needs_pdf
def test_department_details_are_never_live(client, admin_client, published, pdf_html):
    departments, every = departments_with_every_payload()
    for url in (
        "/departments/",
        "/procedures/kidney-biopsy/",
        "/procedures/kidney-biopsy/print/",
        "/search/?q=nothing-matches-this",
    ):
        assert_clean(client.get(url), expect=MARKERS)
    # Urgent advice and arrival are Markdown: one payload each.
    for department, words in zip(departments, MARKERS, strict=True):
        assert_clean(client.get(f"/departments/{department.slug}/"), expect=words)
    assert_pdf_clean(client.get("/procedures/kidney-biopsy/leaflet.pdf"), pdf_html, MARKERS)
    # The appointment sheet holds one department: its HTML is checked with every payload by
    # test_the_search_snippet_and_the_html_of_each_pdf_are_never_live, the print view and the PDF here.
    sheet = {**SHEET, "department": departments[0].pk}
    assert_clean(client.post("/procedures/kidney-biopsy/appointment/?format=html", sheet), expect=MARKERS[:1])
    assert_pdf_clean(client.post("/procedures/kidney-biopsy/appointment/", sheet), pdf_html, MARKERS[:1])
    assert_clean(admin_client.get("/admin/procedures/department/"), expect=MARKERS)
    assert_clean(admin_client.get(f"/admin/procedures/department/{every.pk}/change/"), expect=MARKERS)
    # The 503 page, from the contacts file written when the departments were saved.
    write_contacts_snapshot(departments)
    outage = unavailable_response()
    assert outage.status_code == 503
    assert_markup_clean(outage.content.decode(), "the 503 page", MARKERS)


def test_glossary_entries_are_never_live(client, admin_client, make_procedure, make_draft):
    for name, payload in PAYLOADS:
        GlossaryTerm.objects.create(
            term=fit(GlossaryTerm, "term", f"{marker(name)} {payload}"),
            definition=f"{marker(name)} {payload}",
            also=f"{payload}\nstent",
        )
    # And one with all of them, for the admin's form, which shows the text as typed.
    every = GlossaryTerm.objects.create(
        term="Every hostile word", definition=every_payload_in_lines(), also=every_payload_in_lines()
    )
    # A leaflet using the terms' other forms (the payloads), so the linker has something to link.
    uses = {field: f"A stent.\n\n{text}" for field, text in every_payload_in_sections().items()}
    workflow.publish(make_draft(make_procedure("glossary-user"), **uses))
    assert_clean(client.get("/glossary/"), expect=MARKERS)
    assert_clean(client.get("/procedures/glossary-user/"), expect=["glossary-term", *MARKERS])
    assert_clean(client.get("/procedures/glossary-user/print/"), expect=["glossary-term", *MARKERS])
    assert_clean(admin_client.get("/admin/procedures/glossaryterm/"), expect=MARKERS)
    assert_clean(admin_client.get(f"/admin/procedures/glossaryterm/{every.pk}/change/"), expect=MARKERS)


# -- content files, loaded with load_content ------------------------------------------------------


def hostile_library(folder):
    """A content library with every payload: a body area, a glossary word and a department for
    each, and one leaflet holding them all. One department offers the leaflet: the contact boxes
    of the others are tested in test_department_details_are_never_live."""
    texts = [f"{marker(name)} {payload}" for name, payload in PAYLOADS]
    (folder / "leaflets").mkdir(parents=True)
    dump_toml_tables(
        folder / "categories.toml",
        "category",
        [
            {
                "slug": f"hostile-{number}",
                "name": fit(Category, "name", text),
                "summary": fit(Category, "summary", text),
            }
            for number, text in enumerate(texts)
        ],
    )
    dump_toml_tables(
        folder / "glossary.toml",
        "term",
        [
            {"term": fit(GlossaryTerm, "term", text), "definition": text, "also": [payload]}
            for text, (_, payload) in zip(texts, PAYLOADS, strict=True)
        ],
    )
    dump_toml_tables(
        folder / "departments.toml",
        "department",
        [
            {
                "slug": f"hostile-ward-{number}",
                "email": "ward@example.org",
                "procedures": ["hostile"] if number == 0 else [],
                **{field: fit(Department, field, text) for field in DEPARTMENT_TEXT_FIELDS},
            }
            for number, text in enumerate(texts)
        ],
    )
    write_leaflet(
        folder / "leaflets" / "hostile.md",
        {
            "title": fit(Procedure, "title", " ".join(texts)),
            "resource_number": "IR-H02",
            "category": "hostile-0",
            "summary": fit(Procedure, "summary", " ".join(texts)),
            "lay_names": [*[payload for _, payload in PAYLOADS], "hostile words"],
            "version": 1,
            "status": "published",
            "last_reviewed": datetime.date(2026, 11, 1),
            "sample_content": True,
            "sources": texts,
        },
        every_payload_in_sections(),
    )


@needs_pdf
def test_content_files_never_become_live_markup(client, admin_client, tmp_path, pdf_html):
    hostile_library(tmp_path / "content")
    load_library(tmp_path / "content")
    assert Procedure.objects.get().title.startswith(MARKERS[0])
    for url in ("/procedures/hostile/", "/procedures/hostile/print/", "/departments/", "/glossary/"):
        assert_clean(client.get(url), expect=MARKERS)
    # The home page lists the body areas that have leaflets: one here; each has its own page below.
    for url in ("/", "/procedures/", "/search/?q=hostile+words"):
        assert_clean(client.get(url), expect=MARKERS[0])
    for number, words in enumerate(MARKERS):
        assert_clean(client.get(f"/procedures/category/hostile-{number}/"), expect=words)
        assert_clean(client.get(f"/departments/hostile-ward-{number}/"), expect=words)
    assert_pdf_clean(client.get("/procedures/hostile/leaflet.pdf"), pdf_html, MARKERS)
    # The sitemap is XML: a payload that broke out would make it invalid or add elements.
    sitemap = ElementTree.fromstring(client.get("/sitemap.xml").content)
    assert {element.tag.split("}")[1] for element in sitemap.iter()} <= {
        "urlset",
        "url",
        "loc",
        "lastmod",
        "changefreq",
        "priority",
        "link",
    }
    version = LeafletVersion.objects.get()
    assert_clean(admin_client.get("/admin/procedures/category/"), expect=MARKERS)
    for url in (
        "/admin/procedures/procedure/",
        f"/admin/procedures/procedure/{version.procedure.pk}/change/",
        f"/admin/procedures/leafletversion/{version.pk}/change/",
    ):
        assert_clean(admin_client.get(url), expect=MARKERS[0])


# -- WeasyPrint reads local files only --------------------------------------------------------------


@pytest.fixture
def listener():
    """An HTTP server on loopback that counts every request it gets."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def fetching_page(address):
    return f"""<!DOCTYPE html><html><head>
    <link rel="stylesheet" href="{address}/linked.css">
    <style>@import url({address}/imported.css); body {{ background: url({address}/bg.png) }}
    @font-face {{ font-family: x; src: url({address}/font.woff) }}</style></head><body>
    <p>Fetch test</p><img src="{address}/pixel.png" alt="x"><img src="file:///etc/passwd" alt="y">
    <object data="{address}/object"></object><embed src="{address}/embed">
    <iframe src="{address}/frame"></iframe><svg><image href="{address}/svg.png"/></svg>
    </body></html>"""


@needs_pdf
def test_the_pdf_never_fetches_an_address_from_the_page(listener, monkeypatch):
    address, hits = listener
    asked = []
    real_fetch = pdf.LocalFileFetcher.fetch

    def recording_fetch(self, url, headers=None):
        asked.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(pdf.LocalFileFetcher, "fetch", recording_fetch)
    document = pdf.render(fetching_page(address), "http://testserver/")
    assert document.startswith(b"%PDF-")
    assert "Fetch test" in PdfReader(io.BytesIO(document)).pages[0].extract_text()
    assert hits == []
    # WeasyPrint did ask for them, and was refused: not merely never asked.
    assert any(url.startswith(address) for url in asked)
    assert "file:///etc/passwd" in asked


@needs_pdf
def test_the_listener_would_see_a_fetch(listener):
    """The control for the test above: WeasyPrint's own fetcher does reach the listener."""
    import weasyprint

    address, hits = listener
    weasyprint.HTML(string=fetching_page(address), base_url="http://testserver/").write_pdf()
    assert "/linked.css" in hits


@needs_pdf
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x.png",
        "http://127.0.0.1:8000/admin/",
        "file:///etc/passwd",
        "ftp://evil.example/x",
        "data:text/html,<script>alert(1)</script>",
        "/media/../../etc/passwd",
        "/static/../../../etc/passwd",
        "http://testserver/static/../../etc/passwd",
        "/media/no-such-picture.png",
        "/admin/",
    ],
)
def test_the_pdf_fetcher_refuses_anything_but_our_own_files(url):
    with pytest.raises(ValueError, match="reads local files only"):
        pdf.LocalFileFetcher().fetch(url)


@needs_pdf
def test_the_pdf_fetcher_serves_our_stylesheet():
    response = pdf.LocalFileFetcher().fetch("http://testserver/static/css/pdf.css")
    assert b"@page" in response.read()
    assert response.headers["Content-Type"] == "text/css"
