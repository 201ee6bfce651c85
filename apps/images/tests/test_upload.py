import io
import json
import re
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.images.api.views import UploadView
from apps.images.services import INVALID_TYPE

from .factories import make_image, noise_png, png_bomb

pytestmark = pytest.mark.django_db

URL = "/images/upload"
STORED_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.(jpg|png|gif|webp)$")


def upload(client, data, name="photo.png", content_type="image/png", field="imageFile"):
    return client.post(URL, {field: SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")


def stored(filename):
    with default_storage.open(f"images/{filename}", "rb") as fh:
        return fh.read()


@pytest.mark.parametrize(
    ("fmt", "mode", "ext", "mimetype"),
    [
        ("JPEG", "RGB", "jpg", "image/jpeg"),
        ("PNG", "RGBA", "png", "image/png"),
        ("GIF", "P", "gif", "image/gif"),
        ("WEBP", "RGB", "webp", "image/webp"),
    ],
)
def test_upload_each_allowed_format(staff_client, local_media, fmt, mode, ext, mimetype):
    response = upload(staff_client, make_image(fmt, (640, 480), mode), name=f"x.{ext}", content_type=mimetype)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Image uploaded successfully!"
    assert STORED_NAME.match(body["filename"]) and body["filename"].endswith(f".{ext}")
    assert body["mimetype"] == mimetype
    assert body["imageUrl"] == f"/images/images/{body['filename']}"
    data = stored(body["filename"])
    assert body["size"] == len(data)
    assert (local_media / "images" / body["filename"]).is_file()
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == fmt and im.size == (640, 480)
    # The thumbnail: same format, fits in 400x400, keeps the aspect ratio.
    thumb_name = body["filename"].replace(f".{ext}", f"_thumb.{ext}")
    assert body["thumbnailUrl"] == f"/images/images/{thumb_name}"
    with Image.open(io.BytesIO(stored(thumb_name))) as thumb:
        assert thumb.format == fmt and thumb.size == (400, 300)


def test_the_format_comes_from_the_bytes_not_the_name_or_type(staff_client):
    response = upload(staff_client, make_image("WEBP"), name="holiday.jpeg", content_type="image/jpeg")

    assert response.status_code == 201
    assert response.json()["filename"].endswith(".webp") and response.json()["mimetype"] == "image/webp"


def test_image_base_url_prefixes_the_urls(staff_client, settings):
    settings.IMAGE_BASE_URL = "https://cdn.example.com/"
    body = upload(staff_client, make_image("PNG")).json()

    assert body["imageUrl"] == f"https://cdn.example.com/images/images/{body['filename']}"


def _exif():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model 007"  # Model
    exif[0x013B] = "Jane Photographer"  # Artist
    exif[0x0112] = 1  # Orientation
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_and_other_metadata_are_stripped(staff_client, fmt):
    kwargs = {"exif": _exif()}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "secret location: 48.85N 2.35E")
        kwargs["pnginfo"] = info
    if fmt == "JPEG":
        kwargs["comment"] = b"secret location: 48.85N 2.35E"
    original = make_image(fmt, (200, 100), **kwargs)
    with Image.open(io.BytesIO(original)) as check:  # the test input really carries the metadata
        assert check.getexif().get(0x010F) == "SpyCam Inc."

    body = upload(staff_client, original).json()

    data = stored(body["filename"])
    assert b"SpyCam" not in data and b"secret location" not in data and b"Jane" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0
        assert "exif" not in im.info and "comment" not in im.info
        if fmt == "PNG":
            assert not im.text
    assert b"SpyCam" not in stored(body["filename"].replace(".", "_thumb."))


def test_exif_orientation_is_applied_before_it_is_dropped(staff_client):
    exif = _exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    body = upload(staff_client, make_image("JPEG", (300, 100), exif=exif)).json()

    assert (body["width"], body["height"]) == (100, 300)
    with Image.open(io.BytesIO(stored(body["filename"]))) as im:
        assert im.size == (100, 300) and 0x0112 not in im.getexif()


def test_animated_gif_keeps_its_frames(staff_client):
    frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=80, loop=0, comment=b"hi")

    body = upload(staff_client, buf.getvalue(), name="a.gif").json()

    with Image.open(io.BytesIO(stored(body["filename"]))) as im:
        assert im.format == "GIF" and im.n_frames == 3 and "comment" not in im.info


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.png", b"this is just some text, not an image at all\n" * 20),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("page.jpg", b"<!doctype html><html><script>alert(document.cookie)</script></html>"),
        ("empty.png", b""),
        ("pic.bmp", None),  # a real image, of a format we do not take
        ("cut.png", None),  # a PNG cut in the middle of its pixel data
    ],
)
def test_anything_but_an_allowed_image_is_refused(staff_client, local_media, name, data):
    if name == "pic.bmp":
        data = make_image("BMP")
    elif name == "cut.png":
        data = noise_png(200, 200)[:20_000]

    response = upload(staff_client, data, name=name)

    assert response.status_code == 400
    assert response.json()["message"] == INVALID_TYPE
    assert not (local_media / "images").exists() or not any((local_media / "images").iterdir())


