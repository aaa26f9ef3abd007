"""Markdown -> safe HTML. The only way text typed by a nurse becomes markup.

Rendering happens on save (and in the admin's live preview, through the same function), so
templates print stored HTML and never parse Markdown per request. nh3 keeps a short list of
tags and attributes; everything else, including scripts, event handlers, styles, iframes and
javascript:/data: URLs, is removed. Headings inside a section are demoted to h3/h4 because the
section heading is the h2 and a page has exactly one h1. A picture in a paragraph becomes a
figure of its own between the paragraph's text before and after it (see _PicturesAsFigures).
"""

import html
import re
import xml.etree.ElementTree as etree

import markdown as python_markdown
import nh3
from django.conf import settings
from django.urls import reverse
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .pictures import NAME_PATTERN as PICTURE_NAME

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h3",
    "h4",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "abbr",
    "figure",
    "figcaption",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "figcaption": {"aria-hidden"},
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


class _PicturesAsFigures(Treeprocessor):
    """Each picture that sits in a paragraph becomes its own <figure>, captioned with its
    description, and the paragraph's text before and after it stays as paragraphs.

    The editor inserts `![](…)` wherever the drop landed, often mid-line or with no blank line
    before the next sentence, where Markdown would run the picture into the text ("…tube" +
    "Many nephrostomies…"). Splitting here makes every such case read right. The caption is
    the alt text, hidden from screen readers (as Pandoc does) so they read it once, not twice.
    A picture inside a link or emphasis, a table cell or a one-line list item stays inline.
    """

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in reversed(list(enumerate(parent))):
                if child.tag == "p" and any(grandchild.tag == "img" for grandchild in child):
                    parent[index : index + 1] = self._split(child)

    def _split(self, paragraph):
        pieces, current = [], etree.Element("p")
        current.text = paragraph.text
        for child in list(paragraph):
            if child.tag != "img":
                current.append(child)
                continue
            pieces.append(current)
            following, child.tail = child.tail, None
            figure = etree.Element("figure")
            figure.append(child)
            if child.get("alt", "").strip():  # none yet in the live preview of a fresh drop
                caption = etree.SubElement(figure, "figcaption", {"aria-hidden": "true"})
                caption.text = child.get("alt")
            pieces.append(figure)
            current = etree.Element("p")
            current.text = following
        pieces.append(current)
        return [piece for piece in map(self._trimmed, pieces) if piece is not None]

    @staticmethod
    def _trimmed(element):
        """A paragraph without the spaces and line breaks that stood next to a picture; None
        when nothing is left."""
        if element.tag != "p":
            return element
        while len(element) and element[-1].tag == "br" and not (element[-1].tail or "").strip():
            element.remove(element[-1])
        while len(element) and element[0].tag == "br" and not (element.text or "").strip():
            element.text = element[0].tail
            element.remove(element[0])
        element.text = (element.text or "").lstrip()
        if len(element):
            element[-1].tail = (element[-1].tail or "").rstrip()
        else:
            element.text = element.text.rstrip()
        return element if len(element) or element.text else None


class _LeafletExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_PicturesAsFigures(md), "pictures_as_figures", 15)  # after inline
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 5)


def is_uploaded_picture(src):
    """A picture the editor uploaded, at the address procedures/pictures.py serves: no other
    address, not even elsewhere on this site."""
    prefix = settings.MEDIA_URL + settings.MARKDOWNX_MEDIA_PATH
    return src.startswith(prefix) and bool(re.fullmatch(PICTURE_NAME, src.removeprefix(prefix)))


def _keep_attribute(tag, name, value):
    # Pictures must be ones uploaded to this site: no tracking pixels or hot-linked images.
    if tag == "img" and name == "src" and not is_uploaded_picture(value):
        return None
    return value


def render_markdown(text):
    """Markdown source -> sanitised HTML fragment (safe to mark as safe in templates)."""
    if not text or not text.strip():
        return ""
    raw = python_markdown.markdown(text, extensions=["sane_lists", "tables", _LeafletExtension()])
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
    text = text or ""
    # A picture is Markdown's ![…] or an <img> tag written in: text with neither has none,
    # and need not be rendered (check_content asks this of every section of every leaflet).
    if "![" not in text and "<img" not in text.lower():
        return None
    raw = python_markdown.markdown(text)
    for tag in _IMAGE.findall(raw):
        alt = _ALT.search(tag)
        if not alt or not html.unescape(alt.group(1)).strip():
            return (
                "Every picture needs a short description for people who cannot see it. "
                "Write it between the square brackets: ![what the picture shows](address)."
            )
        src = _SRC.search(tag)
        if not src or not is_uploaded_picture(html.unescape(src.group(1))):
            return (
                "Pictures must be uploaded with the editor (drag the file into the box). "
                "Pictures from other websites cannot be shown."
            )
    return None


_TAG = re.compile(r"(<[^>]+>)")
# No glossary link inside a caption either: it repeats the picture's alt text, hidden from
# screen readers, and a link there would be a hidden control.
_NO_LINK_INSIDE = re.compile(r"<(/?)(a|h[1-6]|abbr|code|figcaption)\b", re.IGNORECASE)


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
