"""The delivery CLI: `pressrun send`, `pressrun export`, `pressrun webhooks ...`."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from sqlalchemy import func, select

from ..campaign import Campaign as CampaignFolder
from ..console import console, errors
from ..console import guard as _guard
from ..report import ProgressBar
from ..service import catalog
from ..service.db import Database
from ..service.models import Campaign, Webhook, WebhookMessage
from ..service.settings import Settings
from .config import SmtpSettings
from .dispatcher import Dispatcher
from .exports import PLATFORMS, export
from .sender import SendOptions, SendReport, Sender, records_for
from .webhooks import check_url, new_secret

webhooks = typer.Typer(help="Engagement events POSTed to your CRM.", no_args_is_help=True)

CampaignArg = Annotated[Path, typer.Argument(help="Campaign folder (or its campaign.yaml).")]
OutOpt = Annotated[
    Optional[Path], typer.Option("--out", help="Rendered output folder [default: CAMPAIGN/out].")
]
RefArg = Annotated[str, typer.Argument(help="Campaign id or slug.")]
_SHOWN = 20
_STYLES = {
    "sent": "green",
    "planned": "cyan",
    "skipped": "yellow",
    "deferred": "yellow",
    "failed": "red",
    "unconfirmed": "magenta",
}


def send(
    campaign: CampaignArg,
    out: OutOpt = None,
    only: Annotated[
        Optional[str], typer.Option(help="Send only to these keys (comma-separated).")
    ] = None,
    limit: Annotated[
        Optional[int], typer.Option(help="Send at most N messages in this run.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try permanent failures again.")
    ] = False,
    resend_unconfirmed: Annotated[
        bool,
        typer.Option("--resend-unconfirmed", help="Send again where a dead run left it unknown."),
    ] = False,
) -> None:
    """Email every recipient their asset: once each, however often it is run or interrupted.

    Exits 1 when some address failed, was deferred or is unconfirmed, 2 when nothing could start.
    """
    options = SendOptions(
        only=[k.strip() for k in only.split(",") if k.strip()] if only else None,
        limit=limit,
        dry_run=dry_run,
        retry_failed=retry_failed,
        resend_unconfirmed=resend_unconfirmed,
    )
    sender = _guard(lambda: _sender(campaign, out))
    # SIGTERM (a service manager, `kill`) stops like Ctrl-C: messages in flight finish, logged
    signal.signal(signal.SIGTERM, lambda *_: sender.stop())
    with ProgressBar(console, "Sending", "emails") as bar:
        try:
            report = _guard(lambda: sender.run(options, progress=None if dry_run else bar))
        except KeyboardInterrupt:
            bar.stop()
            errors.print(
                "[yellow]Interrupted.[/] Every message sent is logged; run again to send the rest."
            )
            raise typer.Exit(130) from None
    _print_send_report(report)
    if any(report.by_status(status) for status in ("failed", "deferred", "unconfirmed")):
        raise typer.Exit(1)  # scripts notice what needs a person: the table above says what


def export_command(
    campaign: CampaignArg,
    to: Annotated[str, typer.Option("--to", help=f"One of: {', '.join(PLATFORMS)}.")],
    out: OutOpt = None,
    dest: Annotated[
        Optional[Path], typer.Option("--dest", help="Folder for the files [default: OUT/exports].")
    ] = None,
) -> None:
    """Write an import file and an email-editor snippet for an email platform."""
    platform = PLATFORMS.get(to.lower())
    if platform is None:
        errors.print(
            f"[bold red]error:[/] unknown platform {to!r}; choose one of {', '.join(PLATFORMS)}"
        )
        raise typer.Exit(2)

    def run():  # type: ignore[no-untyped-def]
        settings, db, folder, row = _registered(campaign, out)
        with db.session() as session:
            folder_out = out or folder.default_out()
            return export(
                session, settings, row, folder.spec, platform, dest or folder_out / "exports"
            )

    result = _guard(run)
    console.print(f"{platform.title}: [bold]{result.rows}[/] recipients → [bold]{result.file}[/]")
    console.print(f"Email-editor snippet → [bold]{result.snippet}[/]")
    _print_left_out(result.excluded)


@webhooks.command("add")
def add_webhook(
    campaign: RefArg,
    url: Annotated[str, typer.Argument(help="Where to POST events (http or https).")],
    secret: Annotated[
        Optional[str], typer.Option(help="Signing secret [default: a new random one].")
    ] = None,
) -> None:
    """Send the campaign's engagement events to URL, signed with a secret (printed once)."""

    def add() -> tuple[int, str]:
        with _database().session() as session:
            found = catalog.find_campaign(session, campaign)
            hook = Webhook(campaign_id=found.id, url=check_url(url), secret=secret or new_secret())
            session.add(hook)
            session.flush()
            return hook.id, hook.secret

    hook_id, hook_secret = _guard(add)
    console.print(f"Webhook [bold]{hook_id}[/] → {url}")
    console.print(f"Signing secret (shown only now): [bold]{hook_secret}[/]", soft_wrap=True)


