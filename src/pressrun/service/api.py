"""The JSON API (`/api`, X-API-Key): campaigns, recipient data, runs, assets, links, metrics, events."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import PressrunError
from . import catalog, models, schemas
from .auth import create_api_key
from .deps import ApiUser, ServicesDep, SessionDep, api_user
from .errors import NotFound, ServiceError
from .events import record_event
from .metrics import campaign_metrics
from .runs import request_cancel, start_run

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(api_user)])

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# -- campaigns ----------------------------------------------------------------------------------


@router.post("/campaigns", status_code=201, response_model=schemas.CampaignOut)
def register(body: schemas.CampaignIn, session: SessionDep) -> models.Campaign:
    """Register the campaign folder at `folder` on the server (or update the one with its slug)."""
    return catalog.register_campaign(
        session, Path(body.folder), body.slug, click_urls=body.click_urls
    )


@router.post("/campaigns/upload", status_code=201, response_model=schemas.CampaignOut)
def upload_campaign(
    session: SessionDep,
    svc: ServicesDep,
    file: Annotated[UploadFile, File(description="A zip of the campaign folder.")],
    slug: Annotated[str | None, Form()] = None,
) -> models.Campaign:
    """Register a campaign uploaded as a zip of its folder."""
    return catalog.install_campaign_zip(session, svc.settings, file.file, slug)


@router.get("/campaigns", response_model=list[schemas.CampaignOut])
def list_campaigns(session: SessionDep) -> list[models.Campaign]:
    return list(session.scalars(select(models.Campaign).order_by(models.Campaign.id)))


@router.get("/campaigns/{campaign}", response_model=schemas.CampaignOut)
def get_campaign(campaign: str, session: SessionDep) -> models.Campaign:
    """A campaign, by id or slug."""
    return catalog.find_campaign(session, campaign)


@router.put("/campaigns/{campaign}/click-urls", response_model=schemas.CampaignOut)
def set_click_urls(
    campaign: str, body: schemas.ClickUrlsIn, session: SessionDep
) -> models.Campaign:
    """Replace the URLs that the campaign's /c/ links may redirect to."""
    found = catalog.find_campaign(session, campaign)
    found.click_urls = catalog.check_click_urls(body.urls)
    return found


@router.post("/campaigns/{campaign}/data", status_code=201, response_model=schemas.DataOut)
def upload_data(
    campaign: str,
    session: SessionDep,
    svc: ServicesDep,
    file: Annotated[UploadFile, File(description="Recipient data: CSV, TSV, JSON, JSONL or XLSX.")],
) -> schemas.DataOut:
    """Upload recipient data; it is validated now and used by the campaign's next runs."""
    found = catalog.find_campaign(session, campaign)
    name = _UNSAFE_NAME.sub("-", file.filename or "data.csv").strip("-.") or "data.csv"
    target = (
        catalog.campaign_dir(svc.settings, found)
        / "uploads"
        / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(file.file.read())
    try:
        report = catalog.load_campaign(found).validate(target)
    except PressrunError as exc:
        target.unlink()
        raise ServiceError(f"the data cannot be used: {exc}") from None
    found.data_file = str(target)
    return schemas.DataOut(
        data_file=str(target),
        rows=report.rows,
        valid=len(report.recipients),
        rejected_rows=report.rejected_rows,
        rejects=[schemas.RejectOut.model_validate(r) for r in report.rejects],
    )


@router.get("/campaigns/{campaign}/recipients", response_model=list[schemas.RecipientLink])
def recipient_links(
    campaign: str, session: SessionDep, svc: ServicesDep
) -> list[schemas.RecipientLink]:
    """Every recipient with the signed URL of their page."""
    found = catalog.find_campaign(session, campaign)
    return [
        schemas.RecipientLink(id=r.id, key=r.key, email=r.email, url=url, assets=assets)
        for r, url, assets in catalog.recipient_links(session, svc.settings, found)
    ]


@router.get("/campaigns/{campaign}/metrics")
def metrics(campaign: str, session: SessionDep) -> dict[str, object]:
    """Sent, unique opens (human and machine), open rate, downloads, 24 h download rate, and more."""
    return campaign_metrics(session, catalog.find_campaign(session, campaign).id).as_dict()


# -- runs ---------------------------------------------------------------------------------------


@router.post("/campaigns/{campaign}/runs", status_code=202, response_model=schemas.RunOut)
def create_run(
    campaign: str, body: schemas.RunIn, session: SessionDep, svc: ServicesDep
) -> models.Run:
    """Start a render run (409 while another run of the campaign is active)."""
    run = start_run(
        session, svc.settings, catalog.find_campaign(session, campaign), limit=body.limit
    )
    session.commit()
    svc.runs.submit(run.id)
    return run


@router.get("/campaigns/{campaign}/runs", response_model=list[schemas.RunOut])
def list_runs(campaign: str, session: SessionDep) -> list[models.Run]:
    return catalog.find_campaign(session, campaign).runs


@router.get("/runs/{run_id}", response_model=schemas.RunOut)
def get_run(run_id: int, session: SessionDep) -> models.Run:
    """A run and its progress: `done` of `total` assets."""
    return _run(session, run_id)


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=schemas.RunOut)
def cancel_run(run_id: int, session: SessionDep) -> models.Run:
    """Ask a run to stop; it stops after the asset in hand, keeping every finished one."""
    run = _run(session, run_id)
    request_cancel(session, run)
    return run


