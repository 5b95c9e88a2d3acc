"""Who can be mailed: each recipient with their address and the email's asset, or why not."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..service.models import Asset, Recipient
from ..spec import CampaignSpec
from .assets import email_view, pick_asset
from .config import email_address
from .unsubscribe import unsubscribed


@dataclass(frozen=True)
class Candidate:
    recipient: Recipient
    assets: list[Asset]
    address: Address | None
    asset: Asset | None
    reason: str  # empty when the recipient can be mailed


def load_audience(session: Session, campaign_id: int, spec: CampaignSpec) -> list[Candidate]:
    """Every recipient of the campaign in data order, checked for address, unsubscribe and asset."""
    recipients = list(
        session.scalars(
            select(Recipient).where(Recipient.campaign_id == campaign_id).order_by(Recipient.row)
        )
    )
    assets: dict[int, list[Asset]] = {}
    for asset in session.scalars(select(Asset).where(Asset.campaign_id == campaign_id)):
        assets.setdefault(asset.recipient_id, []).append(asset)
    blocked = unsubscribed(session, [r.email for r in recipients if r.email])
    return [_check(spec, r, assets.get(r.id, []), blocked) for r in recipients]


def _check(
    spec: CampaignSpec, recipient: Recipient, assets: list[Asset], blocked: set[str]
) -> Candidate:
    def excluded(reason: str) -> Candidate:
        return Candidate(recipient, assets, None, None, reason)

    address = email_address(recipient.email)
    if address is None:
        return excluded(
            f"no valid email address ({recipient.email!r})"
            if recipient.email
            else "no email address"
        )
    if address.addr_spec.lower() in blocked:
        return excluded("unsubscribed")
    asset = pick_asset(spec, assets)
    if asset is None:
        fmt, colorway, output = email_view(spec)
        return excluded(f"no rendered {fmt}{'/' + colorway if colorway else ''} {output} asset")
    if not Path(asset.path).is_file():
        return excluded(f"asset file missing: {asset.path}")
    return Candidate(recipient, assets, address, asset, "")
