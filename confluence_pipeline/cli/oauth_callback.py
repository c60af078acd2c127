"""The loopback server that receives the browser after OAuth consent.

It listens on the redirect URI's host, port and path (``http://localhost:8001/api/confluence/
callback`` by default) and takes exactly one answer carrying the expected ``state``. A request
with another ``state`` gets 400 and is ignored (the server keeps waiting, so a web page that
sends the browser here cannot abort `connect`); a refused consent gets a failure page at once;
with a code, the browser waits until the command has exchanged it and stored the connection
(:meth:`CallbackServer.finish`), so the page tells the real outcome. Requests are never logged
(the query carries the authorization code).
"""

from __future__ import annotations

import contextlib
import html
import queue
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from confluence_pipeline.errors import PipelineError

_PAGE_WAIT_S = 120.0
_LOOPBACK = {"localhost": "127.0.0.1", "127.0.0.1": "127.0.0.1", "::1": "::1"}


class CallbackError(PipelineError):
    """The callback server cannot run (bad redirect URI, port in use); one line."""


@dataclass(frozen=True, slots=True)
class Callback:
    """What the browser brought back: a ``code``, or an ``error`` with its description."""

    code: str | None
    error: str | None = None
    description: str = ""

    def __repr__(self) -> str:
        code = "<redacted>" if self.code else None
        return f"Callback(code={code}, error={self.error!r})"


class CallbackServer:
    """Serves the redirect URI until one callback arrived; a context manager."""

    def __init__(self, redirect_uri: str, expected_state: str) -> None:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
        if parts.scheme != "http" or host not in _LOOPBACK:
            raise CallbackError(
                f"CONFLUENCE_REDIRECT_URI must be an http:// URL on localhost or 127.0.0.1 "
                f"for `connect` to receive the callback, not {redirect_uri!r}"
            )
        self.path = parts.path or "/"
        self.port = parts.port or 80
        self._state = expected_state
        self._answers: queue.Queue[Callback] = queue.Queue(maxsize=1)
        self._outcome: queue.Queue[tuple[bool, str]] = queue.Queue(maxsize=1)
        self._taken = threading.Lock()
        self._answered = threading.Event()  # the callback's page was written
        try:
            self._server = ThreadingHTTPServer((_LOOPBACK[host], self.port), self._handler())
        except OSError as exc:
            raise CallbackError(
                f"cannot listen on {host}:{self.port} for the OAuth callback "
                f"(CONFLUENCE_REDIRECT_URI): {exc.strerror or exc}"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._outcome.empty():
            self.finish(False, "The connect command stopped before finishing.")
        if self._taken.locked():
            self._answered.wait(timeout=10)  # let the browser get its page before exiting
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> Callback | None:
        """The first callback, or None when none came within ``timeout`` seconds."""
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return None

    def finish(self, ok: bool, message: str) -> None:
        """Lets the waiting browser page show the outcome (once)."""
        with contextlib.suppress(queue.Full):
            self._outcome.put_nowait((ok, message))

    # -- request handling --------------------------------------------------------------------

    def _accept(self, query: dict[str, list[str]]) -> tuple[int, bool, str, bool]:
        """Returns the page to answer with (status, success, message) and whether this request
        was the one answer. A foreign ``state`` is refused without taking the slot: any web
        page can send the browser here, and that must not end the real consent."""
        state = (query.get("state") or [""])[0]
        if not secrets.compare_digest(state.encode(), self._state.encode()):
            return (
                400,
                False,
                (
                    "This answer does not belong to the running connect command (state mismatch) "
                    "and was ignored; nothing was saved."
                ),
                False,
            )
        if not self._taken.acquire(blocking=False):
            return 409, False, "This connect attempt already received its answer.", False
        error = (query.get("error") or [""])[0]
        code = (query.get("code") or [""])[0]
        if error or not code:
            description = (query.get("error_description") or [""])[0]
            self._answers.put(Callback(None, error or "no_code", description))
            reason = "access was denied" if error == "access_denied" else (error or "no code")
            return 400, False, f"Confluence was not connected: {reason}. Nothing was saved.", True
        self._answers.put(Callback(code))
        try:
            ok, message = self._outcome.get(timeout=_PAGE_WAIT_S)
        except queue.Empty:
            return 202, True, "Authorization received; see the terminal for the outcome.", True
        return (200 if ok else 500), ok, message, True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != outer.path:
                    self._page(404, False, "Nothing here: this server only takes the callback.")
                    return
                status, ok, message, the_answer = outer._accept(parse_qs(parts.query))
                try:
                    self._page(status, ok, message)
                finally:
                    if the_answer:  # its page was delivered
                        outer._answered.set()

            def _page(self, status: int, ok: bool, message: str) -> None:
                body = _html(ok, message).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None  # the query string holds the authorization code

        return Handler


def _html(ok: bool, message: str) -> str:
    title = "Connected" if ok else "Not connected"
    colour = "#006644" if ok else "#bf2600"
    hint = "You can close this tab and return to the terminal."
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} - "
        "confluence-pipeline</title><style>body{font-family:system-ui,sans-serif;"
        "max-width:36rem;margin:4rem auto;color:#172b4d}</style></head><body>"
        f"<h1 style='color:{colour}'>{title}</h1><p id='message'>{html.escape(message)}</p>"
        f"<p>{hint}</p></body></html>"
    )
