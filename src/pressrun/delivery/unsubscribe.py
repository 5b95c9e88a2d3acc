"""Unsubscribes: signed links, the global list, and honouring it.

Unsubscribe tokens are signed with their own key, so a recipient page link (which its owner
may share with anyone) can never be used to unsubscribe them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..service.events import record_event
from ..service.models import Recipient, Unsubscribe
from ..service.settings import Settings
from ..service.tokens import TokenClaims, TokenSigner

_CHUNK = 500


def _signer(settings: Settings) -> TokenSigner:
    return TokenSigner(settings.secret + "|unsubscribe")


def unsubscribe_url(settings: Settings, campaign_id: int, recipient_id: int) -> str:
    return f"{settings.base_url}/u/{_signer(settings).sign(campaign_id, recipient_id)}"


def verify_token(settings: Settings, token: str) -> TokenClaims | None:
    return _signer(settings).verify(token)


def unsubscribed(session: Session, emails: Iterable[str]) -> set[str]:
    """The lower-cased addresses among `emails` that must not be mailed."""
    wanted = sorted({email.lower() for email in emails})
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(session.scalars(select(Unsubscribe.email).where(Unsubscribe.email.in_(chunk))))
    return found


def unsubscribe(session: Session, recipient: Recipient, *, user_agent: str | None = None) -> bool:
    """Add the recipient's address to the global list; False if it already was there."""
    if not recipient.email:
        return False
    address = recipient.email.lower()
    if session.get(Unsubscribe, address) is not None:
        return False
    try:
        with session.begin_nested():  # a concurrent click on the same link must not fail this one
            session.add(Unsubscribe(email=address, campaign_id=recipient.campaign_id))
    except IntegrityError:
        return False
    record_event(
        session,
        campaign_id=recipient.campaign_id,
        recipient_id=recipient.id,
        kind="unsubscribe",
        user_agent=user_agent,
    )
    return True
