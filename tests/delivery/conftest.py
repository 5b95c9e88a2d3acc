from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
import yaml
from aiosmtpd.controller import Controller

from pressrun.campaign import Campaign as CampaignFolder
from pressrun.delivery.config import SmtpSettings
from pressrun.delivery.sender import Sender, records_for
from pressrun.service import catalog
from pressrun.service.app import create_app
from pressrun.service.db import Database
from pressrun.service.models import Campaign
from pressrun.service.settings import Settings

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pressrun.db'}"
        return
    name = f"pressrun_dlv_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@dataclass
class Mailbox:
    """What the test SMTP server received, and how it is told to answer."""

    messages: list[EmailMessage] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # answers to the next DATA ends, then 250
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> answer to RCPT TO
    on_data: Callable[[Any], None] | None = None  # runs when a message's data has ended

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.on_data is not None:
            self.on_data(envelope)
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 2.0.0 queued"

    def to(self) -> list[str]:
        return [str(m["To"].addresses[0].addr_spec) for m in self.messages]


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    def settings(self, **overrides: Any) -> SmtpSettings:
        base: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "sender": "Tempo <wrapped@tempo.example>",
            "rate": 0,
            "concurrency": 2,
            "timeout": 10,
            "attempts": 3,
            "backoff": 0.01,
        }
        return SmtpSettings(**{**base, **overrides})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


# -- a rendered campaign with an email, and the running service ------------------------------

SPEC: dict[str, Any] = {
    "name": "delivery-fixture",
    "data": {
        "source": "data/recipients.csv",
        "key": "id",
        "schema": {
            "id": {"type": "string"},
            "email": {"type": "email", "required": False},
            "name": {"type": "string"},
            "points": {"type": "integer", "minimum": 0},
            "locale": {"type": "string", "enum": ["en", "es"], "default": "en"},
        },
    },
    "template": "templates/card.html",
    "formats": [{"name": "card", "width": 320, "height": 240}],
    "outputs": ["png"],
    "colorways": {
        "midnight": {"bg": "#121212", "fg": "#ffffff"},
        "sunrise": {"bg": "#ff6437", "fg": "#000000"},
    },
    "colorway": "'sunrise' if r.points >= 100 else 'midnight'",
    "vars": {
        "strings": {
            "en": {
                "subject": "Your year in songs, {name}",
                "cta": "See and download yours",
                "stop": "Unsubscribe",
            },
            "es": {
                "subject": "Tu año en canciones, {name}",
                "cta": "Mira y descarga el tuyo",
                "stop": "Darse de baja",
            },
        }
    },
    "email": {"image": "hosted", "name": "name"},
}
CSV = """\
id,email,name,points,locale
ana,ana@example.com,Ana Lima,150,en
bo,bo@example.com,Bo Chen,20,en
jose,jose@example.es,José Núñez,300,es
kim,kim@example.com,Kim Park,50,en
lea,lea@example.com,Léa Martin,80,en
max,max@example.com,Max Weber,10,en
noemail,,Nobody,5,en
late,late@example.com,Late Comer,5,en
"""
MAILABLE = ["ana", "bo", "jose", "kim", "lea", "max"]  # noemail has no address, late has no asset
CARD = """<!doctype html><html><head><style>
html, body { margin: 0; width: 100%; height: 100%; background: var(--bg); color: var(--fg);
             font: 28px/1.2 "DejaVu Sans", sans-serif; }
</style></head><body><p style="padding: 40px">{{ r.name }} · {{ r.points }}</p></body></html>
"""
EMAIL_FILES = {
    "email/subject.txt": (
        '{{ campaign.vars.strings[r.locale].subject|replace("{name}", r.name) }}\n'
    ),
    "email/body.html": """{% set t = campaign.vars.strings[r.locale] %}<!doctype html>
<html lang="{{ r.locale }}"><body>
<p>{{ r.name ~ " & friends" }}</p>
<a href="{{ page_url }}"><img src="{{ image_url }}" alt="{{ r.name }}" width="320"></a>
<p><a class="button" href="{{ page_url }}">{{ t.cta }}</a></p>
<p><a href="{{ unsubscribe_url }}">{{ t.stop }}</a></p>
</body></html>
""",
    "email/body.txt": """{% set t = campaign.vars.strings[r.locale] %}{{ r.name ~ " & friends" }}
{{ t.cta }}: {{ page_url }}

{{ t.stop }}: {{ unsubscribe_url }}
""",
}


def write_campaign(root: Path, spec: dict[str, Any] | None = None, csv: str = CSV) -> Path:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "campaign.yaml").write_text(
        yaml.safe_dump(spec or SPEC, sort_keys=False, allow_unicode=True)
    )
    (root / "templates" / "card.html").write_text(CARD)
    (root / "data" / "recipients.csv").write_text(csv)
    for relative, text in EMAIL_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.fixture(scope="session")
def rendered_campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture campaign rendered once by real Chromium: everyone but `late`."""
    root = write_campaign(tmp_path_factory.mktemp("rendered") / "campaign")
    CampaignFolder.load(root).render(only=[k for k in MAILABLE + ["noemail"]], workers=2)
    return root


@pytest.fixture
def campaign_dir(rendered_campaign: Path, tmp_path: Path) -> Path:
    """A private copy of the rendered campaign (tests may edit or send it)."""
    return Path(shutil.copytree(rendered_campaign, tmp_path / "campaign"))


@dataclass
class Service:
    settings: Settings
    db: Database

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def register(self, root: Path, slug: str | None = None) -> tuple[Campaign, CampaignFolder]:
        """Register the folder and import its rendered results, as `pressrun send` does."""
        folder = CampaignFolder.load(root)
        with self.db.session() as session:
            row = catalog.register_campaign(session, folder.root, slug)
            catalog.import_results(session, row, folder.default_out(), folder)
        return row, folder

    def sender(self, root: Path, smtp: SmtpSettings, slug: str | None = None) -> Sender:
        row, folder = self.register(root, slug)
        return Sender(self.db, self.settings, smtp, row, folder, records_for(folder))


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """The real web app served by uvicorn on a free port, and its database."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret="delivery-test-secret",
        base_url=f"http://127.0.0.1:{port}",
        data_dir=tmp_path / "data",
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    db = Database(database_url)
    try:
        yield Service(settings, db)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        db.engine.dispose()
