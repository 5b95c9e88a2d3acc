"""`python -m pressrun.bench`: the throughput benchmark (issue 3), with Rich tables and a JSON file."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..campaign import default_workers
from .baseline import PAGES
from .cases import parse_cases
from .machine import machine_info
from .report import (
    BASELINE,
    RATE_WINDOW,
    TREE,
    campaign_json,
    case_json,
    figures_json,
    print_campaign,
    print_cases,
    print_long_run,
    print_machine,
    write_json,
)
from .suite import BenchError, Suite

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
console = Console(width=None if sys.stdout.isatty() else 120)  # logs and files get the whole table


@app.command()
def bench(
    n: Annotated[
        int, typer.Option("--n", min=0, help="Recipients per case (0 skips the cases).")
    ] = 300,
    cases: Annotated[
        str | None,
        typer.Option(
            help="Cases to run, e.g. demo:story-png,heavy:mixed-png (default: all of them)."
        ),
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also run the plain Playwright loop per case.")
    ] = True,
    workers: Annotated[
        int | None, typer.Option(min=1, help="pressrun workers (default: pressrun's own).")
    ] = None,
    long: Annotated[
        int, typer.Option("--long", min=0, help="Assets in the long run (0 skips it).")
    ] = 10_000,
    campaign: Annotated[
        int,
        typer.Option(
            "--campaign", min=0, help="Recipients in the end-to-end campaign case (0 skips it)."
        ),
    ] = 0,
    out: Annotated[
        Path | None, typer.Option(help="JSON file (default: bench-results/<timestamp>.json).")
    ] = None,
) -> None:
    """Render N synthetic recipients per case with pressrun and a plain Playwright loop, and compare."""
    try:
        selected = parse_cases(cases)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cases") from None
    started = datetime.now().astimezone()
    machine = machine_info()
    pressrun_workers = workers or default_workers()
    print_machine(console, machine, pressrun_workers)
    document: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine,
        "options": {
            "n": n,
            "cases": [case.name for case in selected] if n else [],
            "baseline": baseline,
            "workers": pressrun_workers,
            "baseline_pages": PAGES,
            "long": long,
            "campaign": campaign,
        },
        "definitions": {"rate": RATE_WINDOW, "tree": TREE, "ratio": BASELINE},
    }
    with console.status("Starting…") as status:
        suite = Suite(workers, lambda text: status.update(f"[bold]{text}[/]"))
        try:
            results = [suite.case(case, n, baseline) for case in selected] if n else []
            long_run = suite.long_run(long) if long else None
            campaign_run = suite.campaign(campaign) if campaign else None
        except BenchError as exc:
            status.stop()
            console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
    if results:
        print_cases(console, results)
    if long_run:
        print_long_run(console, long_run)
    if campaign_run:
        print_campaign(console, campaign_run)
    document |= {
        "cases": [case_json(result) for result in results],
        "long_run": figures_json(long_run) if long_run else None,
        "campaign": campaign_json(campaign_run) if campaign_run else None,
    }
    path = write_json(out or Path("bench-results") / f"{started:%Y%m%d-%H%M%S}.json", document)
    console.print(f"Figures written to [bold]{path}[/]")
    left = sum(figures.chromium_left for figures in suite.runs)
    if left:
        console.print(f"[bold red]{left} Chromium processes outlived their run.[/]")
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
