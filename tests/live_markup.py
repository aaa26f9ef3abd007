"""Find live markup in a page: what a browser would treat as code or as an element that no
template of ours writes. Parses with the standard library's html.parser, so what counts is
how the HTML parses, not what the text happens to contain (escaped text is harmless).

Rules for a whole page:
- no on* attribute (event handlers) and no style attribute (our pages have none: CSP);
- every URL attribute has no scheme (a relative address) or http, https, mailto or tel;
- no script except our own files (src on this site) and JSON data blocks that are valid JSON
  with no "<" inside (JSON-LD is data, but a "</script>" in it would end the block);
- no iframe, frame, object, embed, applet, base, style, template, math, noscript, meta with
  http-equiv, link outside <head>, form posting to another site, and no svg except the QR code
  and the admin's theme icons.

Inside the leaflet body (elements with class "prose", filled from Markdown) only the tags and
attributes the sanitiser is meant to keep may appear: a copy of that list, kept here on purpose
so that widening it in procedures/markdown.py fails a test.
"""

import json
import re
from html.parser import HTMLParser

SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "cite",
    "srcset",
    "ping",
    "codebase",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "manifest",
    "icon",
    "usemap",
}
FORBIDDEN = {
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "style",
    "template",
    "math",
    "noscript",
    "portal",
    "xmp",
    "plaintext",
    "listing",
    "isindex",
    "marquee",
}
# Inline SVG our templates write: the QR code on printouts, and the Django admin's theme
# switcher icons (an icon sheet of <symbol>s and three <svg><use> pictures). Nothing else.
OUR_SVG_CLASSES = {
    "qr-code",
    "base-svgs",
    "theme-icon-when-auto",
    "theme-icon-when-dark",
    "theme-icon-when-light",
}
SVG_PARTS = {"svg", "title", "desc", "path", "rect", "g", "symbol", "use"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

PROSE_TAGS = {
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
    "figcaption",  # an uploaded picture, captioned with its description
}
PROSE_ATTRIBUTES = {
    "a": {"href", "title", "rel", "class"},  # rel from the sanitiser, class from glossary links
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"scope"},
    "figcaption": {"aria-hidden"},
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_scheme(value):
    """The scheme a browser would see: it drops tabs and newlines anywhere, and leading and
    trailing spaces and control characters, before reading the scheme."""
    cleaned = re.sub(r"[\t\n\r]", "", value).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
        "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
        "\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    found = _SCHEME.match(cleaned.lower())
    return found.group(1) if found else None


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []  # open non-void elements, for knowing where we are
        self.prose_depth = 0  # > 0 inside a class="prose" element
        self.svg_depth = 0
        self.script = None  # (attrs, [data]) while inside a <script>

    def _where(self):
        return "/".join(tag for tag, _ in self.stack[-4:]) or "document"

    def problem(self, text):
        self.problems.append(f"{text} (in {self._where()})")

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag in VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        is_prose = "prose" in classes
        self.stack.append((tag, is_prose))
        if is_prose:
            self.prose_depth += 1
        if tag == "svg":
            self.svg_depth += 1
        if tag == "script":
            self.script = (dict(attrs), [])

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            self._check_script(*self.script)
            self.script = None
        # Close up to the matching element, as a browser would for stray end tags.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for closed, was_prose in self.stack[index:]:
                    self.prose_depth -= was_prose
                    self.svg_depth -= closed == "svg"
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self.script is not None:
            self.script[1].append(data)

    def handle_comment(self, data):
        pass  # comments are inert

    def _check(self, tag, attrs):
        names = {name for name, _ in attrs}
        for name, value in attrs:
            if name.startswith("on"):
                self.problem(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problem(f"<{tag} style=…> inline style")
            if name in URL_ATTRIBUTES and value:
                urls = (
                    [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
                )
                for url in urls:
                    scheme = url_scheme(url)
                    if scheme and scheme not in SAFE_SCHEMES:
                        self.problem(f"<{tag} {name}={value!r}> {scheme}: address")
            if (
                name in ("action", "formaction")
                and value
                and (url_scheme(value) or value.strip().startswith("//"))
            ):
                self.problem(f"<{tag} {name}={value!r}> form sent to another site")
        if tag in FORBIDDEN:
            self.problem(f"<{tag}> element")
        if tag == "meta" and "http-equiv" in names:
            self.problem("<meta http-equiv> element")
        if tag == "link" and "head" not in [t for t, _ in self.stack]:
            self.problem("<link> outside <head>")
        if (
            tag == "svg"
            and self.svg_depth == 0
            and not OUR_SVG_CLASSES & set((dict(attrs).get("class") or "").split())
        ):
            self.problem("<svg> that is not one of ours")
        if self.svg_depth and tag not in SVG_PARTS:
            self.problem(f"<{tag}> inside an svg")
        if tag == "use" and not all(
            (value or "").startswith("#") for name, value in attrs if name.endswith("href")
        ):
            self.problem("<use> of a picture outside the page")
        if self.prose_depth:
            if tag not in PROSE_TAGS:
                self.problem(f"<{tag}> in a leaflet body")
            else:
                extra = names - PROSE_ATTRIBUTES.get(tag, set())
                if extra:
                    self.problem(f"<{tag} {' '.join(sorted(extra))}> attribute in a leaflet body")
                values = dict(attrs)
                if tag == "a" and "class" in values and values["class"] != "glossary-term":
                    self.problem(f"<a class={values['class']!r}> in a leaflet body")
                if tag == "img" and not re.fullmatch(
                    r"/media/leaflet-images/[\w-]+\.(?i:png|jpe?g|gif|webp)",
                    values.get("src") or "/media/leaflet-images/none.png",
                ):
                    self.problem(f"<img src={values['src']!r}> not uploaded to this site")

    def _check_script(self, attrs, data):
        body = "".join(data)
        kind = (attrs.get("type") or "").strip().lower()
        if kind in ("application/json", "application/ld+json"):
            if "<" in body:
                self.problem(f"<script type={kind}> holding an unescaped '<'")
            try:
                json.loads(body)
            except ValueError:
                self.problem(f"<script type={kind}> that is not valid JSON")
            return
        src = attrs.get("src")
        if not src or url_scheme(src) or src.startswith("//") or body.strip():
            self.problem(f"<script src={src!r}> not one of this site's files")


def live_markup(html):
    """Every piece of live markup that does not belong; an empty list for a clean page."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    if finder.script is not None:
        finder.problem("<script> never closed")
    return finder.problems
