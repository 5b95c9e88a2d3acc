"""End to end in Chromium: log in, run the demo, watch it finish, open a recipient page, download.

Screenshots of the dashboard and the recipient page at desktop and phone widths are written to
$PRESSRUN_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pressrun import demo_path

CHROMIUM = "/usr/lib/chromium/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PRESSRUN_SCREENSHOTS", tmp_path / "shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shoot(page: Page, url: str, name: str, shots: Path) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(url, wait_until="networkidle")  # previews and thumbnails included
        page.screenshot(path=shots / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_log_in_run_the_demo_and_download(server: str, user, browser: Browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP, base_url=server)
    page.goto("/campaigns")
    expect(page).to_have_url(f"{server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()

    page.get_by_label("Folder on the server").fill(str(demo_path()))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Songwriter Wrapped")).to_be_visible()
    page.get_by_label("Recipients").fill("3")
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.locator(".run .badge.status-done")).to_be_visible(
        timeout=240_000
    )  # live progress, then done
    expect(page.locator(".run")).to_contain_text("24 of 24 assets")
    overview = page.url.split("#")[0]

    page.get_by_role("link", name="Rejects").click()
    expect(page.locator("table")).to_contain_text("not-an-email")
    page.get_by_role("link", name="Recipients").click()
    page.get_by_role("searchbox").fill("sw-002")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    recipient_url = page.get_by_role("link", name="Open page").get_attribute("href")
    assert recipient_url

    visitor = browser.new_page(viewport=DESKTOP)
    visitor.goto(recipient_url)
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("your assets are ready")
    with visitor.expect_download() as download_info:
        visitor.get_by_role("link", name="PNG").first.click()
    png = Path(download_info.value.path()).read_bytes()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size in {
            (1920, 1080),
            (1080, 1350),
            (1080, 1920),
            (1080, 1080),
        }
    _shoot(visitor, recipient_url, "recipient", shots)

    page.goto(overview)
    expect(page.locator(".metric").filter(has_text="Downloads").locator(".value")).to_have_text("1")
    _shoot(page, overview, "dashboard", shots)
    _shoot(page, f"{overview}/gallery", "gallery", shots)
    _shoot(page, f"{overview}/recipients", "recipients", shots)
    _shoot(page, f"{server}/campaigns", "campaigns", shots)
