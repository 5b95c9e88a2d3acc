from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller

from pressrun.delivery.config import SmtpSettings
from pressrun.service.db import Database

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
            "host": "127.0.0.1", "port": self.port, "security": "none", "sender": "Tempo <wrapped@tempo.example>",
            "rate": 0, "concurrency": 2, "timeout": 10, "attempts": 3, "backoff": 0.01,
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
