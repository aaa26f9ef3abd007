"""No hostile text becomes live markup, wherever it is typed and wherever it is shown.

Every payload in tests/xss_corpus.py goes through each way text reaches a page: every Markdown
field and the sources of a leaflet, the search box, a feedback comment, every field of a
department, a glossary entry, and all of these in content files loaded with load_content.
Then the public pages, the print view, the admin pages that show the text and the HTML given
to WeasyPrint are parsed (tests/live_markup.py), and each PDF is opened with pypdf to check
that it rendered, holds the text, and has no script or unsafe link in it.
"""

import datetime
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.test import Client
from pypdf import PdfReader

from procedures import pdf
from procedures.content_files import dump_toml_tables, write_leaflet
from procedures.library import load_library
from procedures.middleware import unavailable_response, write_contacts_snapshot
from procedures.models import (
    Category, Department, Feedback, FormatRequest, GlossaryTerm, LeafletVersion, Procedure,
)
from procedures.sections import SECTIONS
from procedures import workflow
from tests.live_markup import live_markup, url_scheme
from tests.xss_corpus import PAYLOADS

pytestmark = pytest.mark.django_db
IDS = [name for name, _ in PAYLOADS]
needs_pdf = pytest.mark.skipif(not pdf.AVAILABLE, reason="WeasyPrint needs Pango")


def fit(model, field, text):
    """Text cut to the column's length: PostgreSQL refuses longer text (the marker comes first)."""
    length = model._meta.get_field(field).max_length
    return text[:length] if length else text


def marker(name):
    """Plain words put beside each payload, to prove the text really reached the page."""
    return f"Marker {name.replace('-', ' ')} end"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # PDFs and the feedback throttle live in the cache; each payload starts clean.
    cache.clear()


@pytest.fixture
def admin_client(db, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user(
        "reviewer", password="x" * 16, is_staff=True, is_superuser=True))
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


def assert_clean(response, *, expect=None, status=200):
    assert response.status_code == status, (response.status_code, response.request["PATH_INFO"])
    html = response.content.decode()
    problems = live_markup(html)
    assert problems == [], f"{response.request['PATH_INFO']}: {problems}"
    if expect:
        assert expect in html, f"{expect!r} is not on {response.request['PATH_INFO']}"
    return html


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
    html = given_html.pop()
    assert live_markup(html) == []
    problems, text = pdf_problems(response.content)
    assert problems == []
    # pypdf may break lines anywhere, and with some fonts it leaves NULs between letters.
    assert re.sub(r"[\s\x00]", "", expect) in re.sub(r"[\s\x00]", "", text)


# -- the detector itself: these tests are only worth something if it can see live markup ----

@pytest.mark.parametrize("html", [
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
])
def test_the_detector_sees_live_markup(html):
    assert live_markup(html)


def test_the_detector_passes_escaped_text_and_our_own_markup():
    assert live_markup(
        '<html><head><link rel="stylesheet" href="/static/css/site.css">'
        '<script type="application/ld+json">{"name": "\\u003cb\\u003e"}</script></head><body>'
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=alert(1) javascript:alert(1)</p>"
        '<div class="prose"><p><a href="https://111.nhs.uk" rel="noopener noreferrer">111</a>'
        '<a class="glossary-term" href="/glossary/#stent">stent</a></p></div>'
        '<svg role="img" class="qr-code" viewBox="0 0 4 4"><title>QR</title><path d="M0 0h1"/></svg>'
        '<form method="post" action="/search/"><input name="q"></form></body></html>'
    ) == []


def test_the_corpus_is_big_and_every_payload_is_live_before_sanitising():
    assert len(PAYLOADS) >= 40 and len(set(IDS)) == len(IDS)
    # Put raw into a page unescaped, most payloads would be live: the corpus has teeth.
    live = [name for name, text in PAYLOADS if live_markup(text)]
    assert len(live) >= 40, live


# -- leaflet text: every Markdown section and the sources --------------------------------------

def hostile_leaflet(name, payload, category):
    procedure = Procedure.objects.create(
        slug="hostile", title="Hostile test leaflet", resource_number="IR-H01",
        category=category, summary="A leaflet full of hostile text.",
    )
    v1 = LeafletVersion.objects.create(
        procedure=procedure,
        sources=f"{marker(name)}\n{payload}",
        last_reviewed=datetime.date(2026, 11, 1),
        **{s.field: f"{marker(name)}\n\n{payload}\n\nA {payload} inline." for s in SECTIONS},
    )
    workflow.publish(v1)
    # v2 changes every section, so the admin's compare page shows the payload in its diffs.
    v2 = workflow.start_new_draft(v1, **{s.field: f"Changed. {getattr(v1, s.field)}" for s in SECTIONS})
    workflow.publish(v2)
    return procedure, v1, v2


