"""Delivery over HTTP: unsubscribe pages, the send/deliveries/webhooks API, the Deliveries tab."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..service import catalog
from ..service.dashboard import Csrf, UserDep, campaign_or_404, campaign_page
from ..service.deps import ServicesDep, SessionDep, api_user, services
from ..errors import PressrunError
from ..service.db import Database
from ..service.errors import NotFound, ServiceError
from ..service.models import Campaign, Delivery, Recipient, User, Webhook, WebhookMessage
from ..service.settings import Settings
from .background import DeliveryWorkers
from .config import SmtpSettings
from .log import CHANNEL
from .sender import SendOptions, Sender, records_for
from .unsubscribe import unsubscribe, verify_token
from .webhooks import check_url, new_secret

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["delivery"], dependencies=[Depends(api_user)])
dashboard = APIRouter(include_in_schema=False)

_PAGE_SIZE = 200


def workers(request: Request) -> DeliveryWorkers:
    found: DeliveryWorkers = request.app.state.delivery
    return found


WorkersDep = Annotated[DeliveryWorkers, Depends(workers)]


# -- unsubscribe (the token is the credential: no log-in, no cookie, one click) -------------


def _unsubscribe_target(token: str, session: Session, request: Request) -> Recipient:
    claims = verify_token(services(request).settings, token)
    recipient = session.get(Recipient, claims.recipient_id) if claims else None
    if claims is None or recipient is None or recipient.campaign_id != claims.campaign_id:
        raise HTTPException(404, "this unsubscribe link is not valid")
    return recipient


@pages.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request, session: SessionDep) -> Response:
    """Asks before acting: mail scanners open every link, and a GET must not unsubscribe anyone."""
    recipient = _unsubscribe_target(token, session, request)
    return _unsubscribe_response(request, session, recipient, done=False)


@pages.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe_now(token: str, request: Request, session: SessionDep) -> Response:
    """The page's button, and the RFC 8058 one-click POST mail clients make."""
    recipient = _unsubscribe_target(token, session, request)
    unsubscribe(session, recipient, user_agent=request.headers.get("user-agent"))
    return _unsubscribe_response(request, session, recipient, done=True)


def _unsubscribe_response(
    request: Request, session: Session, recipient: Recipient, done: bool
) -> Response:
    campaign = session.get(Campaign, recipient.campaign_id)
    return services(request).templates.TemplateResponse(
        request,
        "unsubscribe.html",
        {"recipient": recipient, "campaign": campaign, "done": done, "action": request.url.path},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


# -- API ------------------------------------------------------------------------------------------


class SendIn(BaseModel):
    dry_run: bool = False
    only: list[str] | None = Field(default=None, description="Send only to these recipient keys.")
    limit: int | None = Field(default=None, ge=1, description="Send at most this many messages.")
    retry_failed: bool = False
    resend_unconfirmed: bool = False


class WebhookIn(BaseModel):
    url: str
    secret: str | None = Field(default=None, description="Defaults to a new random secret.")


class WebhookOut(BaseModel):
    id: int
    url: str
    active: bool
    secret: str | None = None  # only in the answer that created it


@api.post("/campaigns/{campaign}/send", status_code=202)
def send(
    campaign: str, body: SendIn, session: SessionDep, svc: ServicesDep, pool: WorkersDep
) -> dict[str, Any]:
    """Email the campaign's recipients in the background (a dry run answers with the plan)."""
    found = catalog.find_campaign(session, campaign)
    options = SendOptions(
        body.only, body.limit, body.dry_run, body.retry_failed, body.resend_unconfirmed
    )
    sender = _sender(svc.db, svc.settings, found)
    if body.dry_run:
        report = sender.run(options)
        return {
            "dry_run": True,
            "already_sent": report.already_sent,
            "recipients": [vars(outcome) for outcome in report.outcomes],
        }
    pool.send(found.id, sender, options)
    return {"dry_run": False, "started": True}


@api.get("/campaigns/{campaign}/deliveries")
def deliveries(
    campaign: str, session: SessionDep, pool: WorkersDep, status: str | None = None
) -> dict[str, Any]:
    """The delivery log: counts by status and every row (filter with `status`)."""
    found = catalog.find_campaign(session, campaign)
    rows = _delivery_rows(session, found.id, status)
    return {
        "sending": pool.sending(found.id),
        "last_error": pool.errors.get(found.id),
        "counts": _delivery_counts(session, found.id),
        "deliveries": [
            {
                "key": key,
                "email": email,
                "status": d.status,
                "attempts": d.attempts,
                "message_id": d.message_id,
                "error": d.error,
                "sent_at": d.sent_at,
                "updated_at": d.updated_at,
            }
            for d, key, email in rows
        ],
    }


@api.get("/campaigns/{campaign}/webhooks", response_model=list[WebhookOut])
def list_webhooks(campaign: str, session: SessionDep) -> list[WebhookOut]:
    found = catalog.find_campaign(session, campaign)
    hooks = session.scalars(
        select(Webhook).where(Webhook.campaign_id == found.id).order_by(Webhook.id)
    )
    return [WebhookOut(id=h.id, url=h.url, active=h.active) for h in hooks]


@api.post("/campaigns/{campaign}/webhooks", status_code=201, response_model=WebhookOut)
def add_webhook(campaign: str, body: WebhookIn, session: SessionDep) -> WebhookOut:
    """Register a receiver; the answer holds the signing secret, shown only this once."""
    found = catalog.find_campaign(session, campaign)
    try:
        url = check_url(body.url)
    except PressrunError as exc:
        raise ServiceError(str(exc)) from None
    hook = Webhook(campaign_id=found.id, url=url, secret=body.secret or new_secret())
    session.add(hook)
    session.flush()
    return WebhookOut(id=hook.id, url=hook.url, active=hook.active, secret=hook.secret)


@api.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: int, session: SessionDep) -> Response:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"no webhook {webhook_id}")
    session.delete(hook)
    return Response(status_code=204)


