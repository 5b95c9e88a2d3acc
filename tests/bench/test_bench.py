"""The benchmark harness: one real tiny run end to end, and its parts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml

import pressrun
from pressrun.bench.cases import ALL_CASES, HEAVY, Case, parse_cases
from pressrun.bench.synthetic import synthetic_rows
from pressrun.bench.timeline import Timeline


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """`python -m pressrun.bench` for 4 recipients, with the baseline and a 2-recipient campaign."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    argv = [
        sys.executable,
        "-m",
        "pressrun.bench",
        "--n",
        "4",
        "--cases",
        "demo:story-png",
        "--long",
        "0",
        "--campaign",
        "2",
        "--out",
        str(out),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout


def test_bench_measures_pressrun_and_the_baseline(bench_run):
    document, printed = bench_run
    assert document["machine"]["cpu_count"] >= 1 and len(document["machine"]["load_average"]) == 3
    assert document["machine"]["chromium"].startswith("Chromium")
    assert document["machine"]["pressrun"] == pressrun.__version__
    [case] = document["cases"]
    assert case["case"] == "demo:story-png" and case["ratio"] > 0
    for engine in ("pressrun", "baseline"):
        figures = case[engine]
        assert figures["assets"] == 4
        assert figures["rate"] > 0 and figures["cpu_per_asset"] > 0
        assert figures["peak_mb"] > 50 and figures["memory"] == "pss"
        assert figures["chromium_left"] == 0
    assert (
        case["pressrun"]["qa_flagged"]
        == case["pressrun"]["failed"]
        == case["pressrun"]["rejected"]
        == 0
    )
    assert "Throughput" in printed and "demo:story-png" in printed and "baseline" in printed


def test_bench_times_a_campaign_and_its_unchanged_rerun(bench_run):
    document, printed = bench_run
    campaign = document["campaign"]
    assert campaign["recipients"] == 2
    assert campaign["first"]["assets"] == 6 and campaign["first"]["skipped"] == 0
    assert campaign["rerun"]["assets"] == 0 and campaign["rerun"]["skipped"] == 6
    assert 0 < campaign["rerun"]["end_to_end_seconds"] < campaign["first"]["end_to_end_seconds"]
    assert campaign["first"]["chromium_left"] == campaign["rerun"]["chromium_left"] == 0
    assert document["long_run"] is None
    assert "unchanged re-run" in printed


def test_a_chromium_that_outlives_its_run_is_counted_and_ended():
    # a run that starts Chromium in a session of its own and exits without closing it; in a
    # process of its own, as the benchmark becomes a subreaper; in a short folder, as Chromium's
    # singleton socket goes under TMPDIR and socket paths are short
    run = Path(tempfile.mkdtemp(prefix="prb-"))
    script = textwrap.dedent(f"""
        import os, subprocess, sys
        from pathlib import Path
        from pressrun.bench.baseline import CHROMIUM
        from pressrun.bench.measure import become_subreaper, chromium_processes, run_measured

        become_subreaper()
        run = Path({str(run)!r})
        (run / "t").mkdir()
        leak = (
            "import os, subprocess, time; subprocess.Popen([{{!r}}, '--headless', '--no-sandbox', "
            "'--user-data-dir=' + os.environ['TMPDIR'] + '/profile', 'about:blank'], "
            "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); time.sleep(3)"
        ).format(CHROMIUM)
        env = os.environ | {{"TMPDIR": str(run / "t")}}
        measured = run_measured([sys.executable, "-c", leak], marker=run / "t", env=env, stderr=run / "err")
        print(measured.chromium_left, len(chromium_processes(run / "t")))
    """)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        shutil.rmtree(run, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    left, still_running = map(int, done.stdout.split())
    assert left >= 1 and still_running == 0


def test_the_heavy_campaign_validates_with_no_reject_and_both_colorways():
    report = pressrun.Campaign.load(HEAVY).validate()
    assert report.rejects == [] and len(report.recipients) == 12
    assert set(report.colorway_counts) == {"daybreak", "nightfall"}


def test_the_heavy_campaign_renders_without_qa_flags(tmp_path):
    # the extremes: the longest name, the largest numbers, a CJK name, a fall in miles, no reward
    campaign = pressrun.Campaign.load(HEAVY)
    report = campaign.render(out=tmp_path, only=["am-005", "am-009", "am-004", "am-007"])
    assert len(report.written) == 12 and not report.failed
    assert [(record.path, record.qa) for record in report.qa_flagged] == []


@pytest.mark.parametrize("template", ["demo", "heavy"])
def test_synthetic_rows_are_valid_unique_and_reach_both_colorways_early(template):
    campaign = pressrun.Campaign.load(pressrun.demo_path() if template == "demo" else HEAVY)
    rows = synthetic_rows(campaign, 40)
    report = campaign.validate(rows)
    assert report.rejects == [] and len(report.recipients) == 40
    assert len({row[campaign.spec.data.key] for row in rows}) == 40
    assert len(campaign.validate(rows[:4]).colorway_counts) == 2
    assert len({row["name"] for row in rows}) > 10


def test_a_case_is_a_reshaped_copy_of_its_campaign(tmp_path):
    folder = Case("demo", "story-pdf").build(5, tmp_path / "campaign")
    spec = yaml.safe_load((folder / "campaign.yaml").read_text())
    assert spec["formats"] == ["story"] and spec["outputs"] == ["pdf"]
    assert spec["render"]["jpg_quality"] == 90 and "email" not in spec
    campaign = pressrun.Campaign.load(folder)
    assert len(campaign.validate().recipients) == 5


def test_cases_are_selected_by_name():
    assert parse_cases(None) == list(ALL_CASES) and len(ALL_CASES) == 8
    assert [case.name for case in parse_cases("heavy:mixed-png, demo:story-jpg")] == [
        "heavy:mixed-png",
        "demo:story-jpg",
    ]
    with pytest.raises(ValueError, match="unknown case demo:gif"):
        parse_cases("demo:gif")


def test_timeline_rates_leave_out_the_wait_for_the_first_asset():
    timeline = Timeline()
    timeline.start(100)
    for second in range(100):
        timeline.marks.append(
            (50.0 + (second if second < 50 else 50 + (second - 50) * 2), second + 1)
        )
    assert timeline.done == 100
    assert timeline.window_rate(0, 0.1) == pytest.approx(1.0)
    assert timeline.window_rate(0.9, 1) == pytest.approx(0.5)
