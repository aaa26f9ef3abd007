"""The admin editor's live preview and image upload, for signed-in staff only.

django-markdownx ships these endpoints open to anyone; here they require a staff login, the
preview runs the same sanitiser as saving, and an upload is accepted only when Pillow can read
it as a real JPEG, PNG, GIF or WebP whose file name matches. The stored copy is made from the
pixels alone: no EXIF (a phone's GPS position, the camera), XMP, comments or PNG text chunks,
which a nurse cannot see and patients must not be given.
"""

import io
import re
from functools import wraps
from pathlib import Path

from django import forms
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from markdownx.forms import ImageForm
from markdownx.views import ImageUploadView
from PIL import Image, ImageOps

from .markdown import render_markdown

# Pillow's own limit is a warning at 89 million pixels; a leaflet picture needs far fewer,
# and refusing early protects the server from "decompression bomb" files.
MAX_IMAGE_PIXELS = 25_000_000
TOO_LARGE = gettext_lazy("Please make it smaller than 5000 × 5000 pixels and try again.")
EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "GIF": {".gif"}, "WEBP": {".webp"}}
# Web page code inside a real picture (a "polyglot" file that is both a GIF and a script).
# Re-encoding would drop it, but no photo or drawing has a reason to hold it, so the file is
# refused. The patterns are long enough that ordinary picture data does not match by chance.
HIDDEN_MARKUP = re.compile(
    rb"<\s*(?:script|html|body|iframe|object|embed)\b|javascript:|<\?php|\bon(?:error|load)\s*=",
    re.IGNORECASE,
)


def staff_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
            return JsonResponse({"error": _("Please sign in to the admin first.")}, status=403)
        return view(request, *args, **kwargs)

    return require_POST(wrapper)


@staff_only
def markdown_preview(request):
    return HttpResponse(render_markdown(request.POST.get("content", "")))


class LeafletImageForm(ImageForm):
    def clean(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            raise forms.ValidationError(_("Choose a picture to upload."))
        limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "This picture is %(size)s. The largest allowed is "
                    "%(limit)s: please make it smaller and try again."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        refusal = _(
            "This file is not a picture we can use. Upload a JPEG, PNG, GIF or WebP photo or "
            "drawing (SVG drawings are not allowed)."
        )
        try:
            with Image.open(upload) as image:
                width, height = image.size
                kind = image.format
                if width * height > MAX_IMAGE_PIXELS:
                    raise forms.ValidationError(
                        _("This picture is %(width)s × %(height)s pixels, which is too large. %(advice)s")
                        % {"width": width, "height": height, "advice": TOO_LARGE}
                    )
                image.verify()
        except forms.ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise forms.ValidationError(
                _("This picture is far too large to open safely. %(advice)s") % {"advice": TOO_LARGE}
            ) from None
        except Exception:  # Pillow raises many kinds of error for a damaged or fake image
            raise forms.ValidationError(refusal) from None
        if kind not in EXTENSIONS:
            raise forms.ValidationError(refusal)
        upload.seek(0)
        if HIDDEN_MARKUP.search(upload.read()):
            raise forms.ValidationError(
                _(
                    "This picture file also contains web page code, so it cannot be used. Open the "
                    "picture in a photo or drawing program, save it as a new file and upload that."
                )
            )
        if Path(upload.name).suffix.lower() not in EXTENSIONS[kind]:
            raise forms.ValidationError(
                _(
                    "This file is a %(kind)s picture but its name ends in "
                    "'%(suffix)s'. Rename it to end in "
                    "%(endings)s and try again."
                )
                % {
                    "kind": kind,
                    "suffix": Path(upload.name).suffix or _("nothing"),
                    "endings": _(" or ").join(sorted(EXTENSIONS[kind])),
                }
            )
        # markdownx picks the encoder from the declared content type: use the real one.
        upload.content_type = Image.MIME[kind]
        upload.seek(0)
        return upload

    @staticmethod
    def _process_raster(upload, kind):
        """markdownx's re-encoding keeps whatever Pillow read into `info` (a GIF's or JPEG's
        comment, for one), so the stored copy is made here from the pixels alone."""
        upload.seek(0)
        with Image.open(upload) as original:
            # A phone stores the pixels as the sensor saw them and the turn to view them in
            # EXIF: make the turn now, or without its EXIF the photo would show on its side.
            picture = ImageOps.exif_transpose(original)
        picture.thumbnail(settings.MARKDOWNX_IMAGE_MAX_SIZE["size"])
        # Transparency is part of the picture; everything else in `info` is about the file.
        picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
        lossy = kind in ("JPEG", "WEBP")
        options = {"quality": settings.MARKDOWNX_IMAGE_MAX_SIZE["quality"]} if lossy else {}
        stored = io.BytesIO()
        picture.save(stored, kind, **options)
        return stored  # markdownx reads its size from the position, then rewinds it


class LeafletImageUploadView(ImageUploadView):
    form_class = LeafletImageForm

    def form_invalid(self, form):
        message = " ".join(form.non_field_errors()) or _("Choose a picture to upload.")
        return JsonResponse({"image": [message]}, status=400)

    def form_valid(self, form):
        # markdownx inserts the picture with an empty description; the editor's save then
        # asks the nurse to write one, so no picture reaches patients unlabelled.
        return JsonResponse({"image_code": f"![]({form.save(commit=True)})"})


image_upload = staff_only(LeafletImageUploadView.as_view())
