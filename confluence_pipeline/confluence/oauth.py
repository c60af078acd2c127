"""Atlassian OAuth 2.0 (3LO): authorize URL, code exchange, refresh, accessible resources.

Plain functions over one short-lived ``httpx.Client`` each (or one passed in). Token calls are
POSTs and are never retried automatically: a refresh whose answer was lost may already have
rotated the refresh token. Records redact their secrets in ``repr``; error messages carry the
endpoint path, the status and Atlassian's ``error``/``error_description``, never a token.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from confluence_pipeline.runtime.tls import verifying_context
from confluence_pipeline.runtime.urls import require_https

from .errors import (
    ConfluenceAuthError,
    ConfluenceError,
    ConfluenceResponseError,
    describe,
    error_for_response,
    error_for_transport,
)

DEFAULT_AUTH_URL = "https://auth.atlassian.com"
DEFAULT_API_URL = "https://api.atlassian.com"
DEFAULT_REDIRECT_URI = "http://localhost:8001/api/confluence/callback"
DEFAULT_SCOPES = (
    "read:confluence-content.all",
    "read:confluence-space.summary",
    "search:confluence",  # CQL search: change probe, restrictions and labels in one pass
    "read:content-details:confluence",  # granular: content search, restrictions
    "read:space:confluence",
    "read:page:confluence",
    "read:attachment:confluence",  # attachment listings and downloads (indexes with attachments)
    "offline_access",
)
AUDIENCE = "api.atlassian.com"
_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class OAuthError(ConfluenceError):
    """An OAuth step failed (configuration, token endpoint, consent); one line, no secrets."""


class InvalidGrant(OAuthError, ConfluenceAuthError):
    """The token endpoint refused the code or refresh token (``invalid_grant`` and kin): the
    grant is dead and only a new consent helps."""


class NeedsReconsent(OAuthError, ConfluenceAuthError):
    """A connection's refresh token was refused earlier; runs fail until it is reconnected."""

    def __init__(
        self, connection: str, reason: str = "its OAuth refresh token was refused"
    ) -> None:
        super().__init__(
            f"connection {connection!r} needs re-consent ({reason}): "
            f"run `confluence-pipeline connect --name {connection} --replace`"
        )
        self.connection = connection


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """An Atlassian OAuth 2.0 (3LO) app and the endpoints it talks to."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    auth_url: str = DEFAULT_AUTH_URL
    api_url: str = DEFAULT_API_URL
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OAuthApp:
        """Reads ``CONFLUENCE_CLIENT_ID``, ``CONFLUENCE_CLIENT_SECRET``,
        ``CONFLUENCE_REDIRECT_URI``, ``ATLASSIAN_AUTH_URL``, ``ATLASSIAN_API_URL`` and
        ``CONFLUENCE_SCOPES`` (space-separated); unset ones take the defaults, missing client
        credentials stay empty (see :meth:`require_credentials`). The Atlassian URLs must be
        https (plain http only on loopback hosts): InsecureURLError otherwise."""
        scopes = tuple((env.get("CONFLUENCE_SCOPES") or "").split()) or DEFAULT_SCOPES
        return cls(
            client_id=env.get("CONFLUENCE_CLIENT_ID", ""),
            client_secret=env.get("CONFLUENCE_CLIENT_SECRET", ""),
            redirect_uri=env.get("CONFLUENCE_REDIRECT_URI") or DEFAULT_REDIRECT_URI,
            auth_url=_endpoint(env, "ATLASSIAN_AUTH_URL", DEFAULT_AUTH_URL),
            api_url=_endpoint(env, "ATLASSIAN_API_URL", DEFAULT_API_URL),
            scopes=scopes,
        )

    def require_credentials(self) -> OAuthApp:
        """Returns self; raises OAuthError naming the missing environment variables."""
        missing = [
            name
            for name, value in (
                ("CONFLUENCE_CLIENT_ID", self.client_id),
                ("CONFLUENCE_CLIENT_SECRET", self.client_secret),
            )
            if not value
        ]
        if missing:
            raise OAuthError(
                f"{' and '.join(missing)} not set: OAuth needs the Atlassian app's credentials "
                "(see README: Setting up the Atlassian OAuth app)"
            )
        return self

    def gateway_url(self, cloud_id: str) -> str:
        """``{api_url}/ex/confluence/{cloud_id}``: the REST base for OAuth bearer tokens."""
        return f"{self.api_url}/ex/confluence/{cloud_id}"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Tokens from the token endpoint; ``expires_at`` is when the access token dies (UTC)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        refresh = "<redacted>" if self.refresh_token else None
        return (
            f"TokenSet(access_token=<redacted>, refresh_token={refresh}, "
            f"expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"
        )

    __str__ = __repr__

    def expires_within(self, margin: timedelta, *, now: datetime | None = None) -> bool:
        return self.expires_at - margin <= (now or datetime.now(UTC))

    def to_secret(self) -> str:
        """The JSON kept (encrypted) in the state database."""
        return json.dumps({"access_token": self.access_token, "refresh_token": self.refresh_token})

    @classmethod
    def from_secret(
        cls, secret: str, *, expires_at: datetime, scopes: Sequence[str] = ()
    ) -> TokenSet:
        data = json.loads(secret) if secret else {}
        return cls(
            access_token=str(data.get("access_token") or ""),
            refresh_token=data.get("refresh_token") or None,
            expires_at=expires_at,
            scopes=tuple(scopes),
        )


@dataclass(frozen=True, slots=True)
class AccessibleResource:
    """A site the token may reach: ``id`` is its cloud id."""

    id: str
    url: str
    name: str
    scopes: tuple[str, ...]
    avatar_url: str | None = None


def new_state() -> str:
    """A random ``state`` for one authorization request (CSRF protection)."""
    return secrets.token_urlsafe(24)


def authorize_url(app: OAuthApp, state: str) -> str:
    """The consent URL to open in a browser."""
    query = {
        "audience": AUDIENCE,
        "client_id": app.client_id,
        "scope": " ".join(app.scopes),
        "redirect_uri": app.redirect_uri,
        "state": state,
        "response_type": "code",
        "prompt": "consent",
    }
    return f"{app.auth_url}/authorize?{urlencode(query)}"


def exchange_code(app: OAuthApp, code: str, *, http: httpx.Client | None = None) -> TokenSet:
    """Trades an authorization code for tokens; InvalidGrant if the code is refused."""
    body = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": app.redirect_uri,
    }
    return _token_call(app, body, http)


def refresh_tokens(
    app: OAuthApp, refresh_token: str, *, http: httpx.Client | None = None
) -> TokenSet:
    """Trades a refresh token for new tokens (the refresh token rotates: the old one dies);
    InvalidGrant when it is unknown, expired, revoked or already rotated."""
    if not refresh_token:
        raise InvalidGrant("no refresh token stored (the consent lacked offline_access)")
    body = {
        "grant_type": "refresh_token",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": refresh_token,
    }
    return _token_call(app, body, http)


def accessible_resources(
    app: OAuthApp, access_token: str, *, http: httpx.Client | None = None
) -> list[AccessibleResource]:
    """The sites the token's consent covers, as Atlassian lists them."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    url = f"{app.api_url}/oauth/token/accessible-resources"
    response = _call(http, "GET", url, headers=headers)
    body = _json_body(response)
    if not isinstance(body, list):
        raise _unexpected(response, "expected a list of sites")
    sites = []
    for item in body:
        if not isinstance(item, dict) or not item.get("id") or not item.get("url"):
            raise _unexpected(response, "a site lacks 'id' or 'url'")
        sites.append(
            AccessibleResource(
                id=str(item["id"]),
                url=str(item["url"]).rstrip("/"),
                name=str(item.get("name") or urlsplit(str(item["url"])).hostname or item["id"]),
                scopes=tuple(str(s) for s in item.get("scopes") or ()),
                avatar_url=item.get("avatarUrl"),
            )
        )
    return sites


