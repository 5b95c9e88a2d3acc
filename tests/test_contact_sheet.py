from __future__ import annotations

import io

from PIL import Image

from pressrun.contact_sheet import contact_sheet


def png(size, color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def test_tiles_keep_their_aspect_ratio_in_equal_cells():
    sheet_bytes = contact_sheet(
        [("story", png((1080, 1920), (255, 0, 0))), ("landscape", png((1920, 1080), (0, 0, 255))),
         ("square", png((1080, 1080), (0, 255, 0)))],
        title="t", columns=2,
    )
    sheet = Image.open(io.BytesIO(sheet_bytes)).convert("RGB")
    assert sheet.size == (32 + 2 * 512, 80 + 2 * 552)
    cell_top = 80 + 40
    assert sheet.getpixel((32 + 240, cell_top + 240)) == (255, 0, 0)  # story: centred, 270 wide
    assert sheet.getpixel((32 + 10, cell_top + 240)) == (244, 244, 246)  # background beside it
    assert sheet.getpixel((32 + 512 + 240, cell_top + 240)) == (0, 0, 255)
    assert sheet.getpixel((32 + 240, cell_top + 552 + 240)) == (0, 255, 0)
