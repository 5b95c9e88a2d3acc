"""Recipient pages `/r/<token>`: every asset with download buttons, "download all", sharing.

A page is public by default: it carries Open Graph and Twitter card tags whose image is the
recipient's landscape PNG, so a shared link previews the card. A recipient who turns sharing
off keeps the page (the token is theirs), but loses the preview tags, the share buttons, and
the public card image URL, which then answers 404.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models
from .catalog import recipient_url
from .deps import RecipientContext, RecipientDep, ServicesDep, SessionDep
from .errors import NotFound
from .events import is_machine_view
from .thumbs import IMAGE_OUTPUTS, thumbnail
from .tracking import SHARE_TARGETS

router = APIRouter(tags=["recipient pages"])

PAGE_PREVIEW_WIDTH = 960


@dataclass
class Variant:
    colorway: str
    preview: models.Asset | None = None
    files: list[models.Asset] = field(default_factory=list)


@dataclass
class FormatGroup:
    name: str
    width: int
    height: int
    variants: list[Variant] = field(default_factory=list)


def recipient_assets(session: Session, recipient_id: int) -> list[models.Asset]:
    return list(
        session.scalars(
            select(models.Asset)
            .where(models.Asset.recipient_id == recipient_id)
            .order_by(models.Asset.format, models.Asset.colorway, models.Asset.output)
        )
    )


def group_assets(assets: list[models.Asset]) -> list[FormatGroup]:
    """Assets by format, then colorway; each variant previews its first image file."""
    groups: dict[str, FormatGroup] = {}
    variants: dict[tuple[str, str], Variant] = {}
    for asset in assets:
        group = groups.setdefault(
            asset.format, FormatGroup(asset.format, asset.width, asset.height)
        )
        variant = variants.get((asset.format, asset.colorway))
        if variant is None:
            variant = variants[(asset.format, asset.colorway)] = Variant(asset.colorway)
            group.variants.append(variant)
        variant.files.append(asset)
        if variant.preview is None and asset.output in IMAGE_OUTPUTS:
            variant.preview = asset
    return sorted(groups.values(), key=lambda g: (g.width < g.height, g.name))


def card_image(assets: list[models.Asset]) -> models.Asset | None:
    """The image a link preview shows: the landscape PNG, else the widest image."""
    images = [a for a in assets if a.output in IMAGE_OUTPUTS]
    named = [a for a in images if a.format == "landscape" and a.output == "png"]
    return (named or sorted(images, key=lambda a: a.width / a.height, reverse=True) or [None])[0]


def _display_name(recipient: models.Recipient) -> str:
    return str(recipient.values.get("name") or recipient.key)


def campaign_title(campaign: models.Campaign) -> str:
    return (
        campaign.name.replace("-", " ").replace("_", " ").title()
        if campaign.name.islower()
        else campaign.name
    )


@router.get("/r/{token}", response_class=HTMLResponse, include_in_schema=False)
def page(
    context: RecipientDep, session: SessionDep, svc: ServicesDep, request: Request
) -> Response:
    context.record("view", machine=is_machine_view(context.user_agent))
    assets = recipient_assets(session, context.recipient.id)
    card = card_image(assets)
    return svc.templates.TemplateResponse(
        request,
        "recipient.html",
        {
            "token": context.token,
            "campaign": context.campaign,
            "title": campaign_title(context.campaign),
            "recipient": context.recipient,
            "name": _display_name(context.recipient),
            "groups": group_assets(assets),
            "card": card,
            "page_url": recipient_url(svc.settings, context.campaign.id, context.recipient.id),
            "card_url": f"{svc.settings.base_url}/r/{context.token}/card.png",
            "networks": list(SHARE_TARGETS),
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/r/{token}/card.png", include_in_schema=False)
def card(context: RecipientDep, session: SessionDep) -> FileResponse:
    """The link-preview image; only while the recipient keeps the page public."""
    image = (
        card_image(recipient_assets(session, context.recipient.id))
        if context.recipient.public
        else None
    )
    if image is None:
        raise NotFound("no preview image")
    return FileResponse(
        image.path, media_type=_media_type(image), headers={"Cache-Control": "max-age=3600"}
    )


@router.get("/r/{token}/preview/{asset_id}", include_in_schema=False)
def preview(
    context: RecipientDep, asset_id: int, session: SessionDep, svc: ServicesDep
) -> FileResponse:
    asset = _own_asset(session, context, asset_id)
    path = thumbnail(svc.settings.data_dir / "thumbs", asset, PAGE_PREVIEW_WIDTH)
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/r/{token}/download/{asset_id}", include_in_schema=False)
def download(context: RecipientDep, asset_id: int, session: SessionDep) -> FileResponse:
    asset = _own_asset(session, context, asset_id)
    context.record(
        "download",
        detail={"asset_id": asset.id, "file": f"{asset.format}-{asset.colorway}.{asset.output}"},
    )
    return FileResponse(
        asset.path, media_type=_media_type(asset), filename=_file_name(context, asset)
    )


@router.get("/r/{token}/download.zip", include_in_schema=False)
def download_all(context: RecipientDep, session: SessionDep) -> Response:
    assets = recipient_assets(session, context.recipient.id)
    if not assets:
        raise NotFound("no assets yet")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNG and PDF are compressed
        for asset in assets:
            archive.write(asset.path, _file_name(context, asset))
    context.record("download", detail={"file": "all", "count": len(assets)})
    name = f"{context.campaign.slug}-{context.recipient.key}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/r/{token}/sharing", include_in_schema=False)
def set_sharing(context: RecipientDep, public: Annotated[bool, Form()]) -> RedirectResponse:
    """The recipient's share toggle (the token in the URL is the credential)."""
    context.recipient.public = public
    return RedirectResponse(f"/r/{context.token}#share", status_code=303)


def _own_asset(session: Session, context: RecipientContext, asset_id: int) -> models.Asset:
    asset = session.get(models.Asset, asset_id)
    if asset is None or asset.recipient_id != context.recipient.id:
        raise NotFound("no such file")
    return asset


def _file_name(context: RecipientContext, asset: models.Asset) -> str:
    return f"{context.campaign.slug}-{context.recipient.key}-{asset.format}-{asset.colorway}.{asset.output}"


def _media_type(asset: models.Asset) -> str:
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "webp": "image/webp",
        "pdf": "application/pdf",
    }[asset.output]
