"""The service's CLI commands: `pressrun serve`, `pressrun admin create-user`, `pressrun links`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..console import console
from ..console import guard as _guard
from .settings import Settings

admin = typer.Typer(help="Manage the service's users and API keys.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the web app and API (settings from PRESSRUN_* environment variables)."""
    import uvicorn

    from .app import create_app

    settings = Settings.from_env()
    console.print(
        f"pressrun service on http://{host}:{port} · database {_redacted(settings.database_url)}"
    )
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True)


@admin.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The user's email (their log-in).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."
        ),
    ],
    key_name: Annotated[
        str, typer.Option(help="A name for the API key created with the user.")
    ] = "default",
) -> None:
    """Create a dashboard user and print an API key for them (shown once)."""
    from . import auth
    from .db import Database

    def create() -> str:
        with Database(Settings.from_env().database_url).session() as session:
            user = auth.create_user(session, email, password)
            return auth.create_api_key(session, user, key_name)

    key = _guard(create)
    console.print(f"Created user [bold]{email.strip().lower()}[/].")
    console.print(f"API key (send as X-API-Key; shown only now): [bold]{key}[/]", soft_wrap=True)


def links(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")],
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Write the CSV here instead of printing it.")
    ] = None,
) -> None:
    """Each recipient's signed page URL, as CSV (key, email, assets, url)."""
    from . import catalog
    from .db import Database

    def table() -> str:
        settings = Settings.from_env()
        with Database(settings.database_url).session() as session:
            return catalog.links_csv(session, settings, catalog.find_campaign(session, campaign))

    text = _guard(table)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Links for {text.count(chr(10)) - 1} recipients: [bold]{out}[/]")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(admin, name="admin")
    app.command()(links)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
