"""``httpx.Auth`` for OAuth bearer tokens that refreshes before expiry and once on a 401.

The tokens come from a :class:`TokenSource` (the state database implements it with a
per-connection lock, so concurrent workers refresh once and share the result). The auth keeps
the last token in memory and asks the source again only when that token is about to expire or
was refused; it is safe to share across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from datetime import timedelta
from typing import Protocol

import httpx

from .oauth import TokenSet

DEFAULT_MARGIN = timedelta(minutes=5)


class TokenSource(Protocol):
    def current(self) -> TokenSet:
        """The tokens as last stored (no refresh)."""
        ...

    def refreshed(self, stale: TokenSet | None, margin: timedelta) -> TokenSet:
        """Tokens that are not ``stale`` and live longer than ``margin``: the stored ones if
        another worker already replaced ``stale``, else freshly refreshed ones."""
        ...


class OAuthBearerAuth(httpx.Auth):
    """Sends ``Authorization: Bearer``; refreshes when the token expires within ``margin`` and
    retries a request once with a refreshed token when it is answered 401 (unless that token
    was itself refused right after a refresh)."""

    requires_request_body = True

    def __init__(self, source: TokenSource, *, margin: timedelta = DEFAULT_MARGIN) -> None:
        self._source = source
        self._margin = margin
        self._lock = threading.Lock()
        self._token: TokenSet | None = None
        self._refused_fresh: str | None = None

    def __repr__(self) -> str:
        return "OAuthBearerAuth(<redacted>)"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable_token()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code != 401 or token.access_token == self._refused_fresh:
            return
        token = self._replace(token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code == 401:
            # a just-refreshed token refused too: scope or permission, not expiry; do not
            # refresh for every request it is refused on
            self._refused_fresh = token.access_token

    def _usable_token(self) -> TokenSet:
        with self._lock:
            if self._token is None:
                self._token = self._source.current()
            if self._token.expires_within(self._margin):
                self._token = self._source.refreshed(self._token, self._margin)
            return self._token

    def _replace(self, refused: TokenSet) -> TokenSet:
        with self._lock:
            if self._token is not None and self._token.access_token != refused.access_token:
                return self._token  # another thread already replaced it
            self._token = self._source.refreshed(refused, self._margin)
            return self._token


class StaticTokens:
    """A ``TokenSource`` that never refreshes (to check a fresh consent before storing it)."""

    def __init__(self, tokens: TokenSet) -> None:
        self._tokens = tokens

    def __repr__(self) -> str:
        return "StaticTokens(<redacted>)"

    def current(self) -> TokenSet:
        return self._tokens

    def refreshed(self, stale: TokenSet | None, margin: timedelta) -> TokenSet:
        return self._tokens