@needs_pdf
@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_leaflet_text_never_becomes_live_markup(client, admin_client, category, pdf_html, payload,
                                                request):
    name = request.node.callspec.id
    procedure, v1, v2 = hostile_leaflet(name, payload, category)
    words = marker(name)
    assert_clean(client.get("/procedures/hostile/"), expect=words)
    assert_clean(client.get("/procedures/hostile/v/1/"), expect=words)
    assert_clean(client.get("/procedures/hostile/print/"), expect=words)
    assert_clean(client.get("/search/?q=Marker"), expect="Hostile test leaflet")
    assert_pdf_clean(client.get("/procedures/hostile/leaflet.pdf"), pdf_html, words)
    base = "/admin/procedures/leafletversion"
    for version in (v1, v2):
        assert_clean(admin_client.get(f"{base}/{version.pk}/change/"), expect=words)
        assert_clean(admin_client.get(f"{base}/{version.pk}/preview/"), expect=words)
    assert_clean(admin_client.get(f"{base}/{v2.pk}/compare/"), expect="Changed.")
    assert_clean(admin_client.get(f"{base}/{v2.pk}/history/"))
    assert_clean(admin_client.get(f"{base}/?q=hostile"), expect="Hostile test leaflet")


@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_the_editors_live_preview_never_returns_live_markup(admin_client, payload):
    response = admin_client.post("/markdownx/markdownify/", {"content": f"Before\n\n{payload}"})
    assert response.status_code == 200
    assert live_markup(f'<div class="prose">{response.content.decode()}</div>') == []


# -- the search box -----------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_search_words_are_never_live(client, published, department, payload):
    html = assert_clean(client.get("/search/", {"q": payload}))
    assert "No leaflets found for" in html or "found for" in html


# -- feedback comments, which staff read in the admin ---------------------------------------

@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_feedback_comments_are_never_live_in_the_admin(client, admin_client, published, payload,
                                                       request):
    words = marker(request.node.callspec.id)
    answer = client.post("/procedures/kidney-biopsy/feedback/", {"useful": "no"})
    assert answer.status_code == 302
    assert_clean(client.post(answer["Location"], {"comment": f"{words} {payload}"}))
    feedback = Feedback.objects.get()
    assert feedback.comment.startswith(words)
    assert_clean(admin_client.get("/admin/procedures/leafletversion/dashboard/"), expect=words)
    assert_clean(admin_client.get(f"/admin/procedures/leafletversion/{published.pk}/change/"), expect=words)
    assert_clean(admin_client.get("/admin/procedures/feedback/"), expect=words)
    assert_clean(admin_client.get(f"/admin/procedures/feedback/{feedback.pk}/change/"), expect=words)


# -- format requests, which staff read in the admin -------------------------------------------

@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_format_requests_are_never_live(client, admin_client, published, payload, request):
    words = marker(request.node.callspec.id)
    hostile = {"language": f"{words} {payload}"[:100], "contact": f"{words} {payload}"[:300]}
    # Sent back with an error (no format ticked), the typed text is kept in the boxes.
    assert_clean(client.post("/procedures/kidney-biopsy/other-formats/", hostile), expect=words, status=400)
    assert_clean(client.post("/procedures/kidney-biopsy/other-formats/", {**hostile, "formats": ["audio"]}))
    saved = FormatRequest.objects.get()
    assert saved.contact.startswith(words)
    assert_clean(admin_client.get("/admin/procedures/formatrequest/"), expect=words)
    assert_clean(admin_client.get(f"/admin/procedures/formatrequest/{saved.pk}/change/"), expect=words)


# -- department details --------------------------------------------------------------------------

DEPARTMENT_TEXT_FIELDS = ("name", "site", "address", "phone", "opening_hours", "urgent_advice",
                          "out_of_hours", "arrival_instructions")


@needs_pdf
@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_department_details_are_never_live(client, admin_client, published, pdf_html, payload,
                                           request, settings):
    words = marker(request.node.callspec.id)
    department = Department.objects.create(
        slug="hostile-ward", email=f'ward@example.org" onmouseover="alert(1)',
        **{field: fit(Department, field, f"{words} {payload}") for field in DEPARTMENT_TEXT_FIELDS},
    )
    department.procedures.add(published.procedure)
    for url in ("/departments/", "/departments/hostile-ward/", "/procedures/kidney-biopsy/",
                "/procedures/kidney-biopsy/print/", "/search/?q=nothing-matches-this"):
        assert_clean(client.get(url), expect=words)
    assert_pdf_clean(client.get("/procedures/kidney-biopsy/leaflet.pdf"), pdf_html, words)
    sheet = {"date": "2027-03-14", "time": "09:30", "arrive_minutes_before": "30",
             "department": department.pk}
    assert_clean(client.post("/procedures/kidney-biopsy/appointment/?format=html", sheet), expect=words)
    assert_pdf_clean(client.post("/procedures/kidney-biopsy/appointment/", sheet), pdf_html, words)
    assert_clean(admin_client.get("/admin/procedures/department/"), expect=words)
    assert_clean(admin_client.get(f"/admin/procedures/department/{department.pk}/change/"), expect=words)
    # The 503 page, from the contacts file written when the department was saved.
    write_contacts_snapshot([department])
    outage = unavailable_response()
    assert outage.status_code == 503
    html = outage.content.decode()
    assert live_markup(html) == [] and words in html


