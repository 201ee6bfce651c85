"""The Pillow pipeline alone, over the image modes and animations a shop may upload."""

import io

import pytest
from PIL import Image

from apps.images.processing import InvalidImage, TooManyPixels, process

from .factories import png_bomb

LIMITS = {"max_pixels": 40_000_000, "max_frames": 300, "thumbnail_size": 400}


def encode(image, fmt, **kwargs):
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return io.BytesIO(buf.getvalue())


def animation(fmt, size=(500, 250)):
    frames = [Image.new("RGBA", size, colour) for colour in ((255, 0, 0, 255), (0, 255, 0, 128), (0, 0, 255, 255))]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=0)


@pytest.mark.parametrize(
    ("mode", "fmt", "kwargs", "stored_mode"),
    [
        ("CMYK", "JPEG", {}, "RGB"),
        ("L", "JPEG", {}, "L"),
        ("I;16", "PNG", {}, "I;16"),
        ("1", "PNG", {}, "1"),
        ("LA", "PNG", {}, "LA"),
        ("P", "PNG", {"transparency": 0}, "P"),
        ("P", "GIF", {"transparency": 0}, "P"),
        ("RGBA", "WEBP", {"lossless": True}, "RGBA"),
    ],
)
def test_image_modes(mode, fmt, kwargs, stored_mode):
    source = Image.new(mode, (1000, 500))

    result = process(encode(source, fmt, **kwargs), **LIMITS)

    assert result.format.pillow == fmt and (result.width, result.height) == (1000, 500)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == fmt and stored.mode == stored_mode and stored.size == (1000, 500)
        if "transparency" in kwargs:
            assert stored.convert("RGBA").getpixel((0, 0))[3] == 0
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.format == fmt and thumb.size == (400, 200)
        assert (result.thumbnail_width, result.thumbnail_height) == (400, 200)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_keep_frames_and_timing(fmt):
    result = process(animation(fmt), **LIMITS)

    assert result.frames == 3
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == fmt and stored.n_frames == 3
        durations = []
        for index in range(3):
            stored.seek(index)
            stored.load()  # WebP fills info["duration"] when the frame is decoded
            durations.append(stored.info.get("duration"))
        assert durations == [50, 60, 70]
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert getattr(thumb, "n_frames", 1) == 1 and thumb.size == (400, 200)


def test_small_images_are_not_enlarged():
    result = process(encode(Image.new("RGB", (40, 30), "red"), "PNG"), **LIMITS)

    assert (result.thumbnail_width, result.thumbnail_height) == (40, 30)


def test_too_many_frames():
    with pytest.raises(TooManyPixels):
        process(animation("GIF", size=(10, 10)), **{**LIMITS, "max_frames": 2})


def test_header_only_bomb_never_decoded():
    # Only 5 of 50,000 rows are present: decoding would fail, so the refusal came from the header.
    with pytest.raises(TooManyPixels):
        process(io.BytesIO(png_bomb(50_000, 50_000, rows=5)), **LIMITS)


def test_truncated_image_is_invalid_not_a_crash():
    data = encode(Image.effect_noise((300, 300), 50).convert("RGB"), "JPEG").getvalue()

    with pytest.raises(InvalidImage):
        process(io.BytesIO(data[: len(data) // 2]), **LIMITS)
