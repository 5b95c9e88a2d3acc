"""Which of a recipient's assets an email shows, and the signed URLs that serve them."""

from __future__ import annotations

from collections.abc import Iterable

from ..service.catalog import recipient_url
from ..service.models import Asset
from ..service.settings import Settings
from ..service.thumbs import IMAGE_OUTPUTS
from ..spec import CampaignSpec, EmailSpec


def email_view(spec: CampaignSpec) -> tuple[str, str | None, str]:
    """(format, colorway or None for the recipient's own, output) the email shows."""
    email = spec.email or EmailSpec()
    output = email.output or next(o for o in spec.outputs if o in IMAGE_OUTPUTS)
    return email.format or spec.formats[0].name, email.colorway, output


def pick_asset(spec: CampaignSpec, assets: Iterable[Asset]) -> Asset | None:
    """The recipient's asset in the email's view; their first colorway in campaign order."""
    fmt, colorway, output = email_view(spec)
    order = {name: index for index, name in enumerate(spec.colorways)}
    matches = [
        a
        for a in assets
        if a.format == fmt and a.output == output and colorway in (None, a.colorway)
    ]
    return min(matches, key=lambda a: (order.get(a.colorway, len(order)), a.colorway), default=None)


def image_url(settings: Settings, asset: Asset) -> str:
    """A web-sized JPEG of an image asset (no event: mail clients and proxies fetch it freely)."""
    return f"{recipient_url(settings, asset.campaign_id, asset.recipient_id)}/preview/{asset.id}"


def download_url(settings: Settings, asset: Asset) -> str:
    """The file itself; fetching it records a download."""
    return f"{recipient_url(settings, asset.campaign_id, asset.recipient_id)}/download/{asset.id}"
