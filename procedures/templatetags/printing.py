"""Template helpers for printed leaflets: the PDF link, the QR check code, appointment times."""

import re

from django import template
from django.urls import reverse
from django.utils.translation import gettext

from procedures import fasting, pdf, qr

register = template.Library()


@register.inclusion_tag("partials/pdf_link.html")
def pdf_link(procedure, on_print_view=False, large_print=False):
    """The link to the PDF (or the large-print PDF), or, on a server without WeasyPrint, a
    sentence saying so."""
    return {
        "available": pdf.AVAILABLE,
        "on_print_view": on_print_view,
        "large_print": large_print,
        "url": reverse(
            "procedures:leaflet_large_print" if large_print else "procedures:leaflet_pdf",
            args=[procedure.slug],
        ),
        "print_url": reverse("procedures:leaflet_print", args=[procedure.slug]),
    }


@register.simple_tag(takes_context=True)
def check_url(context, version):
    return qr.check_url(context["request"], version)


@register.filter
def qr_svg(url, label):
    return qr.qr_svg(url, label)


register.filter("when", fasting.when)
register.filter("clock", fasting.clock)
register.filter("duration", fasting.duration)


@register.simple_tag
def page_number_words():
    """ "Page N of M" in the active language, cut around its two numbers, for the PDF's margin
    boxes: pdf.css reads the pieces from data attributes with string-set (no inline style, so
    nothing in the page can be taken for markup) and puts counter(page) and counter(pages)
    between them."""
    before, between, after = ([*re.split(r"\{pages?\}", gettext("Page {page} of {pages}")), "", ""])[:3]
    return {"before": before, "between": between, "after": after}
