"""Uploaded pictures: served by the app to anyone (procedures/pictures.py), only as pictures,
only from the pictures folder; shown in a leaflet as a figure of their own."""

import io
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.http import http_date
from PIL import Image
from pypdf import PdfReader

from procedures import pdf, workflow
from procedures.markdown import render_markdown

pytestmark = pytest.mark.django_db

UPLOAD = "/markdownx/upload/"
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
A_YEAR = "public, max-age=31536000, immutable"


def uploaded(staff_client, kind="PNG", name="kidney.png"):
    """Upload a picture as the editor does; its address, as inserted into the text."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, kind)
    upload = SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{kind.lower()}")
    code = staff_client.post(UPLOAD, {"image": upload}, **XHR).json()["image_code"]
    return code.removeprefix("![](").removesuffix(")")


@pytest.fixture
def folder(settings):
    path = settings.MEDIA_ROOT / "leaflet-images"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- Serving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["dev-run", "production"])
@pytest.mark.parametrize(
    ("kind", "name", "content_type"),
    [
        ("PNG", "kidney.png", "image/png"),
        ("JPEG", "photo.jpg", "image/jpeg"),
        ("JPEG", "PHOTO.JPEG", "image/jpeg"),
        ("GIF", "diagram.gif", "image/gif"),
        ("WEBP", "photo.webp", "image/webp"),
    ],
)
def test_an_uploaded_picture_is_served_to_a_patient_as_a_picture(
    client, staff_client, settings, debug, kind, name, content_type
):
    address = uploaded(staff_client, kind, name)
    settings.DEBUG = debug
    client.logout()
    response = client.get(address)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == A_YEAR
    assert "img-src 'self'" in response["Content-Security-Policy"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == kind and image.size == (40, 30)
    assert "Set-Cookie" not in response  # so a proxy or CDN may keep it


def test_a_browser_that_has_the_picture_gets_a_304(client, staff_client):
    address = uploaded(staff_client)
    first = client.get(address)
    again = client.get(address, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == A_YEAR
    older = client.get(address, HTTP_IF_MODIFIED_SINCE=http_date(0))
    assert older.status_code == 200


def test_head_is_answered_and_post_refused(client, staff_client):
    address = uploaded(staff_client)
    head = client.head(address)
    assert head.status_code == 200 and head["Content-Type"] == "image/png"
    assert client.post(address).status_code == 405


def test_a_missing_picture_is_a_404(client, folder):
    assert client.get("/media/leaflet-images/00000000-0000-0000-0000-000000000000.png").status_code == 404


def test_the_folder_is_never_listed(client, staff_client):
    uploaded(staff_client)
    for address in ("/media/", "/media/leaflet-images/", "/media/leaflet-images"):
        assert client.get(address).status_code == 404, address


@pytest.mark.parametrize(
    "address",
    [
        "/media/leaflet-images/../../ir_portal/settings.py",
        "/media/leaflet-images/../secret.png",
        "/media/leaflet-images/%2e%2e/secret.png",
        "/media/leaflet-images/..%2fsecret.png",
        "/media/leaflet-images/..%5csecret.png",
        "/media/leaflet-images//etc/passwd",
        "/media/leaflet-images/%2fetc%2fpasswd",
        "/media/leaflet-images/inner/secret.png",
        "/media/secret.png",
        "/media/leaflet-images/notes.txt",
        "/media/leaflet-images/drawing.svg",
        "/media/leaflet-images/page.html",
        "/media/leaflet-images/secret.png%00.txt",
    ],
)
def test_nothing_outside_the_pictures_folder_and_nothing_but_pictures_is_served(client, folder, address):
    for path in (
        folder.parent / "secret.png",
        folder / "inner" / "secret.png",
        folder / "notes.txt",
        folder / "drawing.svg",
        folder / "page.html",
    ):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"<script>alert(1)</script>")
    response = client.get(address)
    assert response.status_code == 404
    assert b"alert(1)" not in (
        b"".join(response.streaming_content) if response.streaming else response.content
    )


def test_a_link_in_the_folder_to_a_file_elsewhere_is_not_followed(client, folder, tmp_path):
    outside = tmp_path / "outside.png"
    Image.new("RGB", (4, 4)).save(outside, "PNG")
    (folder / "linked.png").symlink_to(outside)
    assert client.get("/media/leaflet-images/linked.png").status_code == 404


# -- A picture in a leaflet ------------------------------------------------------------------

PICTURE = "/media/leaflet-images/kidney.png"
FIGURE = (
    f'<figure><img alt="A kidney tube" src="{PICTURE}">'
    '<figcaption aria-hidden="true">A kidney tube</figcaption></figure>'
)


@pytest.mark.parametrize(
    "text",
    [
        f"![A kidney tube]({PICTURE})",
        f"Before.\n\n![A kidney tube]({PICTURE})\n\nAfter.",
        f"  ![A kidney tube]({PICTURE})  \n",
    ],
    ids=["alone", "between-paragraphs", "spaces-around"],
)
def test_a_picture_on_its_own_line_is_a_captioned_figure(text):
    html = render_markdown(text).replace("\n", "")
    assert FIGURE in html
    assert "<p><img" not in html and "<p></p>" not in html


@pytest.mark.parametrize(
    ("text", "before", "after"),
    [
        # The drop landed at the start of a sentence: the "…tubeMany nephrostomies".
        (f"![A kidney tube]({PICTURE})Many are done urgently.", None, "Many are done urgently."),
        (
            f"You have a tube.![A kidney tube]({PICTURE}) It drains urine.",
            "You have a tube.",
            "It drains urine.",
        ),
        (
            f"You have a tube.\n![A kidney tube]({PICTURE})\nIt drains urine.",
            "You have a tube.",
            "It drains urine.",
        ),
        (
            f"You will have a **tube**.![A kidney tube]({PICTURE})",
            "You will have a <strong>tube</strong>.",
            None,
        ),
    ],
    ids=["start-of-line", "mid-line", "lines-without-a-gap", "end-of-line"],
)
def test_a_picture_dropped_into_a_sentence_becomes_a_figure_between_paragraphs(text, before, after):
    html = render_markdown(text)
    expected = "".join(
        part for part in (before and f"<p>{before}</p>", FIGURE, after and f"<p>{after}</p>") if part
    )
    assert html.replace("\n", "") == expected


def test_a_picture_not_yet_described_has_no_empty_caption():
    # What the live preview shows straight after the drop, before the nurse writes the alt text.
    assert (
        render_markdown(f"![]({PICTURE})").replace("\n", "")
        == f'<figure><img alt="" src="{PICTURE}"></figure>'
    )


def test_two_pictures_on_one_line_are_two_figures():
    html = render_markdown(f"![One]({PICTURE}) ![Two]({PICTURE})")
    assert html.count("<figure>") == 2 and "<p>" not in html


def test_a_picture_inside_a_link_or_a_list_stays_where_it_is():
    linked = render_markdown(f"[![A kidney tube]({PICTURE})](https://www.nhs.uk)")
    assert (
        "<figure>" not in linked and '<a href="https://www.nhs.uk" rel="noopener noreferrer"><img' in linked
    )
    listed = render_markdown(f"- ![A kidney tube]({PICTURE})")
    assert "<li><img" in listed


def test_a_word_list_term_in_a_caption_is_linked_in_the_text_instead():
    """The caption repeats the alt text, hidden from screen readers: a link there would be a
    control they cannot reach, so the term's first use in the text gets the link."""
    from procedures.markdown import link_glossary

    html = render_markdown(f"![A nephrostomy tube]({PICTURE})\n\nThe nephrostomy drains urine.")
    linked = link_glossary(html, [("nephrostomy", "nephrostomy", "")], set())
    assert '<figcaption aria-hidden="true">A nephrostomy tube</figcaption>' in linked
    assert (
        '<p>The <a class="glossary-term" href="/glossary/#nephrostomy">nephrostomy</a> drains urine.</p>'
        in linked
    )


