"""Engagement events, and telling machine opens (mail-privacy proxies) from human ones.

Every tracking route records through `record_event`, which adds the row through the ORM: the
delivery side hooks webhook fan-out onto Event inserts, so events are never bulk-inserted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import models

KINDS = ("open", "view", "download", "share", "click", "conversion", "bounce", "unsubscribe")

# Image fetches made by mail providers rather than by a person looking at the mail. Proxies
# prefetch every image of every message they receive, so their opens say nothing about a reader.
# - Gmail's image proxy: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com
#   GoogleImageProxy)".
# - Yahoo Mail's proxy: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html".
# - Apple Mail Privacy Protection fetches through Apple's relays with the bare "Mozilla/5.0".
# - Requests that send no user agent at all are link scanners and security gateways.
MACHINE_UA_TOKENS = ("googleimageproxy", "ggpht.com", "yahoomailproxy")
MACHINE_UA_EXACT = ("", "mozilla/5.0")


# Link-preview crawlers fetch a shared page to draw its card: their views are not a person's.
PREVIEW_BOT_TOKENS = (
    "bot",
    "crawler",
    "spider",
    "facebookexternalhit",
    "slack",
    "whatsapp",
    "telegram",
    "discord",
    "skypeuripreview",
    "embedly",
)


def is_machine_open(user_agent: str | None) -> bool:
    agent = (user_agent or "").strip().lower()
    return agent in MACHINE_UA_EXACT or any(token in agent for token in MACHINE_UA_TOKENS)


def is_machine_view(user_agent: str | None) -> bool:
    agent = (user_agent or "").strip().lower()
    return is_machine_open(agent) or any(token in agent for token in PREVIEW_BOT_TOKENS)


def record_event(
    session: Session,
    *,
    campaign_id: int,
    recipient_id: int | None,
    kind: str,
    user_agent: str | None = None,
    detail: dict[str, Any] | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
    external_id: str | None = None,
    machine: bool = False,
) -> models.Event:
    """Add one event. With `external_id`, an event already recorded under it is returned instead."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if external_id is not None:
        earlier = _by_external_id(session, campaign_id, external_id)
        if earlier is not None:
            return earlier
    event = models.Event(
        campaign_id=campaign_id,
        recipient_id=recipient_id,
        kind=kind,
        user_agent=(user_agent or None) and user_agent[:1000],
        detail=detail or {},
        amount=amount,
        currency=currency,
        external_id=external_id,
        machine=machine,
    )
    if external_id is None:
        session.add(event)
        session.flush()
        return event
    try:
        with session.begin_nested():  # a concurrent caller may insert the same id first
            session.add(event)
    except IntegrityError:
        earlier = _by_external_id(session, campaign_id, external_id)
        if earlier is None:
            raise
        return earlier
    return event


def _by_external_id(session: Session, campaign_id: int, external_id: str) -> models.Event | None:
    return session.scalar(
        select(models.Event).where(
            models.Event.campaign_id == campaign_id, models.Event.external_id == external_id
        )
    )
