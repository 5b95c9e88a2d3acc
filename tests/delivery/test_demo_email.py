"""The demo campaign's email, rendered and sent for real: English and Spanish recipients."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from pressrun import demo_path
from pressrun.campaign import Campaign as CampaignFolder
from pressrun.delivery.sender import SendOptions

from .conftest import Service, SmtpServer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_email_is_localized_and_links_to_the_recipients_card(
    service: Service, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    root = Path(
        shutil.copytree(demo_path(), tmp_path / "wrapped", ignore=shutil.ignore_patterns("out"))
    )
    CampaignFolder.load(root).render(only=["sw-001", "sw-002"], workers=2)
    report = service.sender(root, smtp_server.settings()).run(
        SendOptions(only=["sw-001", "sw-002"])
    )
    assert sorted(o.key for o in report.by_status("sent")) == ["sw-001", "sw-002"]

    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp_server.mailbox.messages}
    ava, mateo = by_to["ava.lindqvist@example.org"], by_to["mateo.rivas@example.net"]
    assert str(ava["Subject"]) == "Ava Lindqvist, your 2026 in songs is here"
    assert str(mateo["Subject"]) == "Mateo Rivas, tu 2026 en canciones ya está aquí"
    assert str(mateo["To"]) == "Mateo Rivas <mateo.rivas@example.net>"
    html = mateo.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = mateo.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert '<html lang="es">' in html and "Mira y descarga tu tarjeta" in html
    assert "3.482.115 reproducciones" in text and "Darse de baja" in text
    image = re.search(r'<img src="([^"]+/preview/\d+)"', html)
    assert image is not None
    with httpx.Client() as client:
        card = client.get(image.group(1))
        assert card.status_code == 200 and card.headers["content-type"] == "image/jpeg"
        page = re.search(r'<a href="([^"]+/r/[^"]+)"', html)
        assert page is not None and "Mateo Rivas" in client.get(page.group(1)).text