def test_a_10000x10000_png_bomb_is_refused_without_decoding_it(staff_client, local_media):
    bomb = png_bomb(10_000, 10_000)
    assert len(bomb) < 100_000  # small on disk, 100 megapixels once decoded

    started = time.monotonic()
    response = upload(staff_client, bomb, name="bomb.png")

    assert response.status_code == 400
    assert "Image dimensions too large" in response.json()["message"]
    assert time.monotonic() - started < 5
    assert not (local_media / "images").exists()


def test_a_bomb_beyond_pillows_hard_limit_is_refused(staff_client):
    # 30000x30000 is above twice Image.MAX_IMAGE_PIXELS: Pillow itself raises at open().
    response = upload(staff_client, png_bomb(30_000, 30_000, rows=10), name="bomb.png")

    assert response.status_code == 400
    assert "Image dimensions too large" in response.json()["message"]


def test_the_pixel_limit_is_a_setting(staff_client, settings):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    assert upload(staff_client, make_image("PNG", (100, 100))).status_code == 201
    assert upload(staff_client, make_image("PNG", (101, 100))).status_code == 400


def test_animation_frames_count_against_the_pixel_limit(staff_client, settings):
    settings.IMAGE_MAX_PIXELS = 60 * 40 * 2
    frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])

    response = upload(staff_client, buf.getvalue(), name="a.gif")

    assert response.status_code == 400 and "too large" in response.json()["message"]


def test_a_file_over_5_mb_is_refused(staff_client, local_media):
    big = noise_png(1400, 1400)
    assert len(big) > 5 * 1024 * 1024  # a real PNG, just too big

    response = upload(staff_client, big, name="big.png")

    # 400 as the original (multer's LIMIT_FILE_SIZE), in its {status, message} shape.
    assert response.status_code == 400
    assert response.json() == {"message": "File too large. The maximum size is 5 MB.", "status": "error"}
    assert not (local_media / "images").exists()


def test_the_size_limit_applies_while_streaming(staff_client, settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 50_000
    data = noise_png(150, 150)  # ~68 KB: under the envelope allowance, over the limit
    assert 50_000 < len(data) < 50_000 + 64 * 1024

    response = upload(staff_client, data)

    assert response.status_code == 400
    assert response.json()["message"].startswith("File too large")


def test_a_body_over_djangos_own_limit_stays_its_413(staff_client):
    # Form fields (not the file) over DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django itself.
    data = {"imageFile": SimpleUploadedFile("a.png", make_image("PNG")), "note": "a" * (2 * 1024 * 1024)}
    response = staff_client.post(URL, data, format="multipart")

    assert response.status_code == 413
    assert response.json() == {"message": "Request body too large."}


class ExplodingStream(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_declared_length_over_the_limit_is_refused_before_reading(make_user):
    request = APIRequestFactory().post(URL, {"imageFile": SimpleUploadedFile("a.png", b"x")}, format="multipart")
    request.META["CONTENT_LENGTH"] = str(50 * 1024 * 1024)
    request.META["wsgi.input"] = ExplodingStream()
    request._stream = ExplodingStream()
    force_authenticate(request, user=make_user(role="ADMIN"))

    response = UploadView.as_view()(request)
    response.render()

    assert response.status_code == 400
    assert json.loads(response.content)["message"].startswith("File too large")


def test_the_clients_filename_is_never_used(staff_client, local_media, tmp_path):
    response = upload(staff_client, make_image("PNG"), name="../../../evil.png")

    assert response.status_code == 201
    filename = response.json()["filename"]
    assert STORED_NAME.match(filename) and "evil" not in filename
    assert sorted(p.name for p in (local_media / "images").iterdir()) == sorted(
        [filename, filename.replace(".png", "_thumb.png")]
    )
    assert not list(tmp_path.rglob("evil*"))


def test_two_uploads_of_the_same_file_never_overwrite(staff_client):
    data = make_image("PNG")
    first = upload(staff_client, data, name="same.png").json()["filename"]
    second = upload(staff_client, data, name="same.png").json()["filename"]

    assert first != second


@pytest.mark.parametrize("field", ["image", "file"])
def test_missing_image_field(staff_client, field):
    response = upload(staff_client, make_image("PNG"), field=field)

    assert response.status_code == 400
    assert response.json()["message"] == 'No image file provided in the "imageFile" form field.'


def test_json_body_without_file(staff_client):
    response = staff_client.post(URL, {"imageFile": "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == 'No image file provided in the "imageFile" form field.'


def test_upload_needs_a_token(api_client, local_media):
    response = upload(api_client, make_image("PNG"))

    assert response.status_code == 401
    assert not (local_media / "images").exists()


@pytest.mark.parametrize("role", ["Customer", "Supervisor"])
def test_upload_needs_update_product(client_as, role, local_media):
    client, _ = client_as(role)

    response = upload(client, make_image("PNG"))

    assert response.status_code == 403
    assert not (local_media / "images").exists()
