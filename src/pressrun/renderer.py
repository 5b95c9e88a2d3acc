"""The renderer: a warm pool of sealed Chromium pages turning HTML into PNG, JPG, WebP and PDF."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cdp import Browser, Session
from .errors import BrowserError, RenderError
from .qa import PAGE_CHECKS, is_blank
from .site import BLOCKED_HEADER, CampaignSite
from .spec import RenderOptions

# The headless shell is Chromium's renderer without the desktop browser around it: the same
# Blink and Skia (same pixels), a lighter process tree and a faster start.
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "chromium",
)
RASTER_OUTPUTS = ("png", "jpg", "webp")

# Same input, same pixels: a fixed color profile, grayscale antialiasing, no hinting; and no
# traffic of Chromium's own (updates, metrics, sync) reaching for a network it must not have.
DETERMINISTIC_FLAGS = (
    "--headless",
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
    """The Chromium binary: $PRESSRUN_CHROMIUM, else Debian's headless shell, else its browser."""
    if explicit := os.environ.get("PRESSRUN_CHROMIUM"):
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if found := shutil.which(candidate):
            return found
    raise RenderError("Chromium not found: install Debian's `chromium` or set PRESSRUN_CHROMIUM")


@dataclass
class _Page:
    """One page in a browser context of its own, reused render after render."""

    session: Session
    renders: int = 0
    viewport: tuple[int, int] = (0, 0)
    loaded: asyncio.Future[None] | None = None
    crashed: bool = False
    problems: list[str] = field(default_factory=list)
    _document: str = ""
    _loader: str = ""
    _requests: dict[str, str] = field(default_factory=dict)

    def expect(self, document: str) -> asyncio.Future[None]:
        """Start listening for the load of `document`; events of earlier documents are ignored."""
        self.problems, self._requests = [], {}
        self._document, self._loader = document, ""
        self.loaded = asyncio.get_running_loop().create_future()
        return self.loaded

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            if self.loaded and not self.loaded.done():
                self.loaded.set_result(None)
        elif method == "Inspector.targetCrashed":
            self.crashed = True
            self.session.fail_pending("the page crashed")
            if self.loaded and not self.loaded.done():
                self.loaded.set_exception(BrowserError("the page crashed"))
        elif method == "Network.requestWillBeSent":
            if params.get("type") == "Document" and params["request"]["url"] == self._document:
                self._loader = params["loaderId"]
            if params["loaderId"] == self._loader:
                self._requests[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            if params["requestId"] in self._requests:
                self._on_response(params["response"])
        elif method == "Network.loadingFailed":
            if (url := self._requests.get(params["requestId"])) and not params.get("canceled"):
                self._on_failure(url, params)
        elif (
            method == "Log.entryAdded"
            and "Not allowed to load local resource" in params["entry"]["text"]
        ):
            self._note(f"blocked: {params['entry']['text'].split(': ', 1)[-1]} (no file access)")

    def _on_response(self, response: dict[str, Any]) -> None:
        if any(name.lower() == BLOCKED_HEADER.lower() for name in response["headers"]):
            self._note(f"blocked: {response['url']} (renders have no network access)")
        elif response["status"] >= 400:
            self._note(f"missing: {response['url']} ({response['status']})")

    def _on_failure(self, url: str, params: dict[str, Any]) -> None:
        if url.startswith("file:"):
            self._note(f"blocked: {url} (no file access)")
        elif not any(p.startswith(f"blocked: {url} ") for p in self.problems):
            self._note(f"blocked: {url} ({params.get('errorText') or params.get('blockedReason')})")

    def _note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)