@webhooks.command("list")
def list_webhooks(campaign: RefArg) -> None:
    """The campaign's webhooks with what is delivered and what is waiting."""

    def rows() -> list[tuple[Webhook, dict[str, int]]]:
        with _database().session() as session:
            found = catalog.find_campaign(session, campaign)
            hooks = list(session.scalars(select(Webhook).where(Webhook.campaign_id == found.id)))
            counts: dict[int, dict[str, int]] = {}
            for hook_id, status, count in session.execute(
                select(WebhookMessage.webhook_id, WebhookMessage.status, func.count())
                .where(WebhookMessage.webhook_id.in_([h.id for h in hooks]))
                .group_by(WebhookMessage.webhook_id, WebhookMessage.status)
            ):
                counts.setdefault(hook_id, {})[status] = count
            return [(hook, counts.get(hook.id, {})) for hook in hooks]

    table = Table("id", "url", "active", "delivered", "pending")
    for hook, counts in _guard(rows):
        table.add_row(
            str(hook.id),
            hook.url,
            "yes" if hook.active else "no",
            str(counts.get("delivered", 0)),
            str(counts.get("pending", 0)),
        )
    console.print(table)


@webhooks.command("remove")
def remove_webhook(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")]) -> None:
    """Delete a webhook and its undelivered messages."""

    def remove() -> bool:
        with _database().session() as session:
            hook = session.get(Webhook, webhook_id)
            if hook is not None:
                session.delete(hook)
            return hook is not None

    if not _guard(remove):
        errors.print(f"[bold red]error:[/] no webhook {webhook_id}")
        raise typer.Exit(2)
    console.print(f"Removed webhook {webhook_id}.")


@webhooks.command("run")
def run_webhooks(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    backoff: Annotated[float, typer.Option(help="Seconds before the first retry; doubles.")] = 10.0,
) -> None:
    """Deliver pending webhook messages until stopped (the service does this by itself too)."""
    dispatcher = Dispatcher(_database(), backoff=backoff)
    try:
        if once:
            console.print(f"Attempted {dispatcher.run_once()} messages.")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        console.print("Delivering webhooks; Ctrl-C to stop.")
        try:
            dispatcher.run(stop)
        except KeyboardInterrupt:
            stop.set()
    finally:
        dispatcher.close()


def register(app: typer.Typer) -> None:
    app.command()(send)
    app.command("export")(export_command)
    app.add_typer(webhooks, name="webhooks")


# -- helpers ------------------------------------------------------------------------------------


def _database() -> Database:
    return Database(Settings.from_env().database_url)


def _registered(
    path: Path, out: Path | None
) -> tuple[Settings, Database, CampaignFolder, Campaign]:
    """The campaign folder, registered in the service's database with its rendered results."""
    settings = Settings.from_env()
    db = Database(settings.database_url)
    folder = CampaignFolder.load(path)
    with db.session() as session:
        row = catalog.register_campaign(session, folder.root)
        catalog.import_results(session, row, out or folder.default_out(), folder)
    return settings, db, folder, row


def _sender(path: Path, out: Path | None) -> Sender:
    settings, db, folder, row = _registered(path, out)
    return Sender(db, settings, SmtpSettings.from_env(), row, folder, records_for(folder))


def _print_send_report(report: SendReport) -> None:
    summary = Table(
        title="Dry run: nothing sent" if report.dry_run else "Send",
        show_header=False,
        title_justify="left",
    )
    summary.add_row("already sent earlier", str(report.already_sent))
    for status in ("planned", "sent", "skipped", "deferred", "failed", "unconfirmed"):
        count = len(report.by_status(status))
        if count or status in (("planned",) if report.dry_run else ("sent",)):
            summary.add_row(status, f"[{_STYLES[status]}]{count}[/]")
    console.print(summary)
    shown = [
        o
        for o in report.outcomes
        if o.status != "sent" and (report.dry_run or o.status != "planned")
    ]
    if not shown:
        return
    table = Table(
        "key",
        "email",
        "status",
        "why",
        title="Recipients" if report.dry_run else "Not sent",
        title_justify="left",
    )
    for outcome in shown[: _SHOWN * 5 if report.dry_run else _SHOWN]:
        table.add_row(
            outcome.key,
            outcome.email or "",
            f"[{_STYLES[outcome.status]}]{outcome.status}[/]",
            outcome.detail,
        )
    console.print(table)
    if len(shown) > _SHOWN:
        console.print(
            f"[dim]… and {len(shown) - _SHOWN} more; the Deliveries tab lists them all.[/]"
        )


def _print_left_out(excluded: list[tuple[str, str]]) -> None:
    if not excluded:
        return
    table = Table(
        "key", "left out because", title=f"Left out: {len(excluded)}", title_justify="left"
    )
    for key, reason in excluded[:_SHOWN]:
        table.add_row(key, reason)
    console.print(table)
