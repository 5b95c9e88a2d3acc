"""The library API end to end: validate, render, resume, incremental re-runs."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import psutil
import pytest
from PIL import Image

from pressrun import Campaign, CampaignError

BAD_ROWS = """\
id,email,name,points
ana,ana@example.com,Ana Lima,150
bo,bo@example.com,Bo Chen,20
cy,not-an-email,Cy,5
dee,dee@example.com,Dee,"1,234"
ana,ana2@example.com,Ana Again,3
../x,x@example.com,Path,3
ed,ed@example.com,Ed,3,surplus
"""


def test_validate_reports_every_row_problem(make_campaign):
    campaign = Campaign.load(make_campaign(csv=BAD_ROWS))
    report = campaign.validate()
    assert [r.key for r in report.recipients] == ["ana", "bo"]
    assert [(r.row, r.key, r.field) for r in report.rejects] == [
        (4, "cy", "email"),
        (5, "dee", "points"),
        (6, "ana", "id"),
        (7, "../x", "id"),
        (8, "ed", "(row)"),
    ]
    assert "duplicate key 'ana', first used on row 2" in report.rejects[2].reason
    assert report.colorway_counts == {"sunrise": 1, "midnight": 1}


def test_validate_rejects_rows_the_template_cannot_render(make_campaign):
    template = "<body>{% if r.points > 100 %}{{ r.nickname }}{% endif %}{{ r.name }}</body>"
    report = Campaign.load(make_campaign(html=template)).validate()
    assert [r.key for r in report.recipients] == ["bo"]
    (reject,) = report.rejects
    assert (reject.row, reject.key, reject.field) == (2, "ana", "nickname")
    assert "template failed in square/sunrise" in reject.reason


def test_broken_campaigns_fail_to_load(make_campaign):
    with pytest.raises(CampaignError, match="syntax error"):
        Campaign.load(make_campaign(name="a", colorway="'x' if"))
    with pytest.raises(CampaignError, match="template 'templates/none.html' not found"):
        Campaign.load(make_campaign(name="b", template="templates/none.html"))
    with pytest.raises(CampaignError, match="card.html"):
        Campaign.load(make_campaign(name="c", html="{% if %}"))


def test_render_writes_assets_manifest_and_rejects(make_campaign, tmp_path):
    campaign = Campaign.load(make_campaign(csv=BAD_ROWS, formats=["square", "story"], outputs=["png", "jpg", "pdf"]))
    out = tmp_path / "out"
    report = campaign.render(out=out, workers=2)
    assert len(report.written) == 2 * 2 * 3 and report.skipped == 0 and not report.failed
    with Image.open(out / "ana" / "story-sunrise.png") as card:
        assert card.size == (1080, 1920)
        assert card.convert("RGB").getpixel((20, 20)) == (0xFF, 0x64, 0x37)
    with Image.open(out / "bo" / "square-midnight.png") as card:
        assert card.convert("RGB").getpixel((20, 20)) == (0x12, 0x12, 0x12)
    manifest = list(csv.DictReader((out / "manifest.csv").open()))
    assert len(manifest) == 12
    first = manifest[0]
    assert (first["key"], first["email"], first["format"], first["colorway"], first["output"]) == (
        "ana", "ana@example.com", "square", "sunrise", "jpg"
    )
    assert int(first["bytes"]) == (out / first["path"]).stat().st_size
    assert (first["width"], first["height"], first["qa"]) == ("1080", "1080", "")
    rejects = list(csv.DictReader((out / "rejects.csv").open()))
    assert [r["key"] for r in rejects] == ["cy", "dee", "ana", "../x", "ed"]


def test_rerun_renders_only_what_changed(make_campaign, tmp_path):
    root = make_campaign()
    out = tmp_path / "out"
    assert len(Campaign.load(root).render(out=out).written) == 2
    again = Campaign.load(root).render(out=out)
    assert (len(again.written), again.skipped) == (0, 2)

    data = root / "data" / "recipients.csv"
    data.write_text(data.read_text().replace("Bo Chen", "Bo Chan"))
    changed = Campaign.load(root).render(out=out)
    assert [r.key for r in changed.written] == ["bo"] and changed.skipped == 1

    (out / "ana" / "square-sunrise.png").unlink()
    assert [r.key for r in Campaign.load(root).render(out=out).written] == ["ana"]

    template = root / "templates" / "card.html"
    template.write_text(template.read_text().replace("72px", "70px"))
    assert len(Campaign.load(root).render(out=out).written) == 2


def test_only_and_limit_select_recipients(make_campaign, tmp_path):
    campaign = Campaign.load(make_campaign())
    assert [r.key for r in campaign.render(out=tmp_path / "a", only=["bo"]).written] == ["bo"]
    assert [r.key for r in campaign.render(out=tmp_path / "b", limit=1).written] == ["ana"]


def test_rows_from_python_records(make_campaign, tmp_path):
    campaign = Campaign.load(make_campaign())
    rows = [{"id": "zed", "email": "z@example.com", "name": "Zed", "points": 7}]
    report = campaign.render(rows, out=tmp_path / "out")
    assert [r.path for r in report.written] == ["zed/square-midnight.png"]


def test_template_failure_during_render_rejects_only_that_recipient(make_campaign, tmp_path):
    template = "<body>{{ (r.points / (r.points - 20)) | round }}</body>"
    report = Campaign.load(make_campaign(html=template)).render(out=tmp_path / "out")
    assert [r.key for r in report.written] == ["ana"]
    assert [(r.key, r.field) for r in report.failed] == [("bo", "(template)")]
    assert "division by zero" in report.failed[0].reason


def many_rows(count: int) -> str:
    lines = ["id,email,name,points"] + [f"r{i:03d},r{i}@example.com,Recipient {i},{i}" for i in range(count)]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_stopped_run_resumes_without_losing_or_redoing_work(make_campaign, tmp_path, stop):
    total = 60
    root = make_campaign(csv=many_rows(total))
    out = tmp_path / "out"
    journal = out / ".pressrun" / "journal.jsonl"
    command = [sys.executable, "-m", "pressrun", "render", str(root), "--out", str(out), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 10):
        time.sleep(0.05)
    chromium = [p for p in psutil.Process(process.pid).children(recursive=True) if "chrom" in p.name()]
    assert chromium
    process.send_signal(stop)  # the parent only: its Chromium processes must go with it
    assert process.wait(timeout=60) in (-signal.SIGKILL, 130)
    assert not psutil.wait_procs(chromium, timeout=10)[1], "no Chromium process outlives the run"

    finished_before = {json.loads(line)["path"] for line in journal.read_text().splitlines() if line.endswith("}")}
    assert 10 <= len(finished_before) < total, "kill the run mid-way"
    for path in out.rglob("*.png"):
        Image.open(path).verify()  # nothing half-written under a final name

    report = Campaign.load(root).render(out=out, workers=2)
    assert not list(out.rglob("*.partial"))
    assert len(report.written) == total - len(finished_before)
    assert not {r.path for r in report.written} & finished_before
    manifest = list(csv.DictReader((out / "manifest.csv").open()))
    assert sorted(row["path"] for row in manifest) == sorted(f"r{i:03d}/square-midnight.png" for i in range(total))
    assert len({row["path"] for row in manifest}) == total
    assert len(Campaign.load(root).render(out=out).written) == 0
