"""Rich presentation of validation and render reports (the CLI's output, kept out of the CLI)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .results import Reject, RenderReport, ValidationReport

_SHOWN = 10


def print_validation_report(console: Console, report: ValidationReport, rejects_file: Path) -> None:
    summary = Table(title="Validation", show_header=False, title_justify="left")
    summary.add_row("rows", str(report.rows))
    summary.add_row("ok", f"[green]{len(report.recipients)}[/]")
    summary.add_row("rejected", _count(report.rejected_rows, "red"))
    console.print(summary)
    _print_colorways(console, report)
    if report.unknown_columns:
        console.print(f"[dim]Columns not in the schema (ignored): {', '.join(report.unknown_columns)}[/]")
    _print_rejects(console, report.rejects, rejects_file)


def print_render_report(console: Console, report: RenderReport) -> None:
    summary = Table(title="Render", show_header=False, title_justify="left")
    summary.add_row("assets written", f"[green]{len(report.written)}[/]")
    summary.add_row("up to date (skipped)", str(report.skipped))
    summary.add_row("rows rejected", _count(report.validation.rejected_rows, "red"))
    summary.add_row("render failures", _count(len(report.failed), "red"))
    summary.add_row("QA-flagged assets", _count(len(report.qa_flagged), "yellow"))
    summary.add_row("wall time", f"{report.seconds:.1f} s")
    summary.add_row("rate", f"{report.rate:.1f} assets/s")
    summary.add_row("output", str(report.out))
    console.print(summary)
    if report.qa_flagged:
        table = Table("asset", "QA", title="QA flags", title_justify="left")
        for record in report.qa_flagged[:_SHOWN]:
            table.add_row(record.path, "\n".join(record.qa))
        console.print(table)
        _more(console, len(report.qa_flagged), report.out / "manifest.csv")
    _print_rejects(console, report.rejects, report.out / "rejects.csv")


def _print_colorways(console: Console, report: ValidationReport) -> None:
    counts = report.colorway_counts
    if counts:
        table = Table("colorway", "recipients", title="Colorway rule", title_justify="left")
        for name, count in counts.most_common():
            table.add_row(name, str(count))
        console.print(table)


def _print_rejects(console: Console, rejects: list[Reject], rejects_file: Path) -> None:
    if not rejects:
        return
    table = Table("row", "key", "field", "reason", title="Rejected", title_justify="left")
    for reject in rejects[:_SHOWN]:
        table.add_row(str(reject.row), reject.key or "", reject.field, reject.reason)
    console.print(table)
    _more(console, len(rejects), rejects_file)


def _more(console: Console, count: int, file: Path) -> None:
    hidden = count - _SHOWN
    console.print(f"[dim]{f'{hidden} more; ' if hidden > 0 else ''}all in {file}[/]")


def _count(value: int, color: str) -> str:
    return f"[{color}]{value}[/]" if value else "0"


class ProgressBar:
    """A Rich progress bar with rate and ETA, shaped as a pressrun.Progress."""

    def __init__(self, console: Console, label: str, unit: str) -> None:
        self._unit = unit
        self._bar = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task = self._bar.add_task(label, total=None, rate="")

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, total: int) -> None:
        self._bar.update(self._task, total=total)
        self._bar.start()

    def advance(self, count: int = 1) -> None:
        self._bar.advance(self._task, count)
        speed = self._bar.tasks[0].speed
        if speed:
            self._bar.update(self._task, rate=f"{speed:.1f} {self._unit}/s")

    def stop(self) -> None:
        self._bar.stop()
