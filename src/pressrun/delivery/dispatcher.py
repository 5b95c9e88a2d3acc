"""Delivers the webhook outbox: in order per (webhook, recipient), retried with backoff, forever.

Only the oldest pending message of each (webhook, recipient) is ever attempted, so one that
fails holds back that recipient's later events until it succeeds. All state is in the database:
a restarted dispatcher carries on where the last one stopped. A message whose receiver answered
2xx just before a crash may be delivered again: receivers dedupe on the payload's `id`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select, true, update

from .._version import __version__
from ..service.db import Database
from ..service.models import Campaign, Event, Recipient, Webhook, WebhookMessage, utcnow
from .lease import Lease
from .webhooks import SIGNATURE_HEADER, payload, sign

LEASE = "webhooks"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        *,
        timeout: float = 10.0,
        backoff: float = 10.0,  # seconds before the first retry; doubles up to max_delay
        max_delay: float = 3600.0,
        workers: int = 4,
        batch: int = 100,
    ) -> None:
        self._db = db
        self._backoff = backoff
        self._max_delay = max_delay
        self._batch = batch
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"pressrun-webhooks/{__version__}"},
        )

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Deliver until `stop` is set; waits its turn if another dispatcher holds the lease."""
        lease = Lease(self._db, LEASE)
        if not lease.acquire(wait=True, poll=poll, stop=stop):
            return
        try:
            while not stop.is_set() and not lease.lost.is_set():
                if not self.run_once():
                    stop.wait(poll)
        finally:
            lease.release()

    def run_once(self) -> int:
        """Attempt every message that is due and at the head of its line; returns how many."""
        heads = self._due_heads()
        list(self._pool.map(self._deliver, heads))
        return len(heads)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    def _due_heads(self) -> list[int]:
        pending = WebhookMessage.status == "pending"
        heads = (
            select(func.min(WebhookMessage.id))
            .where(pending)
            .group_by(WebhookMessage.webhook_id, WebhookMessage.recipient_id)
        )
        due = (
            select(WebhookMessage.id)
            .join(Webhook, Webhook.id == WebhookMessage.webhook_id)
            .where(
                WebhookMessage.id.in_(heads),
                Webhook.active == true(),
                WebhookMessage.next_attempt_at <= utcnow(),
            )
            .order_by(WebhookMessage.id)
            .limit(self._batch)
        )
        with self._db.session() as session:
            return list(session.scalars(due))

    def _deliver(self, message_id: int) -> None:
        with self._db.session() as session:
            message = session.get(WebhookMessage, message_id)
            if message is None or message.status != "pending":
                return
            hook = session.get(Webhook, message.webhook_id)
            event = session.get(Event, message.event_id)
            assert hook is not None and event is not None  # both cascade-delete their messages
            campaign = session.get(Campaign, event.campaign_id)
            recipient = session.get(Recipient, event.recipient_id) if event.recipient_id else None
            assert campaign is not None
            body = payload(event, campaign, recipient)
            url, secret, attempts = hook.url, hook.secret, message.attempts
        error = self._post(url, secret, body, event_id=f"evt_{message.event_id}")
        changes: dict[str, object] = {"attempts": attempts + 1, "last_error": error}
        if error is None:
            changes.update(status="delivered", delivered_at=utcnow())
        else:
            delay = min(self._max_delay, self._backoff * 2**attempts)
            changes["next_attempt_at"] = utcnow() + dt.timedelta(seconds=delay)
        with self._db.session() as session:
            session.execute(
                update(WebhookMessage).where(WebhookMessage.id == message_id).values(**changes)
            )

    def _post(self, url: str, secret: str, body: bytes, event_id: str) -> str | None:
        """None on a 2xx answer, else what went wrong."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            "Pressrun-Event-Id": event_id,
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"


def start_background(db: Database, **options: float) -> Callable[[], None]:
    """Run a dispatcher in a daemon thread (in the service); returns the function that stops it."""
    stop = threading.Event()
    dispatcher = Dispatcher(db, **options)  # type: ignore[arg-type]
    thread = threading.Thread(
        target=dispatcher.run, args=(stop,), name="webhook dispatcher", daemon=True
    )
    thread.start()

    def shutdown() -> None:
        stop.set()
        thread.join()
        dispatcher.close()

    return shutdown
