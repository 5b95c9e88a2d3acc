"""Recipient pages: signed tokens, assets and downloads, the zip, Open Graph tags, the share toggle."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pressrun.service import catalog, models
from pressrun.service.db import Database
from pressrun.service.settings import Settings
from pressrun.service.tokens import TokenSigner

Token = Callable[[str], str]


def _events(db: Database, kind: str) -> list[models.Event]:
    with db.session() as session:
        return list(
            session.scalars(
                select(models.Event).where(models.Event.kind == kind).order_by(models.Event.id)
            )
        )


def _flip(token: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_page_lists_every_asset_and_records_a_view(
    anonymous: httpx.Client, recipient_token: Token, db: Database
) -> None:
    token = recipient_token("ana")
    page = anonymous.get(
        f"/r/{token}", headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile Safari"}
    )
    assert page.status_code == 200
    assert "Ana Lima, your assets are ready" in page.text
    downloads = re.findall(rf'href="/r/{token}/download/(\d+)"', page.text)
    assert len(downloads) == 2  # square sunrise: PNG and PDF
    assert f'href="/r/{token}/download.zip"' in page.text
    assert 'name="viewport"' in page.text
    [view] = _events(db, "view")
    assert view.user_agent == "Mozilla/5.0 (iPhone) Mobile Safari" and not view.machine


def test_open_graph_tags_point_at_the_card_image(
    anonymous: httpx.Client, recipient_token: Token, settings: Settings
) -> None:
    token = recipient_token("ana")
    page = anonymous.get(f"/r/{token}").text
    card_url = f"{settings.base_url}/r/{token}/card.png"
    assert f'<meta property="og:image" content="{card_url}">' in page
    assert f'<meta name="twitter:image" content="{card_url}">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    card = anonymous.get(card_url)
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    assert card.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "how", ["forged", "altered id", "altered mac", "expired", "garbage", "other secret"]
)
def test_bad_tokens_get_404_everywhere(
    anonymous: httpx.Client,
    recipient_token: Token,
    imported: models.Campaign,
    settings: Settings,
    how: str,
) -> None:
    good = recipient_token("ana")
    bad = {
        "forged": base64.urlsafe_b64encode(
            b"\x00" * 7 + b"\x01" + b"\x00" * 7 + b"\x02" + b"\x00" * 24
        )
        .rstrip(b"=")
        .decode(),
        "altered id": _flip(good, 15),  # recipient id 1 -> another id, MAC left as it was
        "altered mac": _flip(good, 30),
        "expired": TokenSigner(settings.secret).sign(imported.id, 1, ttl_seconds=-60),
        "garbage": "not-a-token",
        "other secret": TokenSigner("some other secret").sign(imported.id, 1),
    }[how]
    for path in (
        f"/r/{bad}",
        f"/r/{bad}/download.zip",
        f"/r/{bad}/card.png",
        f"/o/{bad}.gif",
        f"/c/{bad}?to=https%3A%2F%2Fshop.example.com%2Foffer%3Fx%3D1",
    ):
        assert anonymous.get(path).status_code == 404, path
    assert anonymous.get(f"/r/{good}").status_code == 200


def test_a_token_names_its_campaign(
    anonymous: httpx.Client,
    db: Database,
    imported: models.Campaign,
    settings: Settings,
    make_campaign,
) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        other = catalog.register_campaign(session, make_campaign(name="other"), slug="other")
        ana = session.scalar(select(models.Recipient).where(models.Recipient.key == "ana"))
        assert ana is not None
        wrong_campaign = catalog.recipient_token(settings, other.id, ana.id)
    assert anonymous.get(f"/r/{wrong_campaign}").status_code == 404


def test_download_serves_the_file_and_counts_it(
    anonymous: httpx.Client, recipient_token: Token, db: Database, rendered: tuple[Path, Path]
) -> None:
    token = recipient_token("ana")
    asset_id = re.findall(rf'href="/r/{token}/download/(\d+)"', anonymous.get(f"/r/{token}").text)[
        0
    ]
    with db.session() as session:
        asset = session.get(models.Asset, int(asset_id))
        assert asset is not None
    response = anonymous.get(f"/r/{token}/download/{asset_id}", headers={"User-Agent": "Firefox"})
    assert response.status_code == 200
    assert response.content == Path(asset.path).read_bytes()
    assert "attachment" in response.headers["content-disposition"]
    assert f"fixture-ana-square-sunrise.{asset.output}" in response.headers["content-disposition"]
    [download] = _events(db, "download")
    assert download.detail == {"asset_id": asset.id, "file": f"square-sunrise.{asset.output}"}
    assert download.user_agent == "Firefox"


def test_no_one_downloads_another_recipients_file(
    anonymous: httpx.Client, recipient_token: Token, db: Database
) -> None:
    with db.session() as session:
        bo_asset = session.scalar(
            select(models.Asset.id).join(models.Recipient).where(models.Recipient.key == "bo")
        )
    assert anonymous.get(f"/r/{recipient_token('ana')}/download/{bo_asset}").status_code == 404
    assert anonymous.get(f"/r/{recipient_token('ana')}/preview/{bo_asset}").status_code == 404


def test_download_all_is_a_zip_of_every_file(
    anonymous: httpx.Client, recipient_token: Token, db: Database
) -> None:
    response = anonymous.get(f"/r/{recipient_token('bo')}/download.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "fixture-bo-square-midnight.pdf",
        "fixture-bo-square-midnight.png",
    ]
    assert archive.read("fixture-bo-square-midnight.png").startswith(b"\x89PNG")
    assert archive.read("fixture-bo-square-midnight.pdf").startswith(b"%PDF")
    [download] = _events(db, "download")
    assert download.detail == {"file": "all", "count": 2}


def test_previews_are_downscaled_jpegs(anonymous: httpx.Client, recipient_token: Token) -> None:
    token = recipient_token("ana")
    preview = re.search(rf'src="(/r/{token}/preview/\d+)"', anonymous.get(f"/r/{token}").text)
    assert preview is not None
    image = anonymous.get(preview.group(1))
    assert image.headers["content-type"] == "image/jpeg"
    from PIL import Image

    assert Image.open(io.BytesIO(image.content)).size == (960, 960)


def test_share_toggle_hides_previews_and_sharing(
    anonymous: httpx.Client, recipient_token: Token, db: Database
) -> None:
    token = recipient_token("ana")
    turned_off = anonymous.post(f"/r/{token}/sharing", data={"public": "false"})
    assert turned_off.status_code == 303
    page = anonymous.get(f"/r/{token}").text
    assert "og:image" not in page and "twitter:card" not in page
    assert "Make my page public" in page
    assert anonymous.get(f"/r/{token}/card.png").status_code == 404
    assert anonymous.get(f"/r/{token}/share/x").status_code == 404
    assert (
        anonymous.get(f"/r/{token}/download.zip").status_code == 200
    )  # still the recipient's page

    anonymous.post(f"/r/{token}/sharing", data={"public": "true"})
    assert "og:image" in anonymous.get(f"/r/{token}").text
    assert anonymous.get(f"/r/{token}/card.png").status_code == 200
