"""Tracking endpoints: the open pixel, click-through redirects and share clicks."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import RedirectResponse

from .catalog import recipient_url
from .deps import RecipientDep, ServicesDep
from .events import is_machine_open, is_machine_view

router = APIRouter(tags=["tracking"])

_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
}

# Where each share button sends the page's URL: fixed targets, so no open redirect.
SHARE_TARGETS = {
    "x": "https://twitter.com/intent/tweet?url={url}",
    "linkedin": "https://www.linkedin.com/sharing/share-offsite/?url={url}",
    "facebook": "https://www.facebook.com/sharer/sharer.php?u={url}",
}


@router.get("/o/{token}.gif", include_in_schema=False)
def open_pixel(context: RecipientDep) -> Response:
    context.record("open", machine=is_machine_open(context.user_agent))
    return Response(_PIXEL, media_type="image/gif", headers=_NO_STORE)


@router.get("/c/{token}", include_in_schema=False)
def click(context: RecipientDep, to: Annotated[str, Query(max_length=2000)]) -> RedirectResponse:
    """Redirect to `to`, only when it is one of the URLs registered for the campaign."""
    if to not in context.campaign.click_urls:
        raise HTTPException(404, "this link does not lead anywhere")
    context.record("click", detail={"to": to}, machine=is_machine_view(context.user_agent))
    return RedirectResponse(to, status_code=302, headers=_NO_STORE)


@router.get("/r/{token}/share/{network}", include_in_schema=False)
def share(context: RecipientDep, network: str, svc: ServicesDep) -> Response:
    """Count a share click, then hand over to the network's share dialog (or 204 for 'copy')."""
    if not context.recipient.public or (network not in SHARE_TARGETS and network != "copy"):
        raise HTTPException(404, "sharing is off for this page")
    context.record("share", detail={"network": network})
    if network == "copy":
        return Response(status_code=204)
    page = recipient_url(svc.settings, context.campaign.id, context.recipient.id)
    return RedirectResponse(
        SHARE_TARGETS[network].format(url=quote(page, safe="")), status_code=302
    )
