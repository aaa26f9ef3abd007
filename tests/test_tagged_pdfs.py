"""Tagged, accessible PDFs (PDF/UA-1 as WeasyPrint makes it): a screen reader finds the
document's language and title, its headings in order, lists and links, and the words behind
every picture. Read back from the file with pypdf."""

import io

import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from procedures import workflow
from procedures.sections import SECTIONS

from .test_printing import needs_pdf
from .test_translations import translate

pytestmark = [pytest.mark.django_db, needs_pdf]


def structure(content):
    """(catalog, [(tag, alt text or None), …] in reading order) of a PDF's structure tree."""
    reader = PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"]
    elements = []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return  # a marked-content number: the text itself
        if "/S" in node:
            elements.append((str(node["/S"]), str(node["/Alt"]) if "/Alt" in node else None))
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object"):
                walk(kid)

    walk(catalog["/StructTreeRoot"])
    return reader, catalog, elements


def tags(elements, name):
    return [alt for tag, alt in elements if tag == name]


def test_the_leaflet_pdf_is_tagged_with_language_title_headings_and_alt_text(client, published):
    response = client.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"]))
    reader, catalog, elements = structure(response.content)

    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en-GB"
    assert reader.metadata.title.startswith("Kidney biopsy (IR-T001 version 1)")
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])  # the title, not the file name
    # PDF/UA-1 says so in its metadata, which repeats the title.
    metadata = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in metadata and "Kidney biopsy (IR-T001 version 1)" in metadata
    assert reader.pdf_header == "%PDF-1.7"

    assert len(tags(elements, "/H1")) == 1
    # One heading per section, then phone numbers, sources, other formats and how the leaflet
    # was written; a department's name is an H3.
    assert len(tags(elements, "/H2")) == len(SECTIONS) + 4
    assert tags(elements, "/L") and tags(elements, "/LI") and tags(elements, "/Link")
    assert tags(elements, "/Figure") == [
        "QR code that opens the page saying whether this printout is the current version"
    ]


def test_a_picture_in_the_leaflet_keeps_its_alt_text_in_the_pdf(client, settings, make_procedure, make_draft):
    pictures = settings.MEDIA_ROOT / "leaflet-images"
    pictures.mkdir(parents=True)
    Image.new("RGB", (120, 80), "steelblue").save(pictures / "drain.png")
    workflow.publish(
        make_draft(
            make_procedure("kidney-biopsy"),
            after="![A drain taped to the skin of the back](/media/leaflet-images/drain.png)",
        )
    )

    _, _, elements = structure(client.get(reverse("procedures:leaflet_pdf", args=["kidney-biopsy"])).content)

    assert "A drain taped to the skin of the back" in tags(elements, "/Figure")


def test_a_translation_pdf_declares_its_language(client, published):
    translate(published)
    _, catalog, elements = structure(client.get("/ar/procedures/kidney-biopsy/leaflet.pdf").content)
    assert catalog["/Lang"] == "ar"
    assert len(tags(elements, "/H2")) == len(SECTIONS) + 4


def test_the_large_print_pdf_and_a_clinic_pack_are_tagged_too(client, staff_client, published):
    large = client.get(reverse("procedures:leaflet_large_print", args=["kidney-biopsy"]))
    reader, catalog, elements = structure(large.content)
    assert catalog["/Lang"] == "en-GB" and "large print" in reader.metadata.title
    assert len(tags(elements, "/H1")) == 1

    pack = staff_client.post(
        reverse("procedures:pack"), {"title": "Biopsy clinic", "leaflets": ["kidney-biopsy"]}
    )
    reader, catalog, elements = structure(pack.content)
    assert catalog["/Lang"] == "en-GB" and reader.metadata.title.startswith("Biopsy clinic")
    assert len(tags(elements, "/H1")) == 2  # the cover and the leaflet