# -- plumbing ------------------------------------------------------------------------------------


def _endpoint(env: Mapping[str, str], name: str, default: str) -> str:
    return require_https(env.get(name) or default, name).rstrip("/")


# 403 invalid_grant is documented; confluence.js measured 403 unauthorized_client for a
# rotated-out refresh token.
_DEAD_GRANT_ERRORS = frozenset({"invalid_grant", "unauthorized_client"})


def _token_call(app: OAuthApp, body: dict[str, str], http: httpx.Client | None) -> TokenSet:
    app.require_credentials()
    response = _call(http, "POST", f"{app.auth_url}/oauth/token", json=body, accept_errors=True)
    if not response.is_success:
        error = _oauth_error_code(response)
        failure = error_for_response(response)
        if error in _DEAD_GRANT_ERRORS:
            raise InvalidGrant(str(failure), request=response.request, response=response)
        raise OAuthError(str(failure), request=response.request, response=response)
    data = _json_body(response)
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise _unexpected(response, "no access_token in the token response")
    expires_in = data.get("expires_in", 3600)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        raise _unexpected(response, "expires_in is not a number")
    refresh = data.get("refresh_token")
    return TokenSet(
        access_token=data["access_token"],
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=datetime.now(UTC) + timedelta(seconds=float(expires_in)),
        scopes=tuple(str(data.get("scope") or "").split()),
    )


def _call(
    http: httpx.Client | None,
    method: str,
    url: str,
    *,
    accept_errors: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    client = http or httpx.Client(timeout=_TIMEOUT, verify=verifying_context())
    try:
        response = client.request(method, url, **kwargs)
        response.read()
    except httpx.TransportError as exc:
        request = client.build_request(method, url)
        raise OAuthError(str(error_for_transport(request, exc)), request=request) from None
    finally:
        if http is None:
            client.close()
    if not response.is_success and not accept_errors:
        failure = error_for_response(response)
        raise OAuthError(str(failure), request=response.request, response=response)
    return response


def _oauth_error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise _unexpected(response, "body is not JSON") from None


def _unexpected(response: httpx.Response, detail: str) -> ConfluenceResponseError:
    return ConfluenceResponseError(
        f"{describe(response.request)} -> {response.status_code}: {detail}",
        request=response.request,
        response=response,
    )
