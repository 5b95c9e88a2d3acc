"""The blank check: decoded only when the file is small enough to possibly be one color."""

from __future__ import annotations

import io
import random

from PIL import Image

from pressrun.qa import is_blank


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def test_one_color_is_blank_even_with_the_fastest_compression():
    data = png(Image.new("RGB", (1080, 1920), (18, 52, 86)))
    assert is_blank(data, 1080 * 1920) and is_blank(data)


def test_one_different_pixel_is_not_blank():
    image = Image.new("RGB", (1080, 1920), (18, 52, 86))
    image.putpixel((540, 960), (18, 52, 87))
    assert not is_blank(png(image), 1080 * 1920)


def test_a_busy_image_is_not_blank():
    noise = random.Random(7).randbytes(400 * 300 * 3)
    assert not is_blank(png(Image.frombytes("RGB", (400, 300), noise)), 400 * 300)
