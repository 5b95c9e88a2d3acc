"""Campaigns, recipients and assets as the service knows them, and the signed links to them."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..campaign import Campaign as CampaignFolder
from ..campaign import Rows
from ..errors import PressrunError
from ..spec import CAMPAIGN_FILE
from . import models
from .errors import NotFound, ServiceError
from .settings import Settings
from .tokens import TokenSigner

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def slugify(name: str) -> str:
    slug = _SLUG_JUNK.sub("-", name.lower()).strip("-")[:100]
    if not slug:
        raise ServiceError(f"cannot make a slug from {name!r}: use letters or digits")
    return slug


def register_campaign(
    session: Session, folder: Path, slug: str | None = None, *, click_urls: list[str] | None = None
) -> models.Campaign:
    """Add the campaign in `folder` (or update the one with the same slug): idempotent by slug."""
    folder = folder.expanduser().resolve()
    loaded = _load(folder)
    slug = slugify(slug or loaded.name)
    campaign = session.scalar(select(models.Campaign).where(models.Campaign.slug == slug))
    if campaign is None:
        campaign = models.Campaign(slug=slug, name=loaded.name, folder=str(folder), click_urls=[])
        session.add(campaign)
    campaign.name = loaded.name
    campaign.folder = str(folder)
    if click_urls is not None:
        campaign.click_urls = check_click_urls(click_urls)
    session.flush()
    return campaign


def find_campaign(session: Session, ref: str) -> models.Campaign:
    """A campaign by id or slug."""
    column = models.Campaign.id if ref.isdigit() else models.Campaign.slug
    campaign = session.scalar(
        select(models.Campaign).where(column == (int(ref) if ref.isdigit() else ref))
    )
    if campaign is None:
        raise NotFound(f"no campaign {ref!r}")
    return campaign


def check_click_urls(urls: list[str]) -> list[str]:
    for url in urls:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ServiceError(f"click URL {url!r} must be an absolute http(s) URL")
    return sorted(set(urls))


def load_campaign(campaign: models.Campaign) -> CampaignFolder:
    return _load(Path(campaign.folder))


def _load(folder: Path) -> CampaignFolder:
    try:
        return CampaignFolder.load(folder)
    except PressrunError as exc:
        raise ServiceError(f"{folder} is not a usable campaign: {exc}") from None


def campaign_dir(settings: Settings, campaign: models.Campaign) -> Path:
    """Where the service keeps a campaign's uploads and renders."""
    return settings.data_dir / "campaigns" / campaign.slug


def install_campaign_zip(
    session: Session, settings: Settings, upload: BinaryIO, slug: str | None = None
) -> models.Campaign:
    """Register a campaign uploaded as a zip; it is kept in the service's data folder."""
    staging = settings.data_dir / "uploads" / f"campaign-{secrets.token_hex(8)}"
    try:
        folder = unpack_campaign_zip(upload, staging)
        slug = slugify(slug or _load(folder).name)
        target = settings.data_dir / "campaigns" / slug / "source"
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return register_campaign(session, target, slug)


def unpack_campaign_zip(upload: BinaryIO, target: Path) -> Path:
    """Extract an uploaded campaign zip into `target`; returns the folder holding campaign.yaml."""
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise ServiceError("the upload is not a zip file") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > _MAX_UNPACKED_BYTES:
            raise ServiceError("the zip unpacks to more than 512 MiB")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        root = target.resolve()
        for member in members:
            destination = (root / member.filename).resolve()
            if not destination.is_relative_to(root) or member.filename.startswith("/"):
                raise ServiceError(f"the zip entry {member.filename!r} points outside the campaign")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink)
    found = sorted(root.rglob(CAMPAIGN_FILE), key=lambda p: len(p.parts))
    if not found:
        raise ServiceError(f"the zip holds no {CAMPAIGN_FILE}")
    return found[0].parent


def import_results(
    session: Session,
    campaign: models.Campaign,
    out_dir: Path,
    campaign_obj: CampaignFolder,
    rows: Rows = None,
) -> None:
    """Upsert every valid recipient, and the assets listed in the output's manifest."""
    validation = campaign_obj.validate(rows, check_templates=False)
    known = {
        r.key: r
        for r in session.scalars(
            select(models.Recipient).where(models.Recipient.campaign_id == campaign.id)
        )
    }
    for recipient in validation.recipients:
        row = known.get(recipient.key)
        if row is None:
            row = models.Recipient(campaign_id=campaign.id, key=recipient.key)
            session.add(row)
            known[recipient.key] = row
        row.email = recipient.email
        row.row = recipient.row
        row.values = _json_safe(recipient.values)
    session.flush()
    _import_assets(session, campaign, out_dir.resolve(), known)


