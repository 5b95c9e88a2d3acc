"""Service fixtures: a database (SQLite and PostgreSQL), a live server, API clients, rendered assets."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import text

from pressrun import Campaign
from pressrun.service import auth, catalog, models
from pressrun.service.app import create_app
from pressrun.service.db import Database
from pressrun.service.settings import Settings

PG_ADMIN_URL = os.environ.get("PRESSRUN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the test session, dropped afterwards."""
    name = f"pressrun_svc_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pressrun.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_schema(url)
    return url


def _empty_schema(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    port = _free_port()
    return Settings(
        database_url, SECRET, f"http://127.0.0.1:{port}", tmp_path / "data", run_workers=1
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.engine.dispose()


@dataclass
class User:
    email: str
    password: str
    api_key: str


@pytest.fixture
def user(db: Database) -> User:
    with db.session() as session:
        created = auth.create_user(session, "ana@example.com", "correct horse battery")
        key = auth.create_api_key(session, created)
    return User("ana@example.com", "correct horse battery", key)


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[str]:
    """The app served by uvicorn on the port `settings.base_url` names; yields that URL."""
    port = int(settings.base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield settings.base_url
    uvicorn_server.should_exit = True
    thread.join(timeout=60)


@pytest.fixture
def api(server: str, user: User) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"X-API-Key": user.api_key}, timeout=30) as client:
        yield client


@pytest.fixture
def anonymous(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, campaign_writer: Callable[..., Path]
) -> tuple[Path, Path]:
    """The fixture campaign (two recipients, one colorway each) rendered once: (folder, out)."""
    root = campaign_writer(tmp_path_factory.mktemp("rendered") / "campaign", outputs=["png", "pdf"])
    out = root.parent / "out"
    report = Campaign.load(root).render(out=out, workers=2)
    assert len(report.written) == 4 and not report.failed
    return root, out


@pytest.fixture
def imported(db: Database, rendered: tuple[Path, Path]) -> models.Campaign:
    """The rendered campaign registered and imported, with a registered click URL."""
    folder, out = rendered
    with db.session() as session:
        campaign = catalog.register_campaign(
            session, folder, click_urls=["https://shop.example.com/offer?x=1"]
        )
        catalog.import_results(session, campaign, out, Campaign.load(folder))
    return campaign


@pytest.fixture
def recipient_token(
    db: Database, settings: Settings, imported: models.Campaign
) -> Callable[[str], str]:
    """The signed page token of the recipient with `key`."""

    def token(key: str) -> str:
        with db.session() as session:
            recipient = (
                session.query(models.Recipient).filter_by(campaign_id=imported.id, key=key).one()
            )
            return catalog.recipient_token(settings, imported.id, recipient.id)

    return token


WaitForRun = Callable[[httpx.Client, int], dict[str, object]]


@pytest.fixture
def wait_for_run() -> WaitForRun:
    return _wait_for_run


def _wait_for_run(api: httpx.Client, run_id: int, timeout: float = 240) -> dict[str, object]:
    """Poll a run until it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, object] = api.get(f"/api/runs/{run_id}").raise_for_status().json()
        if run["status"] not in ("queued", "running"):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")
        time.sleep(0.3)
