"""Whatever a nurse types, no script reaches a patient's page."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from procedures import workflow
from procedures.markdown import render_markdown
from procedures.sections import SECTIONS

pytestmark = pytest.mark.django_db

HOSTILE = {
    "script tag": "<script>alert('owned')</script>",
    "event handler": '<img src="/media/x.png" alt="x" onerror="alert(1)">',
    "event handler on a paragraph": '<p onmouseover="alert(1)">hover</p>',
    "javascript link": "[click me](javascript:alert(1))",
    "javascript image": "![pic](javascript:alert(1))",
    "data link": "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "raw javascript href": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "entity-encoded javascript": '<a href="&#106;avascript:alert(1)">x</a>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "svg with script": "<svg><script>alert(1)</script></svg>",
    "style tag": "<style>body{display:none}</style>",
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "form": '<form action="https://evil.example"><input name="password"></form>',
}
DANGER = [
    "<script",
    "onerror",
    "onmouseover",
    "javascript:",
    "data:text",
    "<iframe",
    "<svg",
    "<style",
    "style=",
    "<form",
    "<input",
]
# A whole page has its own forms (search, feedback); the hostile form must still be gone.
PAGE_DANGER = [d for d in DANGER if d not in ("<form", "<input")] + ["evil.example", 'name="password"']


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_renderer_removes_active_content(payload):
    html = render_markdown(payload).lower()
    for danger in DANGER:
        assert danger not in html


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.field)
def test_no_section_lets_a_script_reach_the_page(client, make_procedure, make_draft, section):
    procedure = make_procedure("hostile")
    payload = "\n\n".join(v for k, v in HOSTILE.items() if "image" not in k and k != "event handler")
    version = make_draft(procedure, **{section.field: "Safe words.\n\n" + payload})
    workflow.publish(version)
    body = client.get(procedure.get_absolute_url()).content.decode().lower()
    # The page's own schema.org data block (JSON, which browsers never run) is the one script
    # element allowed: it must parse as JSON and be the only one.
    [data] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    json.loads(data)
    body = body.replace(data, "").replace('<script type="application/ld+json"></script>', "")
    for danger in PAGE_DANGER:
        assert danger not in body, danger
    assert "safe words." in body


def test_safe_markdown_keeps_its_meaning():
    html = render_markdown(
        "## Before\n\n- **Do not eat** for 6 hours\n- Drink water\n\n[NHS 111](https://111.nhs.uk)"
    )
    assert "<h3>Before</h3>" in html  # demoted: the section heading is the h2
    assert "<strong>Do not eat</strong>" in html
    assert 'href="https://111.nhs.uk"' in html and 'rel="noopener noreferrer"' in html


def test_a_level_one_heading_cannot_add_a_second_h1():
    assert "<h1>" not in render_markdown("# Shouting heading")


def test_an_image_without_alt_text_cannot_be_saved(make_procedure, make_draft):
    draft = make_draft(make_procedure())
    draft.what_it_is = "![](/media/leaflet-images/kidney.png)"
    with pytest.raises(ValidationError, match="short description"):
        draft.full_clean()


def test_an_image_from_another_website_cannot_be_saved(make_procedure, make_draft):
    draft = make_draft(make_procedure())
    draft.what_it_is = "![A kidney](https://tracker.example/pixel.png)"
    with pytest.raises(ValidationError, match="uploaded with the editor"):
        draft.full_clean()


def test_an_uploaded_image_with_alt_text_is_shown():
    html = render_markdown("![A drawing of a kidney tube](/media/leaflet-images/kidney.png)")
    assert '<img alt="A drawing of a kidney tube" src="/media/leaflet-images/kidney.png">' in html


def test_glossary_terms_are_linked_once_per_leaflet(client, make_procedure, make_draft):
    from procedures.models import GlossaryTerm

    GlossaryTerm.objects.create(term="Catheter", definition="A thin tube.", also="catheters")
    version = make_draft(
        make_procedure("drain"),
        what_it_is="A thin tube (catheter) drains the fluid.",
        risks="The catheters can block.",
    )
    workflow.publish(version)
    body = client.get("/procedures/drain/").content.decode()
    assert body.count('href="/glossary/#catheter"') == 1
    assert '<a class="glossary-term" href="/glossary/#catheter">catheter</a>' in body
