"""The dashboard: server-rendered pages behind a log-in, every form CSRF-protected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import auth, catalog, models
from .chart import timeline_svg
from .deps import NONCE_COOKIE, SESSION_COOKIE, ServicesDep, SessionDep, dashboard_user_id, services
from .errors import ServiceError
from .metrics import campaign_metrics, timeline
from .pages import campaign_title
from .runs import ACTIVE, request_cancel, start_run
from .thumbs import thumbnail

router = APIRouter(include_in_schema=False)

GALLERY_THUMB_WIDTH = 360
_PAGE_SIZE = 200


class _LoginRequired(HTTPException):
    def __init__(self) -> None:
        super().__init__(303, "log in first", headers={"Location": "/login"})


def _user(request: Request, session: SessionDep) -> models.User:
    user_id = dashboard_user_id(request)
    user = session.get(models.User, user_id) if user_id else None
    if user is None:
        raise _LoginRequired()
    return user


def _csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    if not services(request).cookies.check_csrf(request.cookies.get(NONCE_COOKIE), csrf):
        raise HTTPException(403, "the form expired: reload the page and try again")


UserDep = Annotated[models.User, Depends(_user)]
Csrf = Depends(_csrf)


def _render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    svc = services(request)
    nonce = request.cookies.get(NONCE_COOKIE) or auth.new_nonce()
    response = svc.templates.TemplateResponse(
        request,
        template,
        {**context, "csrf": svc.cookies.csrf_token(nonce)},
        status_code=status_code,
    )
    if request.cookies.get(NONCE_COOKIE) != nonce:
        response.set_cookie(
            NONCE_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(request)
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _secure(request: Request) -> bool:
    return services(request).settings.base_url.startswith("https://")


# -- log-in ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse(
        "/campaigns" if dashboard_user_id(request) else "/login", status_code=303
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _render(request, "login.html", {"error": None, "email": ""})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    user = auth.authenticate(session, email, password)
    if user is None:
        return _render(
            request, "login.html", {"error": "Wrong email or password.", "email": email}, 401
        )
    response = RedirectResponse("/campaigns", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        services(request).cookies.session_cookie(user.id),
        max_age=auth.SESSION_TTL,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.post("/logout", dependencies=[Csrf])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- campaigns ---------------------------------------------------------------------------------


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns(
    request: Request, session: SessionDep, user: UserDep, error: str | None = None
) -> Response:
    rows = []
    for campaign in session.scalars(
        select(models.Campaign).order_by(models.Campaign.created_at.desc())
    ):
        latest = campaign.runs[-1] if campaign.runs else None
        rows.append(
            {
                "campaign": campaign,
                "title": campaign_title(campaign),
                "run": latest,
                "metrics": campaign_metrics(session, campaign.id),
            }
        )
    return _render(request, "campaigns.html", {"user": user, "rows": rows, "error": error})


@router.post("/campaigns", dependencies=[Csrf])
def register(
    request: Request,
    session: SessionDep,
    user: UserDep,
    folder: Annotated[str, Form()],
    slug: Annotated[str, Form()] = "",
) -> Response:
    try:
        campaign = catalog.register_campaign(session, Path(folder.strip()), slug.strip() or None)
    except ServiceError as exc:
        return campaigns(request, session, user, error=str(exc))
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


@router.post("/campaigns/upload", dependencies=[Csrf])
def upload(
    request: Request,
    session: SessionDep,
    svc: ServicesDep,
    user: UserDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        campaign = catalog.install_campaign_zip(session, svc.settings, file.file)
    except ServiceError as exc:
        return campaigns(request, session, user, error=str(exc))
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


def campaign_or_404(session: Session, campaign_id: int) -> models.Campaign:
    """The campaign a dashboard URL names (shared with the delivery pages)."""
    campaign = session.get(models.Campaign, campaign_id)
    if campaign is None:
        raise HTTPException(404, "no such campaign")
    return campaign


def campaign_page(  # one layout for every campaign tab, the delivery tab included
    request: Request,
    session: Session,
    user: models.User,
    campaign: models.Campaign,
    tab: str,
    **context: Any,
) -> Response:
    return _render(
        request,
        f"campaign_{tab}.html",
        {
            "user": user,
            "campaign": campaign,
            "title": campaign_title(campaign),
            "tab": tab,
            "run": campaign.runs[-1] if campaign.runs else None,
            **context,
        },
    )


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def overview(
    request: Request, campaign_id: int, session: SessionDep, user: UserDep, error: str | None = None
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    return campaign_page(
        request,
        session,
        user,
        campaign,
        "overview",
        metrics=campaign_metrics(session, campaign.id),
        chart=timeline_svg(timeline(session, campaign.id)),
        runs=list(reversed(campaign.runs))[:10],
        error=error,
        active=ACTIVE,
    )


@router.post("/campaigns/{campaign_id}/runs", dependencies=[Csrf])
def new_run(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    svc: ServicesDep,
    user: UserDep,
    limit: Annotated[str, Form()] = "",
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    limit = limit.strip()
    if limit and not limit.isdigit():
        return overview(
            request, campaign_id, session, user, error="Recipients must be a whole number."
        )
    try:
        run = start_run(session, svc.settings, campaign, limit=int(limit) if limit else None)
    except ServiceError as exc:
        return overview(request, campaign_id, session, user, error=str(exc))
    session.commit()
    svc.runs.submit(run.id)
    return RedirectResponse(f"/campaigns/{campaign_id}#run", status_code=303)


@router.post("/runs/{run_id}/cancel", dependencies=[Csrf])
def cancel(run_id: int, session: SessionDep, user: UserDep) -> Response:
    run = session.get(models.Run, run_id)
    if run is None:
        raise HTTPException(404, "no such run")
    if run.status in ACTIVE:
        request_cancel(session, run)
    return RedirectResponse(f"/campaigns/{run.campaign_id}#run", status_code=303)


@router.get("/runs/{run_id}/progress")
def progress(run_id: int, session: SessionDep, user: UserDep) -> JSONResponse:
    run = session.get(models.Run, run_id)
    if run is None:
        raise HTTPException(404, "no such run")
    return JSONResponse(
        {
            "status": run.status,
            "done": run.done,
            "total": run.total,
            "cancel_requested": run.cancel_requested,
            "active": run.status in ACTIVE,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/campaigns/{campaign_id}/recipients", response_class=HTMLResponse)
def recipients(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    svc: ServicesDep,
    user: UserDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    R = models.Recipient
    query = select(R).where(R.campaign_id == campaign.id)
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(R.key).like(pattern), func.lower(R.email).like(pattern)))
    found = list(session.scalars(query.order_by(R.row).limit(_PAGE_SIZE)))
    activity = _activity(session, campaign.id, [r.id for r in found])
    rows = [
        {
            "recipient": r,
            "url": catalog.recipient_url(svc.settings, campaign.id, r.id),
            **activity.get(r.id, {}),
        }
        for r in found
    ]
    total = session.scalar(select(func.count()).select_from(R).where(R.campaign_id == campaign.id))
    return campaign_page(
        request,
        session,
        user,
        campaign,
        "recipients",
        rows=rows,
        q=q,
        total=total,
        limit=_PAGE_SIZE,
    )


def _activity(session: Session, campaign_id: int, ids: list[int]) -> dict[int, dict[str, int]]:
    E, A = models.Event, models.Asset
    activity: dict[int, dict[str, int]] = {}
    for recipient_id, kind, count in session.execute(
        select(E.recipient_id, E.kind, func.count())
        .where(E.campaign_id == campaign_id, E.recipient_id.in_(ids), E.machine.is_(False))
        .group_by(E.recipient_id, E.kind)
    ):
        activity.setdefault(recipient_id, {})[kind] = count
    for recipient_id, count in session.execute(
        select(A.recipient_id, func.count()).where(A.recipient_id.in_(ids)).group_by(A.recipient_id)
    ):
        activity.setdefault(recipient_id, {})["assets"] = count
    return activity


@router.get("/campaigns/{campaign_id}/gallery", response_class=HTMLResponse)
def gallery(
    request: Request, campaign_id: int, session: SessionDep, user: UserDep, flagged: bool = False
) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    images = [
        (asset, key)
        for asset, key in catalog.campaign_assets(session, campaign.id)
        if asset.output in ("png", "jpg", "webp") and (asset.qa or not flagged)
    ]
    return campaign_page(
        request,
        session,
        user,
        campaign,
        "gallery",
        images=images[:_PAGE_SIZE],
        shown=min(len(images), _PAGE_SIZE),
        count=len(images),
        flagged=flagged,
    )


@router.get("/campaigns/{campaign_id}/thumbs/{asset_id}")
def gallery_thumb(
    campaign_id: int, asset_id: int, session: SessionDep, svc: ServicesDep, user: UserDep
) -> Response:
    asset = session.get(models.Asset, asset_id)
    if asset is None or asset.campaign_id != campaign_id:
        raise HTTPException(404, "no such asset")
    path = thumbnail(svc.settings.data_dir / "thumbs", asset, GALLERY_THUMB_WIDTH)
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/campaigns/{campaign_id}/rejects", response_class=HTMLResponse)
def rejects(request: Request, campaign_id: int, session: SessionDep, user: UserDep) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    finished = [run for run in campaign.runs if run.status not in ACTIVE]
    run = finished[-1] if finished else None
    rows = (
        list(
            session.scalars(
                select(models.RejectRow)
                .where(models.RejectRow.run_id == run.id)
                .order_by(models.RejectRow.row)
            )
        )
        if run
        else []
    )
    return campaign_page(request, session, user, campaign, "rejects", rows=rows, rejects_run=run)


@router.get("/campaigns/{campaign_id}/links.csv")
def links_csv(campaign_id: int, session: SessionDep, svc: ServicesDep, user: UserDep) -> Response:
    campaign = campaign_or_404(session, campaign_id)
    return Response(
        catalog.links_csv(session, svc.settings, campaign),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}-links.csv"'},
    )
