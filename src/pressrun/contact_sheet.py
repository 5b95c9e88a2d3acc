"""Contact sheets: every view of one recipient side by side, labelled, in one PNG."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

_CELL = 480
_GAP = 32
_LABEL = 40
_TITLE = 80
_BACKGROUND = (244, 244, 246)
_INK = (30, 30, 36)
_FRAME = (200, 200, 206)


def contact_sheet(images: list[tuple[str, bytes]], *, title: str, columns: int) -> bytes:
    """Lay (label, PNG) pairs out `columns` to a row, each fitted into the same square cell."""
    rows = -(-len(images) // columns)
    width = _GAP + columns * (_CELL + _GAP)
    height = _TITLE + rows * (_LABEL + _CELL + _GAP)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((_GAP, _GAP), title, fill=_INK, font=ImageFont.load_default(size=32))
    label_font = ImageFont.load_default(size=22)
    for index, (label, data) in enumerate(images):
        x = _GAP + (index % columns) * (_CELL + _GAP)
        y = _TITLE + (index // columns) * (_LABEL + _CELL + _GAP)
        draw.text((x, y), label, fill=_INK, font=label_font)
        tile = _fitted(data)
        left, top = x + (_CELL - tile.width) // 2, y + _LABEL + (_CELL - tile.height) // 2
        sheet.paste(tile, (left, top))
        draw.rectangle((left - 1, top - 1, left + tile.width, top + tile.height), outline=_FRAME)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG")
    return buffer.getvalue()


def _fitted(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        scale = _CELL / max(image.width, image.height)
        size = (round(image.width * scale), round(image.height * scale))
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
