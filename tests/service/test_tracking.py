"""Tracking: the open pixel (human and machine opens), click-through redirects, share clicks."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from sqlalchemy import select

from pressrun.service import catalog, models
from pressrun.service.db import Database
from pressrun.service.events import is_machine_open
from pressrun.service.settings import Settings

Token = Callable[[str], str]
OFFER = "https://shop.example.com/offer?x=1"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


def _events(db: Database, kind: str) -> list[models.Event]:
    with db.session() as session:
        return list(
            session.scalars(
                select(models.Event).where(models.Event.kind == kind).order_by(models.Event.id)
            )
        )


@pytest.mark.parametrize(
    ("agent", "machine"),
    [
        (CHROME, False),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            False,
        ),
        ("Microsoft Outlook 16.0.17328; Pro", False),
        (GMAIL_PROXY, True),
        ("Mozilla/5.0", True),  # Apple Mail Privacy Protection
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", True),
        ("", True),
    ],
)
def test_machine_opens_are_told_from_human_ones(agent: str, machine: bool) -> None:
    assert is_machine_open(agent) is machine


def test_open_pixel_records_opens_apart(
    anonymous: httpx.Client,
    recipient_token: Token,
    db: Database,
    api: httpx.Client,
    imported: models.Campaign,
) -> None:
    pixel = anonymous.get(f"/o/{recipient_token('ana')}.gif", headers={"User-Agent": CHROME})
    assert pixel.status_code == 200
    assert pixel.headers["content-type"] == "image/gif" and pixel.content.startswith(b"GIF89a")
    assert "no-store" in pixel.headers["cache-control"]
    anonymous.get(f"/o/{recipient_token('ana')}.gif", headers={"User-Agent": CHROME})
    anonymous.get(f"/o/{recipient_token('bo')}.gif", headers={"User-Agent": GMAIL_PROXY})
    opens = _events(db, "open")
    assert [(e.user_agent, e.machine) for e in opens] == [
        (CHROME, False),
        (CHROME, False),
        (GMAIL_PROXY, True),
    ]
    metrics = api.get(f"/api/campaigns/{imported.id}/metrics").json()
    assert metrics["unique_opens"] == {"human": 1, "machine": 1}
    assert metrics["open_rate"] == 0.5


def test_click_redirects_only_to_registered_urls(
    anonymous: httpx.Client, recipient_token: Token, db: Database
) -> None:
    token = recipient_token("ana")
    ok = anonymous.get(f"/c/{token}", params={"to": OFFER}, headers={"User-Agent": CHROME})
    assert ok.status_code == 302 and ok.headers["location"] == OFFER
    for target in (
        "https://evil.example.com/",
        "//evil.example.com",
        OFFER + "&y=2",
        "https://shop.example.com/offer",
        "javascript:alert(1)",
    ):
        refused = anonymous.get(f"/c/{token}", params={"to": target})
        assert refused.status_code == 404, target
        assert "location" not in refused.headers
    assert anonymous.get(f"/c/{token}").status_code == 422  # no target at all
    [click] = _events(db, "click")
    assert click.detail == {"to": OFFER} and click.user_agent == CHROME


def test_click_url_helper_builds_working_links(
    anonymous: httpx.Client, db: Database, settings: Settings, imported: models.Campaign
) -> None:
    with db.session() as session:
        bo = session.scalar(select(models.Recipient).where(models.Recipient.key == "bo"))
        assert bo is not None
        url = catalog.click_url(settings, imported.id, bo.id, OFFER)
        pixel = catalog.open_pixel_url(settings, imported.id, bo.id)
    assert anonymous.get(url).headers["location"] == OFFER
    assert anonymous.get(pixel).status_code == 200
    assert [e.recipient_id for e in _events(db, "click")] == [bo.id]


def test_share_clicks_are_counted_and_go_to_the_network(
    anonymous: httpx.Client, recipient_token: Token, db: Database, settings: Settings
) -> None:
    token = recipient_token("ana")
    response = anonymous.get(f"/r/{token}/share/linkedin")
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    assert target.netloc == "www.linkedin.com"
    assert parse_qs(target.query)["url"] == [f"{settings.base_url}/r/{token}"]
    assert anonymous.get(f"/r/{token}/share/copy").status_code == 204
    assert (
        anonymous.get(f"/r/{token}/share/{quote('https://evil.example.com', safe='')}").status_code
        == 404
    )
    assert [e.detail["network"] for e in _events(db, "share")] == ["linkedin", "copy"]