@pytest.mark.parametrize(
    "src",
    [
        "https://tracker.example/pixel.png",
        "//tracker.example/pixel.png",
        "/static/img/x.png",
        "/media/../admin/",
        "/media/leaflet-images/../../admin/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "/admin/logout/",
    ],
)
def test_only_our_own_uploaded_pictures_survive_the_sanitiser(src):
    html = render_markdown(f'![A tracker]({src})\n\n<img src="{src}" alt="raw">')
    assert src not in html and "src=" not in html


def test_a_nurse_cannot_write_her_own_figure_markup_to_smuggle_attributes():
    html = render_markdown(
        '<figure onclick="alert(1)" style="x" class="y"><figcaption id="z" aria-hidden="false" '
        'onmouseover="alert(2)">Hi</figcaption></figure>'
    )
    for danger in ("onclick", "onmouseover", "style=", "class=", "id=", "alert"):
        assert danger not in html


# -- On paper and in the PDF -----------------------------------------------------------------

needs_pdf = pytest.mark.skipif(
    not pdf.AVAILABLE and os.environ.get("CI", "").lower() != "true",
    reason="WeasyPrint needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)",
)
MM = 72 / 25.4  # PDF points in a millimetre
A4_TEXT_WIDTH = (210 - 2 * 16) * MM  # print.css and pdf.css: 16 mm side margins