class Renderer:
    """A pool of `workers` sealed Chromium pages behind the campaign origin.

    Use as an async context manager; `render` may be called concurrently, at most `workers`
    jobs run at once. Each page has a browser process of its own: a browser encodes its pages'
    screenshots on one thread, so pages sharing a browser wait for each other. A page that
    crashes or hangs is replaced (its browser too, when that is what failed) and the job
    retried; pages are recycled after `recycle_after` renders so memory does not creep.
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
        self._checks = f"({PAGE_CHECKS})({json.dumps({'fontTimeout': options.font_timeout_ms})})"
        self._browsers: set[Browser] = set()
        self._closed = False
        self._idle: asyncio.Queue[_Page] = asyncio.Queue()

    async def __aenter__(self) -> Renderer:
        self._site.start()
        try:
            for page in await asyncio.gather(*(self._new_page() for _ in range(self.workers))):
                self._idle.put_nowait(page)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closed = True
        try:
            await asyncio.gather(*(self._close(browser) for browser in list(self._browsers)))
        finally:
            self._site.stop()

    async def render(self, job: PageJob) -> PageResult:
        page = await self._idle.get()
        try:
            if page.crashed:
                page = await self._replace(page)
            for attempt in range(self.retries + 1):
                try:
                    result = await asyncio.wait_for(
                        self._render_on(page, job), self.options.timeout_s
                    )
                    page.renders += 1
                    if page.renders >= self.recycle_after:
                        page = await self._replace(page)
                    return result
                except (BrowserError, asyncio.TimeoutError) as exc:
                    page = await self._replace(page)
                    if attempt == self.retries:
                        reason = str(exc) or type(exc).__name__
                        raise RenderError(f"Chromium failed {attempt + 1} times: {reason}") from exc
            raise AssertionError("unreachable")
        finally:
            self._idle.put_nowait(page)

    async def _render_on(self, page: _Page, job: PageJob) -> PageResult:
        session = page.session
        if page.viewport != (job.width, job.height):
            metrics = {
                "width": job.width,
                "height": job.height,
                "deviceScaleFactor": 1,
                "mobile": False,
            }
            await session.send("Emulation.setDeviceMetricsOverride", **metrics)
            page.viewport = (job.width, job.height)
        await self._load(page, job.html)
        checks = await session.send(
            "Runtime.evaluate", expression=self._checks, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in checks:
            raise BrowserError(f"page checks failed: {checks['exceptionDetails'].get('text')}")
        qa: list[str] = page.problems + checks["result"]["value"]
        files = {output: await self._capture(session, job, output) for output in job.outputs}
        raster = next((files[o] for o in job.outputs if o in RASTER_OUTPUTS), None)
        if raster is not None:
            blank = is_blank(raster, job.width * job.height)
        else:
            blank = is_blank(await self._thumbnail(session, job))
        if blank:
            qa.append("blank: every pixel has the same color")
        return PageResult(files, qa)

    async def _load(self, page: _Page, html: str) -> None:
        url = self._site.publish(html)
        loaded = page.expect(url)
        try:
            navigation = await page.session.send("Page.navigate", url=url)
            if error := navigation.get("errorText"):
                raise BrowserError(f"navigation failed: {error}")
            await loaded
        finally:
            self._site.withdraw(url)

    async def _capture(self, session: Session, job: PageJob, output: str) -> bytes:
        if output == "pdf":
            shot = await session.send(
                "Page.printToPDF",
                paperWidth=job.width / 96,
                paperHeight=job.height / 96,
                marginTop=0,
                marginBottom=0,
                marginLeft=0,
                marginRight=0,
                printBackground=True,
                preferCSSPageSize=True,
                pageRanges="1",
            )
            return base64.b64decode(shot["data"])
        params: dict[str, Any] = {"format": "jpeg" if output == "jpg" else output}
        if output == "png":
            # lossless either way: the fast encoder gives the same pixels in a larger file
            params["optimizeForSpeed"] = self.options.png_compression == "fast"
        elif output == "jpg":
            params["quality"] = self.options.jpg_quality
        elif output == "webp":
            params["quality"] = self.options.webp_quality
        shot = await session.send("Page.captureScreenshot", **params)
        return base64.b64decode(shot["data"])

    async def _thumbnail(self, session: Session, job: PageJob) -> bytes:
        clip = {"x": 0, "y": 0, "width": job.width, "height": job.height, "scale": 0.25}
        shot = await session.send(
            "Page.captureScreenshot", format="png", clip=clip, optimizeForSpeed=True
        )
        return base64.b64decode(shot["data"])

    async def _launch(self) -> Browser:
        if self._closed:  # a job still failing over while the pool shuts down gets no new browser
            raise RenderError("the renderer is closed")
        args = [
            *DETERMINISTIC_FLAGS,
            f"--proxy-server={self._site.proxy}",
            "--proxy-bypass-list=<-loopback>",
        ]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
        browser = await Browser.launch(find_chromium(), args)
        self._browsers.add(browser)
        return browser

    async def _close(self, browser: Browser) -> None:
        self._browsers.discard(browser)
        await browser.close()

    async def _new_page(self, browser: Browser | None = None) -> _Page:
        if browser is None or not browser.alive:
            if browser is not None:
                await self._close(browser)
            browser = await self._launch()
        session = await browser.new_page()
        page = _Page(session)
        session.on_event(page.on_event)
        for domain in ("Page", "Network", "Log", "Inspector"):
            await session.send(f"{domain}.enable")
        await session.send("Emulation.setEmulatedMedia", media="screen")
        return page

    async def _replace(self, page: _Page) -> _Page:
        browser = page.session.browser
        try:
            await asyncio.wait_for(browser.close_page(page.session), 10)
        except (BrowserError, asyncio.TimeoutError):
            await self._close(browser)  # a browser that cannot close a page is not to be trusted
        return await self._new_page(browser)
