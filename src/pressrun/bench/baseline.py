"""The baseline: the Playwright loop most people write, on the same campaign, data and HTML.

One browser, four pages, each reused: `page.set_content(html)` then `page.screenshot()` (or
`page.pdf()`), every file written atomically in pressrun's layout. The campaign folder is served
by a local `http.server` that each page visits once, so the template's relative URLs resolve.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Page, async_playwright

from ..campaign import Campaign
from ..results import Recipient
from ..spec import FormatSpec
from ..storage import asset_path
from ..templating import Colorway
from .timeline import Timeline

PAGES = 4
# The binary Debian's /usr/bin/chromium wrapper runs (and pressrun too): the wrapper would add
# its own flags, and the comparison is of the loops, not of the flags.
CHROMIUM = os.environ.get("PRESSRUN_CHROMIUM", "/usr/lib/chromium/chromium")

View = tuple[Recipient, FormatSpec, Colorway]


def render_baseline(campaign: Campaign, out: Path, timeline: Timeline) -> None:
    validation = campaign.validate(check_templates=False)
    views: list[View] = [
        (recipient, fmt, campaign.colorways[name])
        for recipient in validation.recipients
        for fmt in campaign.spec.formats
        for name in recipient.colorways
    ]
    timeline.start(len(views) * len(campaign.spec.outputs))
    with _serve(campaign.root) as url:
        asyncio.run(_render(campaign, views, out, url, timeline))


async def _render(
    campaign: Campaign, views: list[View], out: Path, url: str, timeline: Timeline
) -> None:
    queue = iter(views)
    async with async_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)

        async def lane() -> None:
            page = await browser.new_page()
            await page.goto(url)
            for recipient, fmt, colorway in queue:
                size = {"width": fmt.width, "height": fmt.height}
                if page.viewport_size != size:
                    await page.set_viewport_size(size)
                await page.set_content(campaign.html(recipient, fmt, colorway))
                for output in campaign.spec.outputs:
                    data = await _capture(page, fmt, output, campaign.spec.render.jpg_quality)
                    _write(out / asset_path(recipient.key, fmt.name, colorway.name, output), data)
                    timeline.advance()

        await asyncio.gather(*(lane() for _ in range(PAGES)))
        await browser.close()


async def _capture(page: Page, fmt: FormatSpec, output: str, jpg_quality: int) -> bytes:
    if output == "pdf":
        return await page.pdf(
            width=f"{fmt.width}px", height=f"{fmt.height}px", print_background=True
        )
    if output == "jpg":
        return await page.screenshot(type="jpeg", quality=jpg_quality)
    return await page.screenshot(type="png")


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_file = target.with_name(target.name + ".partial")
    partial_file.write_bytes(data)
    os.replace(partial_file, target)


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    handler = partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
