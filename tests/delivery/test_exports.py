from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pressrun.delivery.exports import PLATFORMS, export

from .conftest import MAILABLE, Service

# Each platform's documented import conventions: identifier columns first, then attributes.
EXPECTED_HEADERS = {
    "braze": [
        "external_id",
        "email",
        "pressrun_page_url",
        "pressrun_image_url",
        "pressrun_card_png_url",
    ],
    "klaviyo": [
        "Email Address",
        "pressrun_key",
        "pressrun_page_url",
        "pressrun_image_url",
        "pressrun_card_png_url",
    ],
    "sfmc": [
        "SubscriberKey",
        "EmailAddress",
        "PressrunPageUrl",
        "PressrunImageUrl",
        "PressrunCardPngUrl",
    ],
    "hubspot": [
        "Email",
        "pressrun_key",
        "pressrun_page_url",
        "pressrun_image_url",
        "pressrun_card_png_url",
    ],
    "marketo": [
        "Email Address",
        "Pressrun Key",
        "Pressrun Page URL",
        "Pressrun Image URL",
        "Pressrun Card PNG URL",
    ],
    "iterable": ["email", "userId", "pressrunPageUrl", "pressrunImageUrl", "pressrunCardPngUrl"],
    "csv": ["key", "email", "page_url", "image_url", "card_png_url"],
}
KEY_COLUMN = {
    "braze": "external_id",
    "klaviyo": "pressrun_key",
    "sfmc": "SubscriberKey",
    "hubspot": "pressrun_key",
    "marketo": "Pressrun Key",
    "iterable": "userId",
    "csv": "key",
}
EXPECTED_TAGS = {
    "braze": (
        "{{custom_attribute.${pressrun_image_url}}}",
        "{{custom_attribute.${pressrun_page_url}}}",
    ),
    "klaviyo": (
        "{{ person|lookup:'pressrun_image_url' }}",
        "{{ person|lookup:'pressrun_page_url' }}",
    ),
    "sfmc": ("%%=v(@pressrunImageUrl)=%%", "%%=RedirectTo(@pressrunPageUrl)=%%"),
    "hubspot": ("{{ contact.pressrun_image_url }}", "{{ contact.pressrun_page_url }}"),
    "marketo": ("{{lead.Pressrun Image URL}}", "{{lead.Pressrun Page URL}}"),
    "iterable": ("{{pressrunImageUrl}}", "{{pressrunPageUrl}}"),
    "csv": ("{{image_url}}", "{{page_url}}"),
}


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_each_platform_gets_its_columns_one_row_per_mailable_recipient_and_merge_tags(
    name: str, service: Service, campaign_dir: Path, tmp_path: Path
) -> None:
    campaign, folder = service.register(campaign_dir)
    with service.db.session() as session:
        result = export(
            session, service.settings, campaign, folder.spec, PLATFORMS[name], tmp_path / "exports"
        )
    with result.file.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == EXPECTED_HEADERS[name]
    assert result.rows == len(rows) == len(MAILABLE)
    assert dict(result.excluded) == {
        "noemail": "no email address",
        "late": "no rendered card png asset",
    }
    key_column = header.index(KEY_COLUMN[name])
    by_key = {row[key_column]: row for row in rows}
    assert list(by_key) == MAILABLE
    jose = by_key["jose"]
    assert "jose@example.es" in jose[: len(PLATFORMS[name].id_columns)]
    page, image, download = jose[-3:]
    assert (
        page.startswith(f"{service.base_url}/r/")
        and image == f"{page}/preview/{image.rsplit('/', 1)[1]}"
    )
    assert download.startswith(f"{page}/download/")
    with httpx.Client() as client:
        assert client.get(page).status_code == 200
        assert client.get(image).headers["content-type"] == "image/jpeg"
        assert client.get(download).headers["content-type"] == "image/png"
    image_tag, link_tag = EXPECTED_TAGS[name]
    snippet = result.snippet.read_text()
    assert f'src="{image_tag}"' in snippet and f'href="{link_tag}"' in snippet


def test_the_sfmc_snippet_declares_its_ampscript_variables_before_using_them() -> None:
    from pressrun.delivery.exports import render_snippet

    snippet = render_snippet(PLATFORMS["sfmc"], "card")
    assert snippet.index(
        'SET @pressrunPageUrl = AttributeValue("PressrunPageUrl")'
    ) < snippet.index("RedirectTo")
    assert 'SET @pressrunImageUrl = AttributeValue("PressrunImageUrl")' in snippet


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_export_command_writes_the_files_and_rejects_an_unknown_platform(
    database_url: str, campaign_dir: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PRESSRUN_DATABASE_URL": database_url,
        "PRESSRUN_DATA_DIR": str(tmp_path / "data"),
        "PRESSRUN_SECRET": "s",
        "PRESSRUN_BASE_URL": "https://pressrun.example",
    }
    done = subprocess.run(
        [sys.executable, "-m", "pressrun", "export", str(campaign_dir), "--to", "hubspot"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    file = campaign_dir / "out" / "exports" / "delivery-fixture-hubspot.csv"
    assert file.read_text().startswith("Email,pressrun_key,pressrun_page_url")
    assert "https://pressrun.example/r/" in file.read_text()
    assert (campaign_dir / "out" / "exports" / "delivery-fixture-hubspot-snippet.html").exists()
    assert "Left out: 2" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pressrun", "export", str(campaign_dir), "--to", "mailchimp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown platform 'mailchimp'" in bad.stderr
