"""The QR code printed on every copy: it opens /check/<resource>/<version>/, which tells the
reader whether the paper in their hand is still the current leaflet."""

import segno
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import override

from .models import interface_language

# Medium error correction: paper leaflets get folded and crumpled in bags.
ERROR_LEVEL = "m"


def check_path(version):
    """A translation's numbers are its own, so its code leads to the check page in its language."""
    with override(interface_language(version.language)):
        return reverse("procedures:check", args=[version.procedure.resource_number, version.number])


def check_url(request, version):
    return request.build_absolute_uri(check_path(version))


def qr_svg(url, label):
    """Inline SVG for `url`. The <title> gives it an accessible name and role="img" makes
    screen readers announce it as one picture rather than skip an unnamed graphic. No size is
    written (only a viewBox) so the stylesheet decides how big it prints."""
    svg = segno.make_qr(url, error=ERROR_LEVEL).svg_inline(
        title=label, omitsize=True, svgclass="qr-code", lineclass="qr-code__modules"
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))