# -- glossary entries ------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_glossary_entries_are_never_live(client, admin_client, make_procedure, make_draft, payload,
                                         request):
    words = marker(request.node.callspec.id)
    term = GlossaryTerm.objects.create(term=fit(GlossaryTerm, "term", f"{words} {payload}"),
                                       definition=f"{words} {payload}",
                                       also=f"{payload}\nstent")
    # A leaflet using the term's other forms, so the linker has something to link.
    workflow.publish(make_draft(make_procedure("glossary-user"), what_it_is=f"A stent. {payload} and a stent."))
    assert_clean(client.get("/glossary/"), expect=words)
    assert_clean(client.get("/procedures/glossary-user/"), expect="glossary-term")
    assert_clean(client.get("/procedures/glossary-user/print/"))
    assert_clean(admin_client.get("/admin/procedures/glossaryterm/"), expect=words)
    assert_clean(admin_client.get(f"/admin/procedures/glossaryterm/{term.pk}/change/"), expect=words)


# -- content files, loaded with load_content ------------------------------------------------------

def hostile_library(folder, name, payload):
    text = f"{marker(name)} {payload}"
    (folder / "leaflets").mkdir(parents=True)
    dump_toml_tables(folder / "categories.toml", "category", [{
        "slug": "hostile", "name": fit(Category, "name", text), "summary": fit(Category, "summary", text),
    }])
    dump_toml_tables(folder / "glossary.toml", "term",
                     [{"term": fit(GlossaryTerm, "term", text), "definition": text, "also": [payload]}])
    dump_toml_tables(folder / "departments.toml", "department", [{
        "slug": "hostile-ward", "email": "ward@example.org", "procedures": ["hostile"],
        **{field: fit(Department, field, text) for field in DEPARTMENT_TEXT_FIELDS},
    }])
    write_leaflet(folder / "leaflets" / "hostile.md", {
        "title": fit(Procedure, "title", text), "resource_number": "IR-H02", "category": "hostile",
        "summary": fit(Procedure, "summary", text),
        "lay_names": [payload, "hostile words"], "version": 1, "status": "published",
        "last_reviewed": datetime.date(2026, 11, 1), "sample_content": True,
        "sources": [text, payload],
    }, {s.field: f"{text}\n\n{payload}" for s in SECTIONS})


@needs_pdf
@pytest.mark.parametrize("payload", [p for _, p in PAYLOADS], ids=IDS)
def test_content_files_never_become_live_markup(client, admin_client, tmp_path, pdf_html, payload,
                                                request):
    words = marker(request.node.callspec.id)
    hostile_library(tmp_path / "content", request.node.callspec.id, payload)
    load_library(tmp_path / "content")
    assert Procedure.objects.get().title.startswith(words)
    for url in ("/", "/procedures/", "/procedures/category/hostile/", "/procedures/hostile/",
                "/procedures/hostile/print/", "/departments/", "/departments/hostile-ward/",
                "/glossary/", "/search/?q=hostile+words"):
        assert_clean(client.get(url), expect=words)
    assert_pdf_clean(client.get("/procedures/hostile/leaflet.pdf"), pdf_html, words)
    # The sitemap is XML: a payload that broke out would make it invalid or add elements.
    sitemap = ElementTree.fromstring(client.get("/sitemap.xml").content)
    assert {element.tag.split("}")[1] for element in sitemap.iter()} <= {
        "urlset", "url", "loc", "lastmod", "changefreq", "priority", "link"}
    version = LeafletVersion.objects.get()
    for url in ("/admin/procedures/procedure/", f"/admin/procedures/procedure/{version.procedure.pk}/change/",
                "/admin/procedures/category/", f"/admin/procedures/leafletversion/{version.pk}/change/"):
        assert_clean(admin_client.get(url), expect=words)


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
    assert f"/linked.css" in hits


@needs_pdf
@pytest.mark.parametrize("url", [
    "https://evil.example/x.png", "http://127.0.0.1:8000/admin/", "file:///etc/passwd",
    "ftp://evil.example/x", "data:text/html,<script>alert(1)</script>",
    "/media/../../etc/passwd", "/static/../../../etc/passwd", "http://testserver/static/../../etc/passwd",
    "/media/no-such-picture.png", "/admin/",
])
def test_the_pdf_fetcher_refuses_anything_but_our_own_files(url):
    with pytest.raises(ValueError, match="reads local files only"):
        pdf.LocalFileFetcher().fetch(url)


@needs_pdf
def test_the_pdf_fetcher_serves_our_stylesheet():
    response = pdf.LocalFileFetcher().fetch("http://testserver/static/css/pdf.css")
    assert b"@page" in response.read()
    assert response.headers["Content-Type"] == "text/css"