def drawn_pictures(document):
    """(page number, picture's pixel size, width and height drawn in points) for each
    picture drawn in the PDF, read back from each page's drawing operations."""
    drawn = []
    for number, page in enumerate(PdfReader(io.BytesIO(document)).pages, start=1):
        sizes = {f"/{image.name.rsplit('.', 1)[0]}": image.image.size for image in page.images}

        def record(operator, operands, matrix, text_matrix, number=number, sizes=sizes):
            if operator == b"Do" and operands[0] in sizes:
                drawn.append((number, sizes[operands[0]], matrix[0], matrix[3]))

        page.extract_text(visitor_operand_before=record)
    return drawn


def published_with_pictures(staff_client, make_procedure, make_draft, pictures):
    addresses = [uploaded_sized(staff_client, size) for size in pictures]
    text = "\n\n".join(f"Words before.\n\n![Picture {n}]({src})" for n, src in enumerate(addresses, 1))
    version = make_draft(make_procedure("kidney-biopsy", title="Kidney biopsy"), during=text)
    workflow.publish(version)
    return version


def uploaded_sized(staff_client, size):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    upload = SimpleUploadedFile("drawing.png", buffer.getvalue(), content_type="image/png")
    return staff_client.post(UPLOAD, {"image": upload}, **XHR).json()["image_code"][4:-1]


def test_the_print_view_shows_the_picture_as_a_figure(client, staff_client, make_procedure, make_draft):
    published_with_pictures(staff_client, make_procedure, make_draft, [(240, 160)])
    client.logout()
    body = client.get("/procedures/kidney-biopsy/print/").content.decode()
    assert re.search(
        r'<figure><img alt="Picture 1" src="/media/leaflet-images/[\w-]+\.png">'
        r'<figcaption aria-hidden="true">Picture 1</figcaption>\s*</figure>',
        body,
    )


@needs_pdf
def test_pictures_in_the_pdf_are_read_from_disk_and_sized_for_a4(
    client, staff_client, make_procedure, make_draft
):
    """A small drawing keeps its size, a wide photo is as wide as the text, a tall one is
    shortened to 90 mm, none is stretched. The test client runs no server: a picture that
    WeasyPrint tried to fetch over HTTP would be missing from the PDF."""
    published_with_pictures(staff_client, make_procedure, make_draft, [(240, 160), (1600, 400), (1200, 1600)])
    client.logout()
    response = client.get("/procedures/kidney-biopsy/leaflet.pdf")
    assert response["Content-Type"] == "application/pdf"
    drawn = drawn_pictures(response.content)
    assert [size for _, size, _, _ in drawn] == [(240, 160), (1600, 400), (1200, 1600)]
    for _, (pixels_wide, pixels_high), width, height in drawn:
        assert width <= A4_TEXT_WIDTH + 0.5 and height <= 90 * MM + 0.5
        assert width / height == pytest.approx(pixels_wide / pixels_high, rel=0.01)
    small, wide, tall = drawn
    assert small[2] == pytest.approx(240 * 0.75)  # CSS pixels: 96 to the inch, 72 points
    assert wide[2] == pytest.approx(A4_TEXT_WIDTH, abs=0.5)
    assert tall[3] == pytest.approx(90 * MM, abs=0.5)


@needs_pdf
def test_the_pdf_fetcher_reads_only_the_pictures_folder(folder, tmp_path):
    Image.new("RGB", (4, 4)).save(folder / "kidney.png", "PNG")
    Image.new("RGB", (4, 4)).save(folder.parent / "elsewhere.png", "PNG")
    (folder / "linked.png").symlink_to(tmp_path / "outside.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "outside.png", "PNG")
    fetcher = pdf.LocalFileFetcher()
    picture = fetcher.fetch("http://testserver/media/leaflet-images/kidney.png")
    assert picture.headers["Content-Type"] == "image/png"
    for url in (
        "/media/elsewhere.png",
        "/media/leaflet-images/linked.png",
        "/media/leaflet-images/../elsewhere.png",
    ):
        with pytest.raises(ValueError, match="reads local files only"):
            fetcher.fetch(url)
