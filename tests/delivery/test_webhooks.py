from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from pressrun.delivery.dispatcher import Dispatcher
from pressrun.delivery.webhooks import SIGNATURE_HEADER, sign, verify
from pressrun.service.db import Database
from pressrun.service.events import record_event
from pressrun.service.models import Campaign, Recipient, Webhook, WebhookMessage

SECRET = "whsec_test"


@dataclass
class Receiver:
    """A real HTTP endpoint that fails its first `failures` requests, then answers 204."""

    failures: int = 0
    requests: list[tuple[int, dict[str, str], bytes]] = field(
        default_factory=list
    )  # (answer, headers, body)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def accepted(self) -> list[dict[str, object]]:
        return [json.loads(body) for status, _, body in self.requests if status == 204]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                status = 500 if state.failures > 0 else 204
                state.failures -= 1
                state.requests.append((status, dict(self.headers.items()), body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/pressrun"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _campaign(db: Database, url: str, active: bool = True) -> tuple[int, list[int]]:
    with db.session() as session:
        campaign = Campaign(slug="hooks", name="hooks", folder="/nowhere")
        session.add(campaign)
        session.flush()
        people = [
            Recipient(campaign_id=campaign.id, key=k, email=f"{k}@example.com", row=i)
            for i, k in enumerate(["ana", "bo"], start=2)
        ]
        session.add_all(people)
        session.add(Webhook(campaign_id=campaign.id, url=url, secret=SECRET, active=active))
        session.flush()
        return campaign.id, [p.id for p in people]


def _record(db: Database, campaign_id: int, recipient_id: int, kind: str) -> None:
    with db.session() as session:
        record_event(
            session,
            campaign_id=campaign_id,
            recipient_id=recipient_id,
            kind=kind,
            user_agent="test",
        )


def _dispatch_until_done(db: Database, count: int) -> None:
    """Run a real dispatcher in the background until `count` messages are delivered."""
    stop = threading.Event()
    dispatcher = Dispatcher(db, backoff=0.05)
    thread = threading.Thread(target=dispatcher.run, args=(stop, 0.02))
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while _delivered(db) < count:
            assert time.monotonic() < deadline, "webhooks were not delivered"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
        dispatcher.close()


def _delivered(db: Database) -> int:
    with db.session() as session:
        return len(
            session.scalars(
                select(WebhookMessage.id).where(WebhookMessage.status == "delivered")
            ).all()
        )


def test_a_receiver_failing_twice_gets_every_event_once_in_order_per_recipient_signed(
    db: Database, receiver: Receiver
) -> None:
    receiver.failures = 2
    campaign_id, (ana, bo) = _campaign(db, receiver.url)
    sequence = [
        (ana, "open"),
        (bo, "open"),
        (ana, "view"),
        (ana, "download"),
        (bo, "view"),
        (ana, "share"),
        (bo, "conversion"),
    ]
    for recipient_id, kind in sequence:
        _record(db, campaign_id, recipient_id, kind)

    _dispatch_until_done(db, len(sequence))

    accepted = receiver.accepted()
    assert sorted(e["id"] for e in accepted) == sorted({e["id"] for e in accepted})  # each once
    assert len(accepted) == len(sequence)
    for key, recipient_id in (("ana", ana), ("bo", bo)):
        got = [e["type"] for e in accepted if e["recipient"]["key"] == key]  # type: ignore[index]
        assert got == [kind for r, kind in sequence if r == recipient_id]
        attempted = [
            json.loads(b)["id"]
            for _, _, b in receiver.requests
            if json.loads(b)["recipient"]["key"] == key
        ]
        assert attempted == sorted(
            attempted, key=lambda i: int(i[4:])
        )  # a failure held back the later ones
    assert sum(1 for status, _, _ in receiver.requests if status == 500) == 2
    for status, headers, body in receiver.requests:
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        assert headers["Pressrun-Event-Id"] == json.loads(body)["id"]
    first = accepted[0]
    assert first["campaign"] == {"id": campaign_id, "slug": "hooks", "name": "hooks"}
    assert first["data"]["user_agent"] == "test" and first["created"].endswith("Z")  # type: ignore[index]


def test_pending_messages_survive_a_restart_and_an_inactive_webhook_gets_nothing(
    db: Database, receiver: Receiver
) -> None:
    receiver.failures = 10**6  # down until further notice
    campaign_id, (ana, _) = _campaign(db, receiver.url)
    _record(db, campaign_id, ana, "open")
    dispatcher = Dispatcher(db, backoff=0.0)
    time.sleep(1.1)  # the outbox lets concurrent transactions settle for a second before sending
    assert dispatcher.run_once() == 1
    dispatcher.close()  # "the service stops"
    with db.session() as session:
        [message] = session.scalars(select(WebhookMessage)).all()
        assert (message.status, message.attempts) == ("pending", 1) and "HTTP 500" in (
            message.last_error or ""
        )

    receiver.failures = 0
    _dispatch_until_done(db, 1)  # a new dispatcher, as after a restart
    assert [e["type"] for e in receiver.accepted()] == ["open"]

    with db.session() as session:
        session.add(Webhook(campaign_id=campaign_id, url=receiver.url, secret=SECRET, active=False))
    _record(db, campaign_id, ana, "view")
    _dispatch_until_done(db, 2)
    with db.session() as session:
        assert (
            len(session.scalars(select(WebhookMessage)).all()) == 2
        )  # none for the inactive webhook


def test_an_event_rolled_back_leaves_no_webhook_message(db: Database, receiver: Receiver) -> None:
    campaign_id, (ana, _) = _campaign(db, receiver.url)
    with pytest.raises(RuntimeError), db.session() as session:
        record_event(session, campaign_id=campaign_id, recipient_id=ana, kind="open")
        session.flush()
        raise RuntimeError("the request failed after recording")
    with db.session() as session:
        assert session.scalars(select(WebhookMessage)).all() == []


def test_signature_verification_rejects_tampering_other_secrets_and_replays() -> None:
    body = b'{"id":"evt_1"}'
    header = sign(SECRET, body, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, body, header, now=1_700_000_100)
    assert not verify(SECRET, body + b" ", header, now=1_700_000_100)
    assert not verify("whsec_other", body, header, now=1_700_000_100)
    assert not verify(SECRET, body, header, now=1_700_000_000 + 301)  # too old: a replay
    assert not verify(SECRET, body, "v1=abc", now=1_700_000_000)
