"""Readiness of the image storage: the S3 bucket answers, or the local directory is writable."""

import os
from pathlib import Path

from django.core.files.storage import default_storage


def storage_check():
    bucket = getattr(default_storage, "bucket", None)  # django-storages S3Storage
    if bucket is not None:
        bucket.meta.client.head_bucket(Bucket=bucket.name)
        return {"backend": "s3", "bucket": bucket.name}
    location = getattr(default_storage, "location", None)
    if location is None:
        return {"backend": type(default_storage._wrapped).__name__}
    path = Path(location)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # FileSystemStorage creates missing directories on the first save
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise RuntimeError(f"{probe} is not a writable directory")
    return {"backend": "filesystem"}
