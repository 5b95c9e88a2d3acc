"""The sealed origin: the only server Chromium can reach, serving the campaign folder and nothing else.

Chromium is started with this server as its proxy for every URL (loopback included), so any
request a template makes lands here: requests for the campaign origin get the campaign's files,
everything else is refused with a 403 the renderer reports as a QA problem. Unlike request
interception, this keeps Chromium's HTTP cache on, so fonts and images load once per page.
"""

from __future__ import annotations

import mimetypes
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ORIGIN_HOST = "campaign.pressrun.invalid"
ORIGIN = f"http://{ORIGIN_HOST}"
BLOCKED_HEADER = "X-Pressrun-Blocked"
_DOCUMENT_PREFIX = "/.pressrun-"  # hidden, so it never shadows a campaign file; at the root, so
# relative links resolve as they did when the document sat at "/"

_EXTRA_TYPES = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


class CampaignSite:
    """Serves files below `root` (minus hidden files and `exclude`) as the campaign origin."""

    def __init__(self, root: Path, exclude: Path | None = None) -> None:
        self.root = root.resolve()
        self.exclude = exclude.resolve() if exclude else None
        self._documents: dict[str, bytes] = {}
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def proxy(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> CampaignSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def publish(self, html: str) -> str:
        """Serve one document at a fresh URL of the campaign origin, so its relative links resolve."""
        path = f"{_DOCUMENT_PREFIX}{secrets.token_hex(8)}.html"
        self._documents[path] = html.encode()
        return ORIGIN + path

    def withdraw(self, url: str) -> None:
        self._documents.pop(url.removeprefix(ORIGIN), None)

    def document(self, url_path: str) -> bytes | None:
        return self._documents.get(url_path)

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, or None when it is missing or outside what may be served."""
        relative = unquote(url_path).lstrip("/")
        if not relative or any(part.startswith(".") for part in Path(relative).parts):
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        if self.exclude and candidate.is_relative_to(self.exclude):
            return None
        return candidate


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # Chromium hanging up on a refused request is routine, not an error


def _handler_for(site: CampaignSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_CONNECT(self) -> None:
            self._refuse()

        do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_CONNECT

        def _serve(self, head: bool) -> None:
            url = urlsplit(self.path)
            if url.hostname != ORIGIN_HOST:
                return self._refuse()
            if (document := site.document(url.path)) is not None:
                return self._send(200, document, "text/html; charset=utf-8", head, cache=False)
            file = site.resolve(url.path)
            if file is None:
                return self._send(404, b"not in the campaign folder", "text/plain", head)
            content_type = _EXTRA_TYPES.get(file.suffix.lower()) or (
                mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            )
            self._send(200, file.read_bytes(), content_type, head)

        def _refuse(self) -> None:
            body = b"pressrun renders are sealed: no network access"
            self.send_response(403)
            self.send_header(BLOCKED_HEADER, "1")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _send(
            self, status: int, body: bytes, content_type: str, head: bool, cache: bool = True
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header(
                "Cache-Control", "max-age=86400" if status == 200 and cache else "no-store"
            )
            self.send_header("Access-Control-Allow-Origin", ORIGIN)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
