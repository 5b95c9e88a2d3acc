"""What the routes share: the app's services, a database session per request, and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from . import auth, models
from .catalog import signer
from .db import Database
from .events import record_event
from .runs import RunPool
from .settings import Settings

SESSION_COOKIE = "pressrun_session"
NONCE_COOKIE = "pressrun_nonce"


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    runs: RunPool
    cookies: auth.CookieSigner
    templates: Jinja2Templates


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def _db_session(request: Request) -> Iterator[Session]:
    with services(request).db.session() as session:
        yield session


ServicesDep = Annotated[Services, Depends(services)]
# scope="function": the session commits before the response leaves, so a client that reads
# right after a write sees it.
SessionDep = Annotated[Session, Depends(_db_session, scope="function")]


def api_user(
    session: SessionDep, x_api_key: Annotated[str | None, Header(description="An API key.")] = None
) -> models.User:
    user = auth.user_for_api_key(session, x_api_key) if x_api_key else None
    if user is None:
        raise HTTPException(
            401, "a valid X-API-Key header is required", headers={"WWW-Authenticate": "X-API-Key"}
        )
    return user


ApiUser = Annotated[models.User, Depends(api_user)]


def dashboard_user_id(request: Request) -> int | None:
    return services(request).cookies.session_user(request.cookies.get(SESSION_COOKIE))


@dataclass(frozen=True)
class RecipientContext:
    """The recipient a signed token names, and what the request tells about who is asking."""

    token: str
    campaign: models.Campaign
    recipient: models.Recipient
    session: Session
    user_agent: str | None

    def record(
        self, kind: str, *, detail: dict[str, Any] | None = None, machine: bool = False
    ) -> None:
        record_event(
            self.session,
            campaign_id=self.campaign.id,
            recipient_id=self.recipient.id,
            kind=kind,
            user_agent=self.user_agent,
            detail=detail,
            machine=machine,
        )


def recipient_for_token(
    token: str, request: Request, session: SessionDep, svc: ServicesDep
) -> RecipientContext:
    """The campaign and recipient a signed token names; anything forged, altered or expired is a 404."""
    claims = signer(svc.settings).verify(token)
    recipient = session.get(models.Recipient, claims.recipient_id) if claims else None
    if claims is None or recipient is None or recipient.campaign_id != claims.campaign_id:
        raise HTTPException(404, "no such page")
    campaign = session.get(models.Campaign, claims.campaign_id)
    assert campaign is not None
    return RecipientContext(token, campaign, recipient, session, request.headers.get("user-agent"))


RecipientDep = Annotated[RecipientContext, Depends(recipient_for_token)]