# -- dashboard ------------------------------------------------------------------------------------


@dashboard.get("/campaigns/{campaign_id}/deliveries", response_class=HTMLResponse)
def deliveries_tab(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    user: UserDep,
    pool: WorkersDep,
    status: str | None = None,
) -> Response:
    return _deliveries_page(
        request, session, user, pool, campaign_or_404(session, campaign_id), status=status
    )


@dashboard.post("/campaigns/{campaign_id}/send", dependencies=[Csrf])
def send_from_dashboard(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    svc: ServicesDep,
    user: UserDep,
    pool: WorkersDep,
    retry_failed: Annotated[bool, Form()] = False,
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    try:
        pool.send(
            campaign.id,
            _sender(svc.db, svc.settings, campaign),
            SendOptions(retry_failed=retry_failed),
        )
    except (
        PressrunError
    ) as exc:  # shown on the page: no From address, a broken template, already sending
        return _deliveries_page(request, session, user, pool, campaign, error=str(exc))
    return RedirectResponse(f"/campaigns/{campaign_id}/deliveries", status_code=303)


@dashboard.post("/campaigns/{campaign_id}/webhooks", dependencies=[Csrf])
def add_webhook_from_dashboard(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    user: UserDep,
    pool: WorkersDep,
    url: Annotated[str, Form()],
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    try:
        hook = Webhook(campaign_id=campaign.id, url=check_url(url.strip()), secret=new_secret())
    except PressrunError as exc:
        return _deliveries_page(request, session, user, pool, campaign, error=str(exc))
    session.add(hook)
    session.flush()
    return _deliveries_page(request, session, user, pool, campaign, created=hook)


@dashboard.post("/webhooks/{webhook_id}/delete", dependencies=[Csrf])
def delete_webhook_from_dashboard(webhook_id: int, session: SessionDep, user: UserDep) -> Response:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise HTTPException(404, "no such webhook")
    session.delete(hook)
    return RedirectResponse(f"/campaigns/{hook.campaign_id}/deliveries#webhooks", status_code=303)


# -- helpers --------------------------------------------------------------------------------------


def _deliveries_page(
    request: Request,
    session: Session,
    user: User,
    pool: DeliveryWorkers,
    campaign: Campaign,
    status: str | None = None,
    **extra: Any,
) -> Response:
    hooks = list(
        session.scalars(
            select(Webhook).where(Webhook.campaign_id == campaign.id).order_by(Webhook.id)
        )
    )
    return campaign_page(
        request,
        session,
        user,
        campaign,
        "deliveries",
        counts=_delivery_counts(session, campaign.id),
        rows=_delivery_rows(session, campaign.id, status)[:_PAGE_SIZE],
        status=status,
        sending=pool.sending(campaign.id),
        last_error=pool.errors.get(campaign.id),
        hooks=[(hook, _webhook_counts(session, hook.id)) for hook in hooks],
        limit=_PAGE_SIZE,
        error=extra.get("error"),
        created=extra.get("created"),
    )


def _sender(db: Database, settings: Settings, campaign: Campaign) -> Sender:
    """A sender for a registered campaign; its problems become a 400 answer."""
    try:
        folder = catalog.load_campaign(campaign)
        records = records_for(folder, campaign.data_file)
        return Sender(db, settings, SmtpSettings.from_env(), campaign, folder, records)
    except ServiceError:
        raise
    except PressrunError as exc:
        raise ServiceError(str(exc)) from None


def _delivery_counts(session: Session, campaign_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.campaign_id == campaign_id, Delivery.channel == CHANNEL)
            .group_by(Delivery.status)
        ).all()
    )


def _delivery_rows(
    session: Session, campaign_id: int, status: str | None
) -> list[tuple[Delivery, str, str | None]]:
    query = (
        select(Delivery, Recipient.key, Recipient.email)
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(Delivery.campaign_id == campaign_id, Delivery.channel == CHANNEL)
    )
    if status:
        query = query.where(Delivery.status == status)
    # problems first: what needs a person's attention leads the list
    order = {"failed": 0, "unconfirmed": 1, "pending": 2, "skipped": 3, "sending": 4, "sent": 5}
    rows = [tuple(row) for row in session.execute(query.order_by(Recipient.row))]
    return sorted(rows, key=lambda row: order.get(row[0].status, 9))


def _webhook_counts(session: Session, webhook_id: int) -> dict[str, Any]:
    counts = dict(
        session.execute(
            select(WebhookMessage.status, func.count())
            .where(WebhookMessage.webhook_id == webhook_id)
            .group_by(WebhookMessage.status)
        ).all()
    )
    last_error = session.scalar(
        select(WebhookMessage.last_error)
        .where(
            WebhookMessage.webhook_id == webhook_id,
            WebhookMessage.status == "pending",
            WebhookMessage.last_error.is_not(None),
        )
        .order_by(WebhookMessage.id)
        .limit(1)
    )
    return {**counts, "last_error": last_error}
