"""Shared input rules (ecommerce/validation.py)."""

import pytest
from django.core.exceptions import ValidationError

from ecommerce.validation import validate_image_url

UPLOADED = "/images/images/0b7c3a52-5f0e-4d2a-9a44-2b1f8f6c1d3e.png"  # what POST /images/upload answers


@pytest.mark.parametrize(
    "url",
    [
        UPLOADED,
        "/images/0b7c3a52-5f0e-4d2a-9a44-2b1f8f6c1d3e.jpeg",  # the original's relative form
        "/i.jpg",
        "/images/a%20b.png?v=2",
        "https://cdn.example.com/p/1.jpg",
        "http://localhost:3004/images/x.png",
    ],
)
def test_an_image_url_is_absolute_http_or_a_path_on_this_site(url):
    validate_image_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "//evil.example/x.png",  # scheme-relative: another host
        "/\\evil.example/x.png",  # browsers read "/\" as "//"
        "images/x.png",
        "x.png",
        "/",
        "/images/a b.png",
        "/images/x.png\n",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "ftp://example.com/x.png",
        "https://",
        "",
    ],
)
def test_anything_else_is_refused(url):
    with pytest.raises(ValidationError):
        validate_image_url(url)
