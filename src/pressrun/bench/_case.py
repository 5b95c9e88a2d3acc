"""One benchmarked run, in a process of its own: `python -m pressrun.bench._case ENGINE ...`.

The parent measures this process from outside (CPU, memory, Chromium left); this side times the
run itself, from just before the campaign is loaded (so data reading, validation and browser
launch count, interpreter start-up does not) to the last asset written, and writes its figures
as JSON to RESULT.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ..campaign import Campaign
from .baseline import render_baseline
from .timeline import Timeline

ENGINES = ("pressrun", "baseline")


def run(engine: str, campaign_dir: Path, out: Path, workers: int | None) -> dict[str, Any]:
    timeline = Timeline()
    started = time.perf_counter()
    campaign = Campaign.load(campaign_dir)
    figures: dict[str, Any] = {"skipped": 0, "qa_flagged": 0, "failed": 0, "rejected": 0}
    if engine == "pressrun":
        report = campaign.render(out=out, workers=workers, progress=timeline)
        figures.update(
            skipped=report.skipped,
            qa_flagged=len(report.qa_flagged),
            failed=len(report.failed),
            rejected=len(report.rejects),
        )
    else:
        render_baseline(campaign, out, timeline)
    finished = time.perf_counter()
    return figures | {
        "assets": timeline.done,
        "seconds": (timeline.last or finished) - started,
        "end_to_end_seconds": finished - started,
        "first_10_rate": timeline.window_rate(0, 0.1),
        "last_10_rate": timeline.window_rate(0.9, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pressrun.bench._case")
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("campaign", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    figures = run(args.engine, args.campaign, args.out, args.workers)
    args.result.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
