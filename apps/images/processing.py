"""Pillow work, with no storage and no HTTP: decide whether some bytes are an image we accept,
and re-encode them without their metadata, plus a thumbnail.

Nothing the client says is trusted: the format comes from the bytes (only the JPEG, PNG, GIF and
WebP decoders are tried, so SVG, HTML or text never get through), the pixel count is checked from
the header before anything is decoded (decompression bombs), and the stored bytes are a fresh
encoding of the decoded pixels, so EXIF (GPS position, camera serial...), XMP, comments and text
chunks are gone. The colour profile (ICC) is kept: it is not personal data and dropping it would
change the colours of wide-gamut photos.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError


@dataclass(frozen=True)
class Format:
    pillow: str
    extension: str
    mimetype: str


FORMATS = {
    "JPEG": Format("JPEG", "jpg", "image/jpeg"),
    "PNG": Format("PNG", "png", "image/png"),
    "GIF": Format("GIF", "gif", "image/gif"),
    "WEBP": Format("WEBP", "webp", "image/webp"),
}
# The JPEG opener answers MPO (multi-picture JPEG from cameras) for some files: stored as JPEG.
ALIASES = {"MPO": "JPEG"}
ANIMATED_FORMATS = {"GIF", "WEBP", "PNG"}  # PNG: APNG
EXIF_ORIENTATION = 0x0112


class InvalidImage(Exception):  # noqa: N818 - a domain outcome, not a programming error
    """The bytes are not an image of an allowed format (or are corrupt)."""


class TooManyPixels(Exception):  # noqa: N818
    """The image decodes to more pixels (or frames) than the configured limits."""


@dataclass(frozen=True)
class ProcessedImage:
    format: Format
    data: bytes
    width: int
    height: int
    frames: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int


def _open(fp):
    try:
        with warnings.catch_warnings():
            # Above Image.MAX_IMAGE_PIXELS Pillow only warns: make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(fp, formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(str(exc)) from exc


def _has_alpha(im):
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info


def _save_kwargs(fmt, source_info):
    kwargs = {}
    icc = source_info.get("icc_profile")
    if icc:
        kwargs["icc_profile"] = icc
    if fmt == "JPEG":
        kwargs["quality"] = 90
    elif fmt == "WEBP":
        kwargs["quality"] = 90
    return kwargs


def _static_for(fmt, frame):
    """The decoded first frame, upright, in a mode the target encoder takes (no copy when the
    frame already is: a 40 Mpx RGBA image is 160 MB)."""
    info = dict(frame.info)
    upright = frame
    if frame.getexif().get(EXIF_ORIENTATION, 1) in range(2, 9):
        upright = ImageOps.exif_transpose(frame)
    if fmt == "JPEG":
        if upright.mode not in ("L", "RGB"):
            if upright.mode == "CMYK":
                info.pop("icc_profile", None)  # a CMYK profile would be wrong for the RGB pixels
            upright = upright.convert("RGB")
    elif fmt in ("WEBP", "GIF") and upright.mode not in ("RGB", "RGBA", "L", "P"):
        upright = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
    return upright, info


def _encode(fmt, image, info, extra=None):
    image.info = {}  # the encoders fall back on .info for exif/comments: start from nothing
    kwargs = _save_kwargs(fmt, info)
    if "transparency" in info and image.mode in ("P", "L", "RGB") and fmt in ("PNG", "GIF"):
        kwargs["transparency"] = info["transparency"]
    kwargs.update(extra or {})
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _thumbnail(fmt, first, info, box):
    """The first frame resized to fit in box x box (never enlarged), in the same format."""
    alpha = _has_alpha(first) and fmt != "JPEG"
    source = first
    if first.mode not in ("RGB", "RGBA", "L", "LA") or (alpha and "transparency" in first.info):
        # P, 1, I;16, or a transparent colour key: resize needs real colours and a real alpha.
        source = first.convert("RGBA" if alpha else "RGB")
    width, height = source.size
    scale = min(1.0, box / width, box / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    icc = {k: v for k, v in info.items() if k == "icc_profile"}
    return _encode(fmt, thumb, icc), thumb.size


def process(fp, *, max_pixels, max_frames, thumbnail_size):
    """Validate and re-encode the image in ``fp`` (a binary file object).

    Raises ``InvalidImage`` or ``TooManyPixels``; returns a ``ProcessedImage``.
    """
    im = _open(fp)
    with im:
        fmt_name = ALIASES.get(im.format, im.format)
        if fmt_name not in FORMATS:
            raise InvalidImage(f"unsupported format {im.format}")
        fmt = FORMATS[fmt_name]
        width, height = im.size
        if width < 1 or height < 1:
            raise InvalidImage("empty image")
        if width * height > max_pixels:
            raise TooManyPixels(f"{width}x{height} is more than {max_pixels} pixels")
        try:
            frames = getattr(im, "n_frames", 1) if fmt_name in ANIMATED_FORMATS else 1
            if frames > max_frames or frames * width * height > max_pixels:
                raise TooManyPixels(f"{frames} frames of {width}x{height} is too much to decode")
            source_info = dict(im.info)
            if frames > 1:
                sequence, durations = [], []
                for frame in ImageSequence.Iterator(im):
                    rgba = frame.convert("RGBA")  # decodes: WebP sets the duration only then
                    durations.append(int(frame.info.get("duration", 100) or 100))
                    rgba.info = {}  # no comment/exif/xmp carried by any frame
                    sequence.append(rgba)
                first = sequence[0]
                extra = {
                    "save_all": True,
                    "append_images": sequence[1:],
                    "duration": durations,
                    "loop": int(source_info.get("loop", 0) or 0),
                }
                thumbnail, (tw, th) = _thumbnail(fmt_name, first, source_info, thumbnail_size)
                data = _encode(fmt_name, first, source_info, extra)
            else:
                im.seek(0)
                im.load()
                first, first_info = _static_for(fmt_name, im)
                width, height = first.size  # after EXIF rotation
                thumbnail, (tw, th) = _thumbnail(fmt_name, first, first_info, thumbnail_size)
                data = _encode(fmt_name, first, first_info)  # clears first.info: thumbnail first
        except TooManyPixels:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            # Truncated or corrupt data surfaces only when the pixels are decoded.
            raise InvalidImage(str(exc)) from exc
    return ProcessedImage(fmt, data, width, height, frames, thumbnail, tw, th)
