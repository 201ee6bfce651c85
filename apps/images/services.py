"""Store and fetch images through Django's ``default_storage`` (local files or S3 via
django-storages, chosen by the settings). The app keeps no table: the storage is the record.

Stored names are ours, never the client's: ``<uuid4>.<ext>`` with the extension of the format
Pillow found, and ``<uuid4>_thumb.<ext>`` for the thumbnail, under the ``images/`` prefix.
"""

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from ecommerce.errors import BadRequest, NotFound

from . import processing
from .uploads import too_large

STORAGE_PREFIX = "images/"
THUMB_SUFFIX = "_thumb"
INVALID_TYPE = "Invalid file type. Only JPEG, PNG, GIF, WEBP allowed."

# What GET accepts: one path segment, letters/digits/-/_ and at most one extension. Names we
# generate match it, and so do the original service's names (``<uuid>.jpeg``); ``..`` or ``/``
# never do, so a name can never leave the prefix.
SERVABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}(?:\.[A-Za-z0-9]{1,10})?$")

INLINE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}


def _setting(name, default):
    return getattr(settings, name, default)


def max_upload_bytes():
    return _setting("IMAGE_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)


def public_url(filename):
    return f"{_setting('IMAGE_BASE_URL', '').rstrip('/')}/images/images/{filename}"


@dataclass(frozen=True)
class StoredImage:
    filename: str
    thumbnail: str
    mimetype: str
    size: int
    width: int
    height: int

    def as_response(self):
        return {
            "message": "Image uploaded successfully!",
            "filename": self.filename,
            "imageUrl": public_url(self.filename),
            "thumbnailUrl": public_url(self.thumbnail),
            "mimetype": self.mimetype,
            "size": self.size,
            "width": self.width,
            "height": self.height,
        }


def _error(exc_class, message):
    return exc_class(message, extra={"status": "error"})


def store_upload(uploaded):
    """Validate, clean and store an uploaded file (a Django ``UploadedFile``) → ``StoredImage``."""
    limit = max_upload_bytes()
    if uploaded.size is not None and uploaded.size > limit:
        raise too_large(limit)
    if not uploaded.size:
        raise _error(BadRequest, INVALID_TYPE)
    uploaded.seek(0)
    try:
        result = processing.process(
            uploaded,
            max_pixels=_setting("IMAGE_MAX_PIXELS", 40_000_000),
            max_frames=_setting("IMAGE_MAX_FRAMES", 300),
            thumbnail_size=_setting("IMAGE_THUMBNAIL_SIZE", 400),
        )
    except processing.TooManyPixels:
        raise _error(
            BadRequest,
            "Image dimensions too large: at most "
            f"{_setting('IMAGE_MAX_PIXELS', 40_000_000) // 1_000_000} megapixels are accepted.",
        )
    except processing.InvalidImage:
        raise _error(BadRequest, INVALID_TYPE)

    stem = str(uuid.uuid4())
    ext = result.format.extension
    # Storage.save never overwrites: on a (practically impossible) clash it picks another name,
    # and we use whatever name it returns.
    main_key = default_storage.save(f"{STORAGE_PREFIX}{stem}.{ext}", ContentFile(result.data))
    filename = main_key.rsplit("/", 1)[-1]
    thumb_key = default_storage.save(
        f"{STORAGE_PREFIX}{filename.rsplit('.', 1)[0]}{THUMB_SUFFIX}.{ext}", ContentFile(result.thumbnail)
    )
    return StoredImage(
        filename=filename,
        thumbnail=thumb_key.rsplit("/", 1)[-1],
        mimetype=result.format.mimetype,
        size=len(result.data),
        width=result.width,
        height=result.height,
    )


@dataclass
class OpenedImage:
    file: object
    filename: str
    content_type: str
    inline: bool
    size: int | None
    modified: object  # aware datetime or None


def open_image(filename):
    """Open a stored file for reading, or raise ``NotFound`` (also for any name we never make)."""
    if not filename or not SERVABLE_NAME.match(filename):
        raise NotFound("Image not found.")
    key = f"{STORAGE_PREFIX}{filename}"
    try:
        fh = default_storage.open(key, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound("Image not found.")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    content_type = INLINE_TYPES.get(ext)
    size, modified = _stat(key, fh)
    return OpenedImage(
        file=fh,
        filename=filename,
        content_type=content_type or "application/octet-stream",
        inline=content_type is not None,
        size=size,
        modified=modified,
    )


def _stat(key, fh):
    obj = getattr(fh, "obj", None)  # django-storages S3File: open() already made the HEAD request
    if obj is not None:
        return obj.content_length, obj.last_modified
    try:
        return default_storage.size(key), default_storage.get_modified_time(key)
    except (NotImplementedError, OSError):
        return None, None
