"""The `pressrun` command: a thin layer over the library, with Rich output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .campaign import Campaign
from .console import console, errors
from .console import guard as _guard
from .demo import init_campaign
from .report import ProgressBar, print_render_report, print_validation_report
from .storage import OutputStore

app = typer.Typer(
    name="pressrun",
    help="Render one personalized asset per recipient from data + an HTML/CSS template.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

CampaignArg = Annotated[Path, typer.Argument(help="Campaign folder (or its campaign.yaml).")]
DataOpt = Annotated[Optional[Path], typer.Option("--data", help="Data file to use instead of data.source.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Output folder [default: CAMPAIGN/out].")]


@app.command()
def validate(campaign: CampaignArg, data: DataOpt = None, out: OutOpt = None) -> None:
    """Check the campaign and every row; write rejects.csv. Exit 2 if the campaign is broken."""
    loaded = _load(campaign)
    with console.status("Validating rows and templates…"):
        report = _guard(lambda: loaded.validate(data))
    rejects = OutputStore(out or loaded.default_out()).write_rejects(report.rejects)
    print_validation_report(console, report, rejects)


@app.command()
def render(
    campaign: CampaignArg,
    data: DataOpt = None,
    out: OutOpt = None,
    workers: Annotated[Optional[int], typer.Option(help="Concurrent Chromium pages, a browser each [default: 2 per CPU core].")] = None,
    only: Annotated[Optional[str], typer.Option(help="Render only these keys (comma-separated).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Render at most N recipients.")] = None,
) -> None:
    """Render every missing or outdated asset; resumable, incremental."""
    loaded = _load(campaign)
    keys = [k.strip() for k in only.split(",") if k.strip()] if only else None
    with ProgressBar(console, "Rendering", "assets") as bar:
        try:
            report = _guard(
                lambda: loaded.render(data, out=out, workers=workers, only=keys, limit=limit, progress=bar)
            )
        except KeyboardInterrupt:
            bar.stop()
            errors.print("[yellow]Interrupted.[/] Finished assets are kept; run again to continue.")
            raise typer.Exit(130) from None
    print_render_report(console, report)


@app.command()
def preview(
    campaign: CampaignArg,
    key: Annotated[Optional[str], typer.Option(help="Recipient key.")] = None,
    row: Annotated[Optional[int], typer.Option(help="Row number in the data file.")] = None,
    data: DataOpt = None,
    out: OutOpt = None,
) -> None:
    """Render one recipient in every format and colorway into a labelled contact sheet."""
    loaded = _load(campaign)
    with console.status("Rendering every format and colorway…"):
        path = _guard(lambda: loaded.preview(data, key=key, row=row, out=out))
    console.print(f"Contact sheet: [bold]{path}[/]")


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create.")]) -> None:
    """Scaffold a new campaign from the demo (the songwriter 'Wrapped' card)."""
    target = _guard(lambda: init_campaign(directory))
    console.print(f"Created [bold]{target}[/]. Try: [cyan]pressrun preview {target}[/]")


def _load(path: Path) -> Campaign:
    return _guard(lambda: Campaign.load(path))


def main() -> None:
    app()


from .service import commands as _service_commands  # noqa: E402  (the service's commands)

_service_commands.register(app)

from .delivery import commands as _delivery_commands  # noqa: E402  (send, export, webhooks)

_delivery_commands.register(app)
