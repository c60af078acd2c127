"""OAuth test helpers: drive the emulator's consent over plain HTTP, read its counters, store an
OAuth connection, and run `connect` as a user would."""

from __future__ import annotations

import contextlib
import html
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

from confluence_pipeline.confluence.oauth import (
    OAuthApp,
    accessible_resources,
    authorize_url,
    exchange_code,
    new_state,
)
from confluence_pipeline.sandbox.confluence import CLIENT_ID, CLIENT_SECRET, create_app
from confluence_pipeline.sandbox.server import ServerThread, free_port
from confluence_pipeline.state import Connection, StateStore

CALLBACK_PATH = "/api/confluence/callback"


@dataclass
class OAuthSandbox:
    """The OAuth side of a Confluence emulator at ``url`` (``app`` is its Starlette app)."""

    url: str
    app: Starlette

    def oauth_app(self, redirect_uri: str = "http://127.0.0.1:9/callback") -> OAuthApp:
        return OAuthApp(CLIENT_ID, CLIENT_SECRET, redirect_uri, auth_url=self.url, api_url=self.url)

    def env(self, redirect_port: int | None = None) -> dict[str, str]:
        """Environment for the CLI: client credentials, both Atlassian URLs, a redirect URI."""
        port = redirect_port or free_port()
        return {
            "CONFLUENCE_CLIENT_ID": CLIENT_ID,
            "CONFLUENCE_CLIENT_SECRET": CLIENT_SECRET,
            "CONFLUENCE_REDIRECT_URI": f"http://127.0.0.1:{port}{CALLBACK_PATH}",
            "ATLASSIAN_AUTH_URL": self.url,
            "ATLASSIAN_API_URL": self.url,
        }

    def decide(self, consent_url: str, *, accept: bool = True) -> str:
        """Opens the consent page, presses Accept (or Deny); returns the redirect location."""
        page = httpx.get(consent_url, timeout=30).raise_for_status()
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        form = {key: html.unescape(value) for key, value in fields.items()}
        form["decision"] = "accept" if accept else "deny"
        answer = httpx.post(f"{self.url}/authorize", data=form, timeout=30)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def admin(self, method: str = "GET", path: str = "", **body: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{self.url}/_sandbox/oauth{path}", json=body or None)
        return dict(response.raise_for_status().json())

    def refreshes(self) -> int:
        return int(self.admin()["refresh_token"])

    def expire_access_tokens(self) -> None:
        self.admin("POST", "/expire")

    def revoke_refresh_tokens(self) -> None:
        self.admin("POST", "/revoke")

    def issued_secrets(self) -> list[str]:
        return list(self.app.state.oauth.issued_secrets())


@contextlib.contextmanager
def serve_oauth_sandbox(
    *, spaces: int = 2, pages_per_space: int = 10, **options: Any
) -> Iterator[OAuthSandbox]:
    """A Confluence emulator on a free port, seen from its OAuth side."""
    app = create_app(spaces=spaces, pages_per_space=pages_per_space, **options)
    with ServerThread(app) as server:
        yield OAuthSandbox(server.url, app)


def consent_code(sandbox: OAuthSandbox, app: OAuthApp | None = None) -> str:
    """What a browser brings back after Accept: the authorization code (state checked)."""
    state = new_state()
    location = sandbox.decide(authorize_url(app or sandbox.oauth_app(), state))
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def store_oauth_connection(
    store: StateStore, sandbox: OAuthSandbox, name: str = "sandbox", code: str | None = None
) -> Connection:
    """Exchanges ``code`` (default: a fresh consent over HTTP) and stores the connection, as
    `connect` does."""
    app = sandbox.oauth_app()
    tokens = exchange_code(app, code or consent_code(sandbox))
    site = accessible_resources(app, tokens.access_token)[0]
    return store.registry.add_connection(
        name=name,
        site_url=site.url,
        cloud_id=site.id,
        auth_kind="oauth",
        secret=tokens.to_secret(),
        scopes=tokens.scopes,
        access_expires_at=tokens.expires_at,
    )


def read_consent_url(process: subprocess.Popen[str]) -> str:
    """The authorize URL `connect --no-browser` prints (read line by line while it runs)."""
    assert process.stdout is not None
    seen = []
    for line in _lines(process.stdout):
        seen.append(line)
        if line.startswith("http"):
            return line.strip()
    raise AssertionError(f"no URL printed; output: {seen!r}, stderr: {process.stderr!r}")


def _lines(stream: Any) -> Iterator[str]:
    while True:
        line = stream.readline()
        if not line:
            return
        yield line
