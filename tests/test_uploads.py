"""The editor's preview and image upload: staff only, real pictures only."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

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


def media_root_is_empty(settings):
    """Nothing at all under MEDIA_ROOT: no file, and not even a folder made for one."""
    return not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.iterdir())


def png_bomb(width=20_000, height=20_000):
    """A real, valid PNG of about 50 KB that unpacks to 400 million pixels (a
    "decompression bomb"): one-bit grey rows of zeros compress about 1000 to 1."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the row's pixels
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return SimpleUploadedFile(
        "scan.png",
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""),
        content_type="image/png",
    )


def gif_with(script, where):
    """A GIF that Pillow opens and verifies, carrying a script after its end or in a comment."""
    buffer = io.BytesIO()
    Image.new("P", (20, 20)).save(buffer, "GIF", **({"comment": script} if where == "comment" else {}))
    body = buffer.getvalue() + (script if where == "after" else b"")
    with Image.open(io.BytesIO(body)) as image:  # the test is only worth it if this is a real GIF
        image.verify()
    return SimpleUploadedFile("diagram.gif", body, content_type="image/gif")


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
        "drawing.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        content_type="image/svg+xml",
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (svg, "SVG drawings are not allowed"),
        (
            lambda: SimpleUploadedFile("notes.png", b"not a picture at all", content_type="image/png"),
            "not a picture we can use",
        ),
        (lambda: picture("JPEG", name="photo.png"), "is a JPEG picture but its name ends in '.png'"),
        (lambda: picture(size=(6000, 6000)), "too large"),
        (
            lambda: SimpleUploadedFile(
                "big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10), content_type="image/png"
            ),
            "The largest allowed is 5.0",
        ),
        (
            lambda: SimpleUploadedFile(
                "polyglot.gif", b"GIF89a<script>alert(1)</script>", content_type="image/gif"
            ),
            "not a picture we can use",
        ),
        (png_bomb, "far too large to open safely. Please make it smaller than 5000 × 5000 pixels"),
        (
            lambda: gif_with(b"<script>alert(document.cookie)</script>", "after"),
            "also contains web page code",
        ),
        (lambda: gif_with(b"<html><body onload=alert(1)>", "comment"), "also contains web page code"),
        (lambda: picture("PNG", name="kidney.gif"), "is a PNG picture but its name ends in '.gif'"),
        (lambda: picture("PNG", name="kidney.html"), "is a PNG picture but its name ends in '.html'"),
        (
            lambda: SimpleUploadedFile(
                "leaflet.png", b"%PDF-1.7\n1 0 obj <<>> endobj\n", content_type="image/png"
            ),
            "not a picture we can use",
        ),
        (
            lambda: SimpleUploadedFile(
                "page.png", b"<!DOCTYPE html><script>alert(1)</script>", content_type="image/png"
            ),
            "not a picture we can use",
        ),
        (lambda: picture("BMP", name="scan.bmp"), "not a picture we can use"),
    ],
    ids=[
        "svg",
        "text-file",
        "wrong-extension",
        "too-many-pixels",
        "over-5MB",
        "fake-gif-header",
        "decompression-bomb",
        "gif-plus-script",
        "script-in-gif-comment",
        "png-named-gif",
        "png-named-html",
        "pdf",
        "html-named-png",
        "bmp",
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(staff_client, settings, upload, message):
    response = staff_client.post(UPLOAD, {"image": upload()}, **XHR)
    assert response.status_code == 400
    assert message in " ".join(response.json()["image"])
    assert stored_files(settings) == []
    assert media_root_is_empty(settings)


def test_the_bomb_is_small_on_disk_but_huge_when_opened():
    upload = png_bomb()
    body = upload.read()
    assert len(body) < 100_000
    assert struct.unpack(">II", body[16:24]) == (20_000, 20_000)  # IHDR width and height
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(body))


# -- Hidden details in a picture never reach patients ---------------------------------------
# A phone photo records where it was taken; drawing programs record who made the file. The
# nurse cannot see any of it, so the stored copy keeps the pixels and nothing else.
WHO = "Jane Smith, ward 7, patient 943 476 5919"
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{WHO}</dc:creator></x:xmpmeta>'


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x013B] = WHO  # artist
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.2)}  # GPS position
    return exif


def with_metadata(kind):
    buffer = io.BytesIO()
    if kind == "GIF":
        Image.new("P", (40, 30)).save(buffer, "GIF", comment=WHO.encode())
        name = "diagram.gif"
    elif kind == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Author", WHO)  # a tEXt chunk
        text.add_itxt("XML:com.adobe.xmp", XMP)
        Image.new("RGB", (40, 30), "white").save(buffer, "PNG", pnginfo=text, exif=gps_exif())
        name = "drawing.png"
    elif kind == "JPEG":
        Image.new("RGB", (40, 30), "white").save(
            buffer, "JPEG", exif=gps_exif(), comment=WHO.encode(), xmp=XMP.encode()
        )
        name = "photo.jpg"
    else:
        Image.new("RGB", (40, 30), "white").save(buffer, "WEBP", exif=gps_exif(), xmp=XMP.encode())
        name = "photo.webp"
    body = buffer.getvalue()
    assert WHO.encode() in body  # the test is only worth it if the upload carries it
    return SimpleUploadedFile(name, body, content_type=f"image/{kind.lower()}")


@pytest.mark.parametrize("kind", ["GIF", "PNG", "JPEG", "WEBP"])
def test_a_stored_picture_keeps_no_comment_text_exif_or_xmp(staff_client, settings, kind):
    response = staff_client.post(UPLOAD, {"image": with_metadata(kind)}, **XHR)
    assert response.status_code == 200, response.content
    [stored] = stored_files(settings)
    body = stored.read_bytes()
    assert WHO.encode() not in body
    assert b"PhoneMaker" not in body and b"xmpmeta" not in body
    with Image.open(stored) as image:
        assert image.format == kind and image.size == (40, 30)
        assert len(image.getexif()) == 0 and not image.getexif().get_ifd(0x8825)  # no GPS
        assert not {"comment", "exif", "xmp", "XML:com.adobe.xmp", "Author"} & set(image.info)


def test_a_phone_photo_taken_sideways_is_stored_the_right_way_up(staff_client, settings):
    """Phones store the pixels as the sensor saw them and say "turn this" in EXIF. With the
    EXIF gone the turn must already be made, or the picture would show on its side."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to view
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "JPEG", exif=exif)
    upload = SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")
    assert staff_client.post(UPLOAD, {"image": upload}, **XHR).status_code == 200
    [stored] = stored_files(settings)
    with Image.open(stored) as image:
        assert image.size == (30, 40)
        assert 0x0112 not in image.getexif()


def test_a_large_photo_is_stored_at_most_1600_pixels_across(staff_client, settings):
    upload = picture("JPEG", "photo.jpg", size=(4000, 3000))
    assert staff_client.post(UPLOAD, {"image": upload}, **XHR).status_code == 200
    [stored] = stored_files(settings)
    with Image.open(stored) as image:
        assert image.size == (1600, 1200)