@router.get("/runs/{run_id}/assets", response_model=list[schemas.AssetOut])
def run_assets(run_id: int, session: SessionDep) -> list[schemas.AssetOut]:
    """The assets in the run's output folder."""
    run = _run(session, run_id)
    return [
        _asset_out(asset, key) for asset, key in catalog.campaign_assets(session, run.campaign_id)
    ]


@router.get("/runs/{run_id}/manifest.csv", response_class=FileResponse)
def run_manifest(run_id: int, session: SessionDep) -> FileResponse:
    return _out_file(_run(session, run_id), "manifest.csv")


@router.get("/runs/{run_id}/rejects", response_model=list[schemas.RejectOut])
def run_rejects(run_id: int, session: SessionDep) -> list[models.RejectRow]:
    """Rows that were rejected and recipients whose render failed, naming field and reason."""
    run = _run(session, run_id)
    return list(
        session.scalars(
            select(models.RejectRow)
            .where(models.RejectRow.run_id == run.id)
            .order_by(models.RejectRow.row)
        )
    )


@router.get("/runs/{run_id}/rejects.csv", response_class=FileResponse)
def run_rejects_csv(run_id: int, session: SessionDep) -> FileResponse:
    return _out_file(_run(session, run_id), "rejects.csv")


def _run(session: Session, run_id: int) -> models.Run:
    run = session.get(models.Run, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


def _out_file(run: models.Run, name: str) -> FileResponse:
    path = Path(run.out_dir) / name
    if not path.is_file():
        raise NotFound(f"run {run.id} has no {name} yet")
    return FileResponse(path, media_type="text/csv", filename=f"run-{run.id}-{name}")


def _asset_out(asset: models.Asset, key: str) -> schemas.AssetOut:
    return schemas.AssetOut(
        id=asset.id,
        key=key,
        format=asset.format,
        colorway=asset.colorway,
        output=asset.output,
        bytes=asset.bytes,
        width=asset.width,
        height=asset.height,
        sha256=asset.sha256,
        qa=[flag for flag in asset.qa.split("; ") if flag],
    )


# -- events and keys ----------------------------------------------------------------------------


@router.post("/events", status_code=201, response_model=schemas.EventOut)
def conversion(
    body: schemas.ConversionIn, session: SessionDep, svc: ServicesDep, response: Response
) -> models.Event:
    """Record a conversion with its amount; sending the same `event_id` again changes nothing (200)."""
    if body.token:
        claims = catalog.signer(svc.settings).verify(body.token)
        recipient = session.get(models.Recipient, claims.recipient_id) if claims else None
        if claims is None or recipient is None or recipient.campaign_id != claims.campaign_id:
            raise NotFound("the token names no recipient")
    else:
        found = catalog.find_campaign(session, body.campaign or "")
        recipient = session.scalar(
            select(models.Recipient).where(
                models.Recipient.campaign_id == found.id, models.Recipient.key == body.recipient
            )
        )
        if recipient is None:
            raise NotFound(f"campaign {found.slug!r} has no recipient {body.recipient!r}")
    repeat = session.scalar(
        select(models.Event.id).where(
            models.Event.campaign_id == recipient.campaign_id,
            models.Event.external_id == body.event_id,
        )
    )
    event = record_event(
        session,
        campaign_id=recipient.campaign_id,
        recipient_id=recipient.id,
        kind="conversion",
        amount=body.amount,
        currency=body.currency.upper(),
        external_id=body.event_id,
    )
    if event.recipient_id != recipient.id:
        raise HTTPException(
            409, f"event id {body.event_id!r} was already used for another recipient"
        )
    if repeat is not None:
        response.status_code = 200
    return event


@router.post("/keys", status_code=201, response_model=schemas.ApiKeyOut)
def new_key(body: schemas.ApiKeyIn, session: SessionDep, user: ApiUser) -> schemas.ApiKeyOut:
    """Create another API key for the calling user."""
    return schemas.ApiKeyOut(key=create_api_key(session, user, body.name))
