from __future__ import annotations

import csv

from PIL import Image
from typer.testing import CliRunner

from pressrun.cli import app

runner = CliRunner()


def test_validate_prints_summary_and_writes_rejects(make_campaign, tmp_path):
    root = make_campaign(csv="id,email,name,points\nana,ana@example.com,Ana,150\nbo,bad,Bo,1\n")
    result = runner.invoke(app, ["validate", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output and "'bad' is not an email address" in result.output
    assert "sunrise" in result.output
    rows = list(csv.DictReader((tmp_path / "out" / "rejects.csv").open()))
    assert rows == [{"row": "3", "key": "bo", "field": "email", "reason": "'bad' is not an email address"}]


def test_broken_campaign_exits_2_with_a_clear_error(make_campaign):
    result = runner.invoke(app, ["validate", str(make_campaign(colorway="'a' if"))])
    assert result.exit_code == 2
    assert "rule 'colorway': syntax error" in result.output


def test_render_with_data_override_and_only(make_campaign, tmp_path):
    root = make_campaign()
    data = tmp_path / "other.json"
    data.write_text('[{"id": "x1", "email": "x@example.com", "name": "X", "points": 500},'
                    ' {"id": "x2", "email": "y@example.com", "name": "Y", "points": 5}]')
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(root), "--data", str(data), "--out", str(out), "--only", "x2"])
    assert result.exit_code == 0, result.output
    assert "assets written" in result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["x2/square-midnight.png"]


def test_preview_writes_a_contact_sheet_of_every_format_and_colorway(make_campaign, tmp_path):
    root = make_campaign(formats=["square", "story"])
    result = runner.invoke(app, ["preview", str(root), "--key", "bo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "preview-bo.png") as sheet:
        sheet = sheet.convert("RGB")
        # Two columns (formats) by two rows (colorways): midnight first, then sunrise.
        assert sheet.size == (32 + 2 * (480 + 32), 80 + 2 * (40 + 480 + 32))
        assert sheet.getpixel((32 + 20, 80 + 40 + 20)) == (0x12, 0x12, 0x12)
        assert sheet.getpixel((32 + 20, 80 + 552 + 40 + 20)) == (0xFF, 0x64, 0x37)


def test_preview_of_a_rejected_recipient_explains_why(make_campaign):
    root = make_campaign(csv="id,email,name,points\nbo,bad,Bo,1\n")
    result = runner.invoke(app, ["preview", str(root), "--key", "bo"])
    assert result.exit_code == 2
    assert "no valid recipient with key 'bo' (rejected: email: 'bad' is not an email address)" in result.output


def test_init_copies_the_demo(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "campaign.yaml").is_file()
    assert runner.invoke(app, ["init", str(tmp_path / "mine")]).exit_code == 2
