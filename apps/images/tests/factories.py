"""Images built in memory for the tests."""

import io
import random
import struct
import zlib

from PIL import Image


def make_image(fmt, size=(120, 80), mode="RGB", **save_kwargs):
    """An image with some structure (not a flat colour), encoded by Pillow."""
    im = Image.new(mode, size)
    width, height = size
    for x in range(0, width, 8):
        for y in range(0, height, 8):
            colour = ((x * 3) % 256, (y * 5) % 256, (x + y) % 256)
            if mode == "RGBA":
                colour = (*colour, 200)
            elif mode in ("L", "P"):
                colour = colour[0]
            im.paste(colour, (x, y, min(x + 8, width), min(y + 8, height)))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **save_kwargs)
    return buf.getvalue()


def noise_png(width, height, seed=1):
    """A PNG that does not compress (random pixels): its size on disk is about width*height*3."""
    rnd = random.Random(seed)
    im = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width, height, rows=None):
    """A valid 1-bit greyscale PNG of width x height, all black: a few KB on disk, width*height
    pixels once decoded. ``rows`` limits the rows actually encoded (a truncated body is enough to
    test a refusal made from the header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height if rows is None else rows)]
    parts.append(compressor.flush())
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
