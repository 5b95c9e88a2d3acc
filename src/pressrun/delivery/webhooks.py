"""Webhooks: the signature, the payload, and the outbox every engagement event is copied into.

The outbox row is inserted by the same flush, in the same transaction, as the event itself, so an
event is never recorded without its webhook messages nor the other way round; the dispatcher
(dispatcher.py) delivers them from there, surviving any restart.

Signature: header `Pressrun-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event as sa_event
from sqlalchemy import DateTime, Integer, String, insert, literal, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from ..errors import DeliveryError
from ..service.models import Campaign, Event, Recipient, Webhook, WebhookMessage, as_utc, utcnow

SIGNATURE_HEADER = "Pressrun-Signature"
SETTLE = dt.timedelta(
    seconds=1
)  # lets concurrent transactions commit before their successors go out


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The Pressrun-Signature header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver runs: the signature matches the raw body and is at most `tolerance` s old."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"webhook URL {url!r} must be an absolute http(s) URL")
    return url


def payload(event: Event, campaign: Campaign, recipient: Recipient | None) -> bytes:
    """The JSON body for one event; `id` is stable across retries so receivers can dedupe."""
    body: dict[str, Any] = {
        "id": f"evt_{event.id}",
        "type": event.kind,
        "created": _iso(event.at),
        "campaign": {"id": campaign.id, "slug": campaign.slug, "name": campaign.name},
        "recipient": (
            {"id": recipient.id, "key": recipient.key, "email": recipient.email}
            if recipient
            else None
        ),
        "data": {
            "user_agent": event.user_agent,
            "machine": event.machine,
            "detail": event.detail or {},
            "amount": str(event.amount) if event.amount is not None else None,
            "currency": event.currency,
            "external_id": event.external_id,
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(value: dt.datetime) -> str:
    return as_utc(value).astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@sa_event.listens_for(Event, "after_insert")
def _fan_out(_mapper: Mapper[Event], connection: Connection, target: Event) -> None:
    """Copy a new event into the outbox of every active webhook of its campaign."""
    targets = select(
        Webhook.id,
        literal(target.id, Integer),
        literal(target.recipient_id, Integer),
        literal("pending", String),
        literal(0, Integer),
        literal(utcnow() + SETTLE, DateTime(timezone=True)),
    ).where(Webhook.campaign_id == target.campaign_id, Webhook.active == true())
    columns = ["webhook_id", "event_id", "recipient_id", "status", "attempts", "next_attempt_at"]
    connection.execute(insert(WebhookMessage).from_select(columns, targets))
