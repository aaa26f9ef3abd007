"""Markdown -> safe HTML. The only way text typed by a nurse becomes markup.

Rendering happens on save (and in the admin's live preview, through the same function), so
templates print stored HTML and never parse Markdown per request. nh3 keeps a short list of
tags and attributes; everything else, including scripts, event handlers, styles, iframes and
javascript:/data: URLs, is removed. Headings inside a section are demoted to h3/h4 because the
section heading is the h2 and a page has exactly one h1.
"""

import html
import re

import markdown as python_markdown
import nh3
from django.conf import settings
from django.urls import reverse
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "strong", "em", "b", "i", "ul", "ol", "li", "a", "img",
    "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "abbr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"scope"},
}
URL_SCHEMES = {"https", "http", "mailto", "tel"}


class _DemoteHeadings(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            if element.tag in ("h1", "h2"):
                element.tag = "h3"
            elif element.tag in ("h5", "h6"):
                element.tag = "h4"


class _DemoteHeadingsExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 5)


def _keep_attribute(tag, name, value):
    # Pictures must be ones uploaded to this site: no tracking pixels or hot-linked images.
    if tag == "img" and name == "src" and not value.startswith(settings.MEDIA_URL):
        return None
    return value


def render_markdown(text):
    """Markdown source -> sanitised HTML fragment (safe to mark as safe in templates)."""
    if not text or not text.strip():
        return ""
    raw = python_markdown.markdown(
        text, extensions=["sane_lists", "tables", _DemoteHeadingsExtension()]
    )
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


_IMAGE = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')
_SRC = re.compile(r'\bsrc="([^"]*)"')


def image_problem(text):
    """A plain message if an image in this Markdown would reach patients broken or unlabelled."""
    raw = python_markdown.markdown(text or "")
    for tag in _IMAGE.findall(raw):
        alt = _ALT.search(tag)
        if not alt or not html.unescape(alt.group(1)).strip():
            return (
                "Every picture needs a short description for people who cannot see it. "
                "Write it between the square brackets: ![what the picture shows](address)."
            )
        src = _SRC.search(tag)
        if not src or not src.group(1).startswith(settings.MEDIA_URL):
            return (
                "Pictures must be uploaded with the editor (drag the file into the box). "
                "Pictures from other websites cannot be shown."
            )
    return None


_TAG = re.compile(r"(<[^>]+>)")
_NO_LINK_INSIDE = re.compile(r"<(/?)(a|h[1-6]|abbr|code)\b", re.IGNORECASE)


def link_glossary(fragment, glossary, linked):
    """Link the first use of each glossary term to its definition.

    `glossary` is [(slug, term, other forms)]; `linked` holds slugs already linked in this
    leaflet and is updated, so a term is explained once per leaflet, not once per section.
    Text inside links and headings is left alone.
    """
    forms = {}
    for slug, term, also in glossary:
        for form in [term, *also.splitlines()]:
            if form.strip():
                forms.setdefault(form.strip().lower(), slug)
    if not forms or not fragment:
        return fragment
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")\b",
        re.IGNORECASE,
    )
    glossary_url = reverse("procedures:glossary")

    def link(match):
        slug = forms[match.group(1).lower()]
        if slug in linked:
            return match.group(0)
        linked.add(slug)
        # The slug is checked when a term is saved or loaded, and escaped here all the same:
        # this runs after the sanitiser, so nothing may reach the page unescaped.
        return f'<a class="glossary-term" href="{glossary_url}#{html.escape(slug)}">{match.group(0)}</a>'

    out, depth = [], 0
    for piece in _TAG.split(fragment):
        if piece.startswith("<"):
            marker = _NO_LINK_INSIDE.match(piece)
            if marker:
                depth += -1 if marker.group(1) else 1
            out.append(piece)
        elif depth == 0:
            out.append(pattern.sub(link, piece))
        else:
            out.append(piece)
    return "".join(out)


_GLOSSARY_LINK = re.compile(r'<a class="glossary-term" href="[^"#]*#([\w-]+)"')


def linked_glossary_slugs(fragment):
    """The glossary slugs that link_glossary linked in a stored fragment, in reading order."""
    return _GLOSSARY_LINK.findall(fragment or "")
