"""The pictures nurses upload into leaflets, served by the app at /media/leaflet-images/<name>.

Why the app and not the proxy: the portal runs behind "any proxy", and pictures that show only
once someone has set up nginx for them (an `alias` safe from ../, `autoindex` off, the right
headers) are broken on every laptop and on any server where that step was missed. This view
works the same under `./dev run` and gunicorn, with nothing to set up. It costs little: the URL pattern admits
only a picture's file name (no folder, no ../, no listing), the answer is the file itself
(gunicorn hands it to sendfile), and each upload gets a new random name and never changes,
so browsers, the proxy and a CDN may keep it for a year and ask again at most with a cheap
If-Modified-Since. It reads no database, so pictures show while the database is down.
A proxy may still serve MEDIA_ROOT/leaflet-images/ itself, if it sends the same headers.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

# The upload accepts exactly these (procedures/uploads.py), and each keeps its own ending.
CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# What ir_portal/urls.py routes here: one file name, letters, digits, - and _, one ending.
NAME_PATTERN = r"[A-Za-z0-9_-]+\.(?i:png|jpe?g|gif|webp)"
ONE_YEAR = 365 * 24 * 60 * 60


def picture_folder():
    return (Path(settings.MEDIA_ROOT) / settings.MARKDOWNX_MEDIA_PATH).resolve()


@require_safe
def leaflet_picture(request, name):
    folder = picture_folder()
    path = (folder / name).resolve()
    # The URL pattern already keeps out / and .., this also keeps out a link to elsewhere.
    if path.parent != folder or not path.is_file():
        raise Http404("No such picture")
    modified = int(path.stat().st_mtime)
    headers = {
        "Cache-Control": f"public, max-age={ONE_YEAR}, immutable",
        "Last-Modified": http_date(modified),
        "X-Content-Type-Options": "nosniff",  # never read as anything but a picture
    }
    conditional = get_conditional_response(request, last_modified=modified)
    if conditional is not None:  # 304 Not Modified (or 412 for an If-Unmodified-Since)
        if conditional.status_code == 304:
            for header, value in headers.items():
                conditional[header] = value
        return conditional
    return FileResponse(path.open("rb"), content_type=CONTENT_TYPES[path.suffix.lower()], headers=headers)
