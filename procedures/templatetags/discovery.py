"""Helping search engines and link previews find leaflets: absolute canonical URLs and
schema.org structured data (JSON-LD) built as Python data, never by pasting text into markup."""

import json
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# As django.utils.html.json_script: text such as "</script>" or "<!--" cannot end the script
# element or open a comment, because <, > and & are written as JSON escapes.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def absolute_url(context, path=None):
    """This page's address (or `path`) with scheme and host, without the query string."""
    request = context.get("request")
    if request is None:  # the 500 page renders without a request
        return ""
    return request.build_absolute_uri(path or request.path)


def leaflet_structured_data(version, url):
    """schema.org MedicalWebPage for a live leaflet, as plain data."""
    procedure = version.procedure
    organisation = {"@type": "Organization", "name": settings.ORGANISATION_NAME}
    approver_name = version.approver.get_full_name().strip() if version.approver else ""
    return {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": version.display_title,
        "description": version.display_summary,
        "url": url,
        "inLanguage": language_tag(version.interface_language),
        "identifier": procedure.resource_number,
        "version": str(version.number),
        "about": {"@type": "MedicalProcedure", "name": procedure.title},
        "audience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "lastReviewed": version.last_reviewed,
        # A login name would tell strangers a staff account: only a real name, or the trust.
        "reviewedBy": {"@type": "Person", "name": approver_name} if approver_name else organisation,
        "dateModified": version.published_at,  # this version's text went live
        "publisher": organisation,
    }


@register.simple_tag(takes_context=True)
def leaflet_json_ld(context, version):
    """<script type="application/ld+json"> for a live leaflet (a data block: nothing runs)."""
    url = absolute_url(context, version.procedure.get_absolute_url())
    data = json.dumps(leaflet_structured_data(version, url), cls=DjangoJSONEncoder, indent=1)
    return format_html(
        '<script type="application/ld+json">{}</script>', mark_safe(data.translate(_JSON_ESCAPES))
    )


@register.simple_tag(takes_context=True)
def language_links(context):
    """The language switcher: for each of the site's languages, a link that remembers the
    choice (choose_language) and leads to this same page in that language, or to the address
    the view gives as `language_links_to` (a page kept for every query, without one)."""
    request = context.get("request")
    here = context.get("language_links_to") or (request.get_full_path() if request else "/")
    current = translation.get_language()
    links = []
    for code, name in settings.LANGUAGES:
        target = translate_url(here, code)
        links.append(
            {
                "code": code,
                "name": name,
                "url": reverse("choose_language", args=[code]) + "?" + urlencode({"next": target}),
                "current": code == current,
            }
        )
    return links


@register.filter
def language_tag(code):
    """Django's language code as a BCP 47 tag for lang and hreflang: en-gb -> en-GB."""
    language, _, region = (code or "").partition("-")
    return f"{language}-{region.upper()}" if region else language


@register.simple_tag
def in_english():
    """lang and dir attributes for text that exists only in English (names of body areas,
    departments, untranslated titles) on a page in another language, so screen readers
    switch voice and the text runs left to right inside a right-to-left page."""
    if translation.get_language() == settings.LANGUAGE_CODE:
        return ""
    return mark_safe(f' lang="{language_tag(settings.LANGUAGE_CODE)}" dir="ltr"')
