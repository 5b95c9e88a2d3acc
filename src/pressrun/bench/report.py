"""The benchmark's figures as Rich tables, and as JSON for comparing runs over time."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .suite import CampaignResult, CaseResult, Figures

RATE_WINDOW = (
    "assets/s counts from just before the campaign is loaded (reading the CSV, validation and "
    "browser launch included, Python start-up excluded) to the last asset written"
)
TREE = (
    "CPU-s/asset: user + system CPU of the run's whole process tree (Python, the Playwright "
    "driver, every Chromium process); peak MB: the highest sum of PSS over that tree, sampled "
    "every 150 ms"
)
BASELINE = (
    "ratio: pressrun assets/s ÷ baseline assets/s; the baseline is one Playwright browser with "
    "4 reused pages, set_content then screenshot (or pdf), same HTML, same files"
)


def print_machine(console: Console, machine: dict[str, Any], workers: int) -> None:
    load = " ".join(f"{value:.2f}" for value in machine["load_average"])
    console.print(
        f"[bold]pressrun {machine['pressrun']}[/] · {machine['chromium']} · "
        f"{machine['cpu_count']} CPUs, load {load} at start · {workers} pressrun workers"
    )


def print_cases(console: Console, results: list[CaseResult]) -> None:
    table = Table(
        title="Throughput",
        title_justify="left",
        caption=f"{RATE_WINDOW}.\n{TREE}.\n{BASELINE}.",
        caption_justify="left",
    )
    for column in (
        "case",
        "engine",
        "assets",
        "assets/s",
        "CPU-s/asset",
        "peak MB",
        "ratio",
        "Chromium left",
    ):
        table.add_column(column, justify="left" if column in ("case", "engine") else "right")
    for result in results:
        ratio = f"[bold]{result.ratio:.2f}×[/]" if result.ratio else "–"
        table.add_row(
            result.case, "pressrun", *_figures(result.pressrun), ratio, _left(result.pressrun)
        )
        if result.baseline is not None:
            table.add_row(
                "", "[dim]baseline[/]", *_figures(result.baseline), "", _left(result.baseline)
            )
    console.print(table)
    for result in results:
        _print_problems(console, result.case, result.pressrun)


def print_long_run(console: Console, figures: Figures) -> None:
    table = Table(
        title="Long run (demo story PNG)",
        title_justify="left",
        caption="first and last 10 %: rates over the first and the last tenth of the assets, "
        "from the first asset on (browser launch excluded)",
        caption_justify="left",
    )
    for column in (
        "assets",
        "assets/s",
        "first 10 %",
        "last 10 %",
        "CPU-s/asset",
        "peak MB",
        "Chromium left",
    ):
        table.add_column(column, justify="right")
    assets, rate, cpu, peak = _figures(figures)
    table.add_row(
        assets,
        rate,
        _rate(figures.first_10_rate),
        _rate(figures.last_10_rate),
        cpu,
        peak,
        _left(figures),
    )
    console.print(table)
    _print_problems(console, "long run", figures)


def print_campaign(console: Console, result: CampaignResult) -> None:
    table = Table(
        title=f"Campaign end to end: {result.recipients:,} recipients × 3 formats, PNG",
        title_justify="left",
        caption="seconds: Campaign.load + Campaign.render from the CSV (validation, fingerprints, "
        "rendering, manifest.csv), in a fresh process; target for the unchanged re-run: under "
        "10 s at 7,000 recipients",
        caption_justify="left",
    )
    for column in (
        "run",
        "written",
        "up to date",
        "seconds",
        "assets/s",
        "CPU-s",
        "peak MB",
        "Chromium left",
    ):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, figures in (("first", result.first), ("unchanged re-run", result.rerun)):
        seconds = figures.end_to_end_seconds
        table.add_row(
            name,
            f"{figures.assets:,}",
            f"{figures.skipped:,}",
            f"{seconds:.2f}",
            _rate(figures.assets / seconds if figures.assets else None),
            f"{figures.cpu_seconds:.1f}",
            f"{figures.peak_mb:.0f}",
            _left(figures),
        )
    console.print(table)
    _print_problems(console, "campaign", result.first)


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def case_json(result: CaseResult) -> dict[str, Any]:
    return {
        "case": result.case,
        "recipients": result.recipients,
        "pressrun": figures_json(result.pressrun),
        "baseline": figures_json(result.baseline) if result.baseline else None,
        "ratio": result.ratio,
    }


def campaign_json(result: CampaignResult) -> dict[str, Any]:
    return {
        "recipients": result.recipients,
        "first": figures_json(result.first),
        "rerun": figures_json(result.rerun),
    }


def figures_json(figures: Figures) -> dict[str, Any]:
    return asdict(figures) | {"rate": figures.rate, "cpu_per_asset": figures.cpu_per_asset}


def _figures(figures: Figures) -> tuple[str, str, str, str]:
    cpu = f"{figures.cpu_per_asset:.3f}" if figures.cpu_per_asset is not None else "–"
    memory = f"{figures.peak_mb:.0f}" + ("" if figures.memory == "pss" else " (RSS)")
    return f"{figures.assets:,}", _rate(figures.rate), cpu, memory


def _rate(rate: float | None) -> str:
    return f"{rate:.2f}" if rate else "–"


def _left(figures: Figures) -> str:
    return "[green]0[/]" if figures.chromium_left == 0 else f"[bold red]{figures.chromium_left}[/]"


def _print_problems(console: Console, label: str, figures: Figures) -> None:
    problems = {
        "rejected rows": figures.rejected,
        "render failures": figures.failed,
        "QA-flagged assets": figures.qa_flagged,
    }
    found = [f"{count} {what}" for what, count in problems.items() if count]
    if found:
        console.print(f"[yellow]{label}: {', '.join(found)}[/]")
