"""Upload and serve against a real S3 HTTP endpoint: moto's server mode, started here."""

import io
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from .factories import make_image

pytestmark = [pytest.mark.django_db, pytest.mark.s3]

BUCKET = "product-images"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint, monkeypatch):
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture
def s3_storage(settings, s3_client, s3_endpoint, local_media):
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    return s3_client


def test_upload_then_serve_through_s3(staff_client, api_client, s3_storage, local_media):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."
    data = make_image("JPEG", (800, 600), exif=exif)

    response = staff_client.post(
        "/images/upload",
        {"imageFile": SimpleUploadedFile("../../x.jpg", data, content_type="image/jpeg")},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    filename = body["filename"]
    keys = sorted(item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == sorted([f"images/{filename}", f"images/{filename.replace('.jpg', '_thumb.jpg')}"])
    assert not (local_media / "images").exists()  # nothing went to the local disk
    stored = s3_storage.get_object(Bucket=BUCKET, Key=f"images/{filename}")["Body"].read()
    assert len(stored) == body["size"] and b"SpyCam" not in stored

    served = api_client.get(body["imageUrl"])

    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg" and served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(served.streaming_content) == stored
    assert api_client.get(body["imageUrl"], HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304
    thumb = api_client.get(body["thumbnailUrl"])
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as im:
        assert im.size == (400, 300)


def test_unknown_key_on_s3_is_a_json_404(api_client, s3_storage):
    response = api_client.get("/images/images/3f1c6a0e-0000-4000-8000-000000000000.png")

    assert response.status_code == 404 and response.json() == {"message": "Image not found."}


def test_invalid_upload_writes_nothing_to_the_bucket(staff_client, s3_storage):
    response = staff_client.post(
        "/images/upload",
        {"imageFile": SimpleUploadedFile("a.png", b"not an image", content_type="image/png")},
        format="multipart",
    )

    assert response.status_code == 400
    assert s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_readiness_checks_the_bucket(api_client, s3_storage, settings, s3_endpoint):
    assert api_client.get("/health/ready").json()["checks"]["storage"] == {
        "status": "UP",
        "backend": "s3",
        "bucket": BUCKET,
        "ms": pytest.approx(0, abs=10_000),
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "missing"},
        },
    }
    response = api_client.get("/health/ready")
    assert response.status_code == 503 and response.json()["checks"]["storage"]["status"] == "DOWN"
