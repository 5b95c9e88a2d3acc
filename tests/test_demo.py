"""The demo campaign as a user gets it: validates as documented and renders cleanly."""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image
from pypdf import PdfReader

from pressrun import Campaign, demo_path

TRICKY = ["sw-007", "sw-012", "sw-021", "sw-009", "sw-002"]  # 40-char name, Japanese, emoji, no city, es


@pytest.fixture(scope="module")
def demo() -> Campaign:
    return Campaign.load(demo_path())


def test_demo_validates_48_rows_and_rejects_the_2_bad_ones(demo):
    report = demo.validate()
    assert report.rows == 50 and len(report.recipients) == 48
    assert [(r.key, r.field, r.reason) for r in report.rejects] == [
        ("sw-017", "streams", "'1,234' is not an integer (thousands separators are not allowed)"),
        ("sw-033", "email", "'not-an-email' is not an email address"),
    ]
    assert set(report.colorway_counts) == {"midnight", "sunrise"}


def test_tricky_recipients_render_cleanly_in_every_format(demo, tmp_path):
    report = demo.render(out=tmp_path, only=TRICKY)
    assert len(report.written) == len(TRICKY) * 4 * 2
    assert [(r.path, r.qa) for r in report.written if r.qa] == []
    colors = {"midnight": (0x12, 0x12, 0x12), "sunrise": (0xFF, 0x64, 0x37)}
    for record in report.written:
        data = (tmp_path / record.path).read_bytes()
        if record.output == "png":
            with Image.open(io.BytesIO(data)) as image:
                assert image.size == (record.width, record.height)
                assert image.convert("RGB").getpixel((20, 20)) == colors[record.colorway], record.path
        else:
            page = PdfReader(io.BytesIO(data)).pages[0]
            assert round(float(page.mediabox.width)) == round(record.width * 0.75)
            fonts = {str(font.get("/BaseFont", "")) for font in page["/Resources"]["/Font"].values()}
            assert any("Inter" in font for font in fonts), (record.path, fonts)


def test_names_are_in_the_pdf_text(demo, tmp_path):
    report = demo.render(out=tmp_path, only=["sw-007", "sw-012"])
    texts = {
        r.key: PdfReader(tmp_path / r.path).pages[0].extract_text() for r in report.written if r.output == "pdf"
    }
    assert "Annelies Marguerite Okonkwo-Whitfield-Ng" in texts["sw-007"].replace("\n", " ")
    assert "宮坂" in texts["sw-012"]


@pytest.mark.slow
def test_the_whole_demo_renders_384_assets(demo, tmp_path):
    report = demo.render(out=tmp_path)
    assert len(report.written) == 48 * 4 * 2 and not report.failed
    assert [r.path for r in report.qa_flagged] == []
    manifest = list(csv.DictReader((tmp_path / "manifest.csv").open()))
    assert len(manifest) == 384
    assert len(list(csv.DictReader((tmp_path / "rejects.csv").open()))) == 2
