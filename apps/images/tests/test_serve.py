import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from .factories import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(staff_client):
    data = make_image("PNG", (300, 200))
    response = staff_client.post(
        "/images/upload", {"imageFile": SimpleUploadedFile("a.png", data, content_type="image/png")}, format="multipart"
    )
    assert response.status_code == 201
    return response.json()


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("prefix", ["/images/images/", "/images/"])
def test_served_publicly_with_type_and_cache_headers(api_client, uploaded, prefix):
    response = api_client.get(prefix + uploaded["filename"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")
    assert not response.get("Content-Disposition", "").startswith("attachment")
    body = body_of(response)
    assert len(body) == uploaded["size"] == int(response["Content-Length"])
    with default_storage.open(f"images/{uploaded['filename']}") as fh:
        assert body == fh.read()


def test_image_url_and_thumbnail_url_resolve(api_client, uploaded):
    for url in (uploaded["imageUrl"], uploaded["thumbnailUrl"]):
        response = api_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_conditional_get_answers_304(api_client, uploaded):
    url = uploaded["imageUrl"]
    first = api_client.get(url)

    by_etag = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = api_client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    other = api_client.get(url, HTTP_IF_NONE_MATCH='"something-else"')

    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"] and by_etag["Cache-Control"] == first["Cache-Control"]
    assert by_date.status_code == 304
    assert other.status_code == 200


def test_head_has_headers_and_no_body(api_client, uploaded):
    response = api_client.head(uploaded["imageUrl"])

    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "image/png" and int(response["Content-Length"]) == uploaded["size"]


def test_other_methods_are_refused(api_client, uploaded):
    response = api_client.delete(uploaded["imageUrl"])

    assert response.status_code == 405 and "message" in response.json()


def test_unknown_file_is_a_json_404(api_client):
    response = api_client.get("/images/images/3f1c6a0e-0000-4000-8000-000000000000.png")

    assert response.status_code == 404
    assert response.json() == {"message": "Image not found."}


@pytest.mark.parametrize(
    "path",
    [
        "/images/images/../secret.txt",
        "/images/images/..%2Fsecret.txt",
        "/images/images/%2e%2e/secret.txt",
        "/images/../secret.txt",
        "/images/images/.hidden",
        "/images/images/a/b.png",
        "/images/images/..",
        "/images/images/" + "a" * 300 + ".png",
    ],
)
def test_names_outside_our_pattern_are_404_never_an_escape(api_client, local_media, path):
    local_media.mkdir(parents=True, exist_ok=True)
    (local_media / "secret.txt").write_text("top secret")
    (local_media / "images").mkdir(exist_ok=True)
    (local_media / "images" / ".hidden").write_text("hidden")
    (local_media / "images" / "a").mkdir(exist_ok=True)
    (local_media / "images" / "a" / "b.png").write_bytes(make_image("PNG"))

    response = api_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert b"secret" not in response.content


@pytest.mark.parametrize("name", ["legacy.svg", "legacy.html", "legacy"])
def test_non_image_files_are_only_ever_attachments(api_client, name):
    # Not something upload can produce, but a bucket may hold files from elsewhere.
    default_storage.save(f"images/{name}", ContentFile(b"<svg onload=alert(1)></svg>"))

    response = api_client.get(f"/images/images/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    head = api_client.head(f"/images/images/{name}")
    assert head["Content-Disposition"].startswith("attachment")


def test_original_service_names_with_jpeg_extension_are_served(api_client):
    default_storage.save("images/0b8e4a52-legacy.jpeg", ContentFile(make_image("JPEG")))

    response = api_client.get("/images/0b8e4a52-legacy.jpeg")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_readiness_reports_the_storage(api_client, local_media):
    body = api_client.get("/health/ready").json()

    assert body["checks"]["storage"]["status"] == "UP"
    assert body["checks"]["storage"]["backend"] == "filesystem"


def test_readiness_fails_when_the_media_directory_cannot_be_made(api_client, settings, tmp_path):
    (tmp_path / "not-a-directory").write_text("a file where the media directory should go")
    settings.MEDIA_ROOT = tmp_path / "not-a-directory" / "media"

    response = api_client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "DOWN"
