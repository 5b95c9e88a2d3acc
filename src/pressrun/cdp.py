"""A small Chrome DevTools Protocol client speaking to Chromium over its debugging pipe.

Playwright relays every message through a Node.js driver, and a render loop moves megabytes of
screenshot per asset: that extra hop (two JSON round trips of every frame) cost as much as the
rendering itself. Here the browser is started with `--remote-debugging-pipe` and this module
reads and writes the NUL-terminated JSON messages directly (fd 3 into Chromium, fd 4 out).
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from typing import Any

from .errors import BrowserError

EventHandler = Callable[[str, dict[str, Any]], None]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class Browser:
    """One Chromium process and the pipe to it."""

    def __init__(self, process: asyncio.subprocess.Process, profile: str) -> None:
        self.process = process
        self._profile = profile
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[dict[str, Any]], str | None]] = {}
        self._handlers: dict[str | None, EventHandler] = {}
        self._closed: BaseException | None = None
        self._writer: asyncio.WriteTransport | None = None

    @classmethod
    async def launch(cls, executable: str, args: list[str]) -> Browser:
        profile = tempfile.mkdtemp(prefix="pressrun-chromium-")
        to_browser_r, to_browser_w = _pipe()
        from_browser_r, from_browser_w = _pipe()

        def _wire_pipe() -> None:  # runs in the child between fork and exec
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)
            # no Chromium outlives its parent, even one killed with SIGKILL
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

        process = await asyncio.create_subprocess_exec(
            executable,
            *args,
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=_wire_pipe,
            close_fds=False,  # every fd of ours is close-on-exec; 3 and 4 are not, by dup2
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        browser = cls(process, profile)
        await browser._connect(from_browser_r, to_browser_w)
        return browser

    async def _connect(self, read_fd: int, write_fd: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: _Reader(self), os.fdopen(read_fd, "rb", buffering=0))
        self._writer, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(write_fd, "wb", buffering=0)
        )

    @property
    def alive(self) -> bool:
        return self._closed is None

    def on(self, session: str | None, handler: EventHandler) -> None:
        """Route the events of one session (None: the browser's own) to `handler`."""
        self._handlers[session] = handler

    def forget(self, session: str) -> None:
        self._handlers.pop(session, None)
        self._fail_pending(BrowserError("the page went away"), session)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        if self._closed is not None:
            raise BrowserError(f"Chromium is gone: {self._closed}")
        assert self._writer is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = (future, session)
        self._writer.write(json.dumps(message).encode() + b"\0")
        return await future

    def dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            future, _ = self._pending.pop(message["id"], (None, None))
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(BrowserError(message["error"].get("message", "CDP error")))
            else:
                future.set_result(message.get("result", {}))
        elif handler := self._handlers.get(message.get("sessionId")):
            handler(message["method"], message.get("params", {}))

    def connection_lost(self, reason: BaseException) -> None:
        self._closed = reason
        self._fail_pending(BrowserError(f"Chromium is gone: {reason}"))

    def fail_session(self, session: str, reason: str) -> None:
        self._fail_pending(BrowserError(reason), session)

    def _fail_pending(self, error: BrowserError, session: str | None = None) -> None:
        for message_id, (future, owner) in list(self._pending.items()):
            if session is None or owner == session:
                del self._pending[message_id]
                if not future.done():
                    future.set_exception(error)

    async def new_page(self) -> Session:
        """A page in a browser context of its own (its own cache, storage and renderer process)."""
        context = (await self.send("Target.createBrowserContext"))["browserContextId"]
        target = await self.send(
            "Target.createTarget", {"url": "about:blank", "browserContextId": context}
        )
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        return Session(self, attached["sessionId"], context)

    async def close_page(self, page: Session) -> None:
        self.forget(page.id)
        await self.send("Target.disposeBrowserContext", {"browserContextId": page.context})

    async def close(self) -> None:
        """Ask Chromium to quit, kill it if it will not, and remove its profile."""
        try:
            if self.alive:
                await asyncio.wait_for(self.send("Browser.close"), 5)
        except (BrowserError, asyncio.TimeoutError):
            pass
        if self.alive:
            self.connection_lost(ConnectionAbortedError("closed by pressrun"))
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
        finally:
            if self._writer is not None:
                self._writer.close()
            shutil.rmtree(self._profile, ignore_errors=True)


class Session:
    """One attached page: commands to it, events from it."""

    def __init__(self, browser: Browser, session_id: str, context: str) -> None:
        self.browser = browser
        self.id = session_id
        self.context = context

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.send(method, params, self.id)

    def on_event(self, handler: EventHandler) -> None:
        self.browser.on(self.id, handler)

    def fail_pending(self, reason: str) -> None:
        """Fail the commands waiting on this page (it crashed: no answer will come)."""
        self.browser.fail_session(self.id, reason)


class _Reader(asyncio.Protocol):
    """Splits the byte stream from Chromium into messages (NUL-terminated JSON)."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._parts: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        start = 0
        # only the new chunk is searched: one screenshot spans hundreds of chunks
        while (end := data.find(b"\0", start)) != -1:
            self._parts.append(data[start:end])
            self._browser.dispatch(json.loads(b"".join(self._parts)))
            self._parts = []
            start = end + 1
        if start < len(data):
            self._parts.append(data[start:])

    def connection_lost(self, exc: Exception | None) -> None:
        self._browser.connection_lost(exc or EOFError("the pipe closed"))


def _pipe() -> tuple[int, int]:
    """A pipe whose ends sit above fd 4, so wiring them to 3 and 4 in the child clobbers neither."""
    ends = []
    for end in os.pipe():
        ends.append(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(end)
    return ends[0], ends[1]