def _import_assets(
    session: Session,
    campaign: models.Campaign,
    out_dir: Path,
    recipients: dict[str, models.Recipient],
) -> None:
    existing = {
        (a.recipient_id, a.format, a.colorway, a.output): a
        for a in session.scalars(
            select(models.Asset).where(models.Asset.campaign_id == campaign.id)
        )
    }
    seen: set[tuple[int, str, str, str]] = set()
    ready = models.utcnow()
    for entry in read_manifest(out_dir):
        recipient = recipients.get(entry["key"])
        if recipient is None:
            continue  # the manifest is older than the data: that recipient is gone
        identity = (recipient.id, entry["format"], entry["colorway"], entry["output"])
        asset = existing.get(identity)
        if asset is None:
            asset = models.Asset(
                campaign_id=campaign.id,
                recipient_id=recipient.id,
                format=entry["format"],
                colorway=entry["colorway"],
                output=entry["output"],
            )
            session.add(asset)
        asset.path = str(out_dir / entry["path"])
        asset.bytes = int(entry["bytes"])
        asset.sha256 = entry["sha256"]
        asset.width = int(entry["width"])
        asset.height = int(entry["height"])
        asset.qa = entry["qa"]
        if recipient.ready_at is None:
            recipient.ready_at = ready
        seen.add(identity)
    for identity, asset in existing.items():
        if identity not in seen:
            session.delete(asset)
    session.flush()


def campaign_assets(session: Session, campaign_id: int) -> list[tuple[models.Asset, str]]:
    """Every asset of the campaign with its recipient's key, in key order."""
    rows = session.execute(
        select(models.Asset, models.Recipient.key)
        .join(models.Recipient, models.Asset.recipient_id == models.Recipient.id)
        .where(models.Asset.campaign_id == campaign_id)
        .order_by(
            models.Recipient.key, models.Asset.format, models.Asset.colorway, models.Asset.output
        )
    )
    return list(rows)


def recipient_links(
    session: Session, settings: Settings, campaign: models.Campaign
) -> list[tuple[models.Recipient, str, int]]:
    """Each recipient with the signed URL of their page and how many assets it offers."""
    counts = dict(
        session.execute(
            select(models.Asset.recipient_id, func.count())
            .where(models.Asset.campaign_id == campaign.id)
            .group_by(models.Asset.recipient_id)
        ).all()
    )
    recipients = session.scalars(
        select(models.Recipient)
        .where(models.Recipient.campaign_id == campaign.id)
        .order_by(models.Recipient.row)
    )
    return [
        (r, recipient_url(settings, campaign.id, r.id), counts.get(r.id, 0)) for r in recipients
    ]


def links_csv(session: Session, settings: Settings, campaign: models.Campaign) -> str:
    """CSV of each recipient's signed page URL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["key", "email", "assets", "url"])
    for recipient, url, assets in recipient_links(session, settings, campaign):
        writer.writerow([recipient.key, recipient.email or "", assets, url])
    return buffer.getvalue()


def read_manifest(out_dir: Path) -> list[dict[str, str]]:
    manifest = out_dir / "manifest.csv"
    if not manifest.exists():
        return []
    return list(csv.DictReader(io.StringIO(manifest.read_text(encoding="utf-8"))))


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(values, default=str, ensure_ascii=False))
    return result


# -- signed links -------------------------------------------------------------------------------


def signer(settings: Settings) -> TokenSigner:
    return TokenSigner(settings.secret)


def recipient_token(settings: Settings, campaign_id: int, recipient_id: int) -> str:
    return signer(settings).sign(campaign_id, recipient_id)


def recipient_url(settings: Settings, campaign_id: int, recipient_id: int) -> str:
    return f"{settings.base_url}/r/{recipient_token(settings, campaign_id, recipient_id)}"


def open_pixel_url(settings: Settings, campaign_id: int, recipient_id: int) -> str:
    return f"{settings.base_url}/o/{recipient_token(settings, campaign_id, recipient_id)}.gif"


def click_url(settings: Settings, campaign_id: int, recipient_id: int, to: str) -> str:
    """A tracked link; `to` must be one of the campaign's registered click URLs to redirect."""
    token = recipient_token(settings, campaign_id, recipient_id)
    return f"{settings.base_url}/c/{token}?{urlencode({'to': to})}"
