import pytest


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    """Every images test stores into its own MEDIA_ROOT on the local filesystem."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.IMAGE_BASE_URL = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def staff_client(client_as):
    client, _ = client_as("ADMIN")
    return client
