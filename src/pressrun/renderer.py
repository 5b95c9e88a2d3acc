"""The renderer: a warm pool of sealed Chromium pages turning HTML into PNG, JPG, WebP and PDF."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, CDPSession, Page, Playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from .errors import RenderError
from .qa import PAGE_CHECKS, is_blank
from .site import BLOCKED_HEADER, SHELL_URL, CampaignSite
from .spec import RenderOptions

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium")
RASTER_OUTPUTS = ("png", "jpg", "webp")

# Same input, same pixels: a fixed color profile, grayscale antialiasing, no hinting; and no
# traffic of Chromium's own (updates, metrics, sync) reaching for a network it must not have.
DETERMINISTIC_FLAGS = (
    "--force-color-profile=srgb",
    "--disable-lcd-text",
    "--font-render-hinting=none",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
)


@dataclass(frozen=True)
class PageJob:
    """One document to load and the outputs to capture from it."""

    html: str
    width: int
    height: int
    outputs: tuple[str, ...]


@dataclass
class PageResult:
    files: dict[str, bytes]
    qa: list[str]


def find_chromium() -> str:
    """The Chromium binary: $PRESSRUN_CHROMIUM, else Debian's package."""
    if explicit := os.environ.get("PRESSRUN_CHROMIUM"):
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if found := shutil.which(candidate):
            return found
    raise RenderError("Chromium not found: install Debian's `chromium` or set PRESSRUN_CHROMIUM")


@dataclass
class _Worker:
    """One browser context with one page, reused render after render."""

    context: BrowserContext
    page: Page
    cdp: CDPSession
    renders: int = 0
    viewport: tuple[int, int] = (0, 0)
    problems: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("console", self._on_console)

    def _on_response(self, response: Any) -> None:
        if response.headers.get(BLOCKED_HEADER.lower()):
            self.problems.append(f"blocked: {response.url} (renders have no network access)")
        elif response.status >= 400:
            self.problems.append(f"missing: {response.url} ({response.status})")

    def _on_request_failed(self, request: Any) -> None:
        self.problems.append(f"blocked: {request.url} ({request.failure})")

    def _on_console(self, message: Any) -> None:
        if "Not allowed to load local resource" in message.text:
            self.problems.append(f"blocked: {message.text.split(': ', 1)[-1]} (no file access)")


class Renderer:
    """A pool of `workers` Chromium pages behind the sealed campaign origin.

    Use as an async context manager; `render` may be called concurrently, at most `workers`
    jobs run at once. A page that crashes or hangs is replaced and the job retried; pages are
    recycled after `recycle_after` renders so memory does not creep over long runs.
    """

    def __init__(
        self,
        site_root: Path,
        *,
        options: RenderOptions,
        workers: int = 4,
        exclude: Path | None = None,
        recycle_after: int = 250,
        retries: int = 2,
    ) -> None:
        self.options = options
        self.workers = workers
        self.recycle_after = recycle_after
        self.retries = retries
        self._site = CampaignSite(site_root, exclude=exclude)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._relaunch = asyncio.Lock()

    async def __aenter__(self) -> Renderer:
        self._site.start()
        try:
            self._playwright = await async_playwright().start()
            await self._launch()
            for worker in await asyncio.gather(*(self._new_worker() for _ in range(self.workers))):
                self._idle.put_nowait(worker)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._browser is not None:
                await self._browser.close()
            if self._playwright is not None:
                await self._playwright.stop()
        finally:
            self._site.stop()

    async def render(self, job: PageJob) -> PageResult:
        worker = await self._idle.get()
        try:
            for attempt in range(self.retries + 1):
                try:
                    result = await asyncio.wait_for(self._render_on(worker, job), self.options.timeout_s)
                    worker.renders += 1
                    if worker.renders >= self.recycle_after:
                        worker = await self._replace(worker)
                    return result
                except (PlaywrightError, asyncio.TimeoutError) as exc:
                    worker = await self._replace(worker)
                    if attempt == self.retries:
                        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                        raise RenderError(f"Chromium failed {attempt + 1} times: {reason}") from exc
            raise AssertionError("unreachable")
        finally:
            self._idle.put_nowait(worker)

    async def _render_on(self, worker: _Worker, job: PageJob) -> PageResult:
        page = worker.page
        worker.problems = []
        if worker.viewport != (job.width, job.height):
            await page.set_viewport_size({"width": job.width, "height": job.height})
            worker.viewport = (job.width, job.height)
        await page.set_content(job.html, wait_until="load")
        qa: list[str] = await page.evaluate(PAGE_CHECKS, {"fontTimeout": self.options.font_timeout_ms})
        files = {output: await self._capture(worker, job, output) for output in job.outputs}
        raster = next((files[o] for o in job.outputs if o in RASTER_OUTPUTS), None)
        if is_blank(raster or await self._thumbnail(worker, job)):
            qa.append("blank: every pixel has the same color")
        return PageResult(files, worker.problems + qa)

    async def _capture(self, worker: _Worker, job: PageJob, output: str) -> bytes:
        if output == "pdf":
            return await worker.page.pdf(
                width=f"{job.width}px",
                height=f"{job.height}px",
                print_background=True,
                prefer_css_page_size=True,
                page_ranges="1",
            )
        params: dict[str, Any] = {"format": "jpeg" if output == "jpg" else output}
        if output == "jpg":
            params["quality"] = self.options.jpg_quality
        elif output == "webp":
            params["quality"] = self.options.webp_quality
        shot = await worker.cdp.send("Page.captureScreenshot", params)
        return base64.b64decode(shot["data"])

    async def _thumbnail(self, worker: _Worker, job: PageJob) -> bytes:
        clip = {"x": 0, "y": 0, "width": job.width, "height": job.height, "scale": 0.25}
        shot = await worker.cdp.send("Page.captureScreenshot", {"format": "png", "clip": clip})
        return base64.b64decode(shot["data"])

    async def _launch(self) -> None:
        assert self._playwright is not None
        args = [*DETERMINISTIC_FLAGS, f"--proxy-server={self._site.proxy}", "--proxy-bypass-list=<-loopback>"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
        self._browser = await self._playwright.chromium.launch(
            executable_path=find_chromium(), args=args, headless=True
        )

    async def _new_worker(self) -> _Worker:
        async with self._relaunch:
            assert self._browser is not None
            if not self._browser.is_connected():
                await self._launch()
        assert self._browser is not None
        context = await self._browser.new_context(
            device_scale_factor=1, service_workers="block", accept_downloads=False
        )
        page = await context.new_page()
        worker = _Worker(context, page, await context.new_cdp_session(page))
        worker.watch()
        await page.goto(SHELL_URL)
        await page.emulate_media(media="screen")
        return worker

    async def _replace(self, worker: _Worker) -> _Worker:
        try:
            await asyncio.wait_for(worker.context.close(), 10)
        except (PlaywrightError, asyncio.TimeoutError):
            pass
        return await self._new_worker()
