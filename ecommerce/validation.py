"""Input rules shared by the apps' serializers (and their models, for the admin)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ecommerce.fields import StrictCharField

IMAGE_URL_MESSAGE = 'Enter an absolute http(s) URL or a path on this site starting with a single "/".'

_absolute_url = URLValidator(schemes=["http", "https"])
# "/images/images/<name>.png", what POST /images/upload answers without IMAGE_BASE_URL (and the
# original's "/images/<name>"). Not "//host/..." nor "/\host/...": browsers read both as another
# host. No whitespace or control characters.
_SITE_PATH = re.compile(r"/[^/\\\s\x00-\x1f\x7f][^\\\s\x00-\x1f\x7f]*")


def validate_image_url(value):
    """An image URL given by a client: an absolute http(s) URL or a site-relative path."""
    if isinstance(value, str) and _SITE_PATH.fullmatch(value):
        return
    try:
        _absolute_url(value)
    except ValidationError:
        raise ValidationError(IMAGE_URL_MESSAGE, code="invalid") from None


class ImageURLField(StrictCharField):
    """``profileImage``, a product image's or a category's ``imageUrl`` (see ``validate_image_url``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", 'An absolute http(s) URL or a path on this site starting with a single "/".')
        super().__init__(**kwargs)
        self.validators.append(validate_image_url)


def validated(serializer_class, data, **kwargs):
    """Validate ``data`` with a DRF serializer; invalid input raises the contract's 400."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
