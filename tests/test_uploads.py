"""The editor's preview and image upload: staff only, real pictures only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

pytestmark = pytest.mark.django_db

PREVIEW = "/markdownx/markdownify/"
UPLOAD = "/markdownx/upload/"
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def picture(kind="PNG", name="kidney.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{kind.lower()}")


def stored_files(settings):
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []


def test_anonymous_preview_is_refused(client):
    response = client.post(PREVIEW, {"content": "**hello**"})
    assert response.status_code == 403
    assert b"<strong>" not in response.content


def test_anonymous_upload_is_refused_and_writes_nothing(client, settings):
    response = client.post(UPLOAD, {"image": picture()}, **XHR)
    assert response.status_code == 403
    assert stored_files(settings) == []


def test_a_signed_in_patient_account_without_staff_rights_is_refused(client, django_user_model, settings):
    client.force_login(django_user_model.objects.create_user("visitor", password="x" * 16))
    assert client.post(PREVIEW, {"content": "x"}).status_code == 403
    assert client.post(UPLOAD, {"image": picture()}, **XHR).status_code == 403
    assert stored_files(settings) == []


def test_staff_preview_is_sanitised_like_the_saved_page(staff_client):
    response = staff_client.post(PREVIEW, {"content": "**Fast** <script>alert(1)</script>"})
    assert response.status_code == 200
    assert b"<strong>Fast</strong>" in response.content
    assert b"<script" not in response.content


def test_staff_can_upload_a_real_picture(staff_client, settings):
    response = staff_client.post(UPLOAD, {"image": picture()}, **XHR)
    assert response.status_code == 200
    code = response.json()["image_code"]
    assert code.startswith("![](/media/leaflet-images/") and code.endswith(".png)")
    assert len(stored_files(settings)) == 1


def svg():
    return SimpleUploadedFile(
        "drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        content_type="image/svg+xml",
    )


@pytest.mark.parametrize(
    "upload, message",
    [
        (svg, "SVG drawings are not allowed"),
        (lambda: SimpleUploadedFile("notes.png", b"not a picture at all", content_type="image/png"), "not a picture we can use"),
        (lambda: picture("JPEG", name="photo.png"), "is a JPEG picture but its name ends in '.png'"),
        (lambda: picture(size=(6000, 6000)), "too large"),
        (lambda: SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10), content_type="image/png"), "The largest allowed is 5.0"),
        (lambda: SimpleUploadedFile("polyglot.gif", b"GIF89a<script>alert(1)</script>", content_type="image/gif"), "not a picture we can use"),
    ],
    ids=["svg", "text-file", "wrong-extension", "too-many-pixels", "over-5MB", "polyglot"],
)
def test_bad_uploads_are_refused_with_a_clear_message(staff_client, settings, upload, message):
    response = staff_client.post(UPLOAD, {"image": upload()}, **XHR)
    assert response.status_code == 400
    assert message in " ".join(response.json()["image"])
    assert stored_files(settings) == []
