"""The emulated Atlassian authorization server's memory: codes, token families, counters.

Behaviour follows ``docs/api-contracts.md`` A2: single-use authorization codes bound to their
redirect URI; access tokens that live ``access_token_ttl`` seconds; refresh tokens (only with
``offline_access``) that rotate on every use, where reusing a rotated token after
``refresh_leeway`` seconds (Atlassian: 600; here 0 by default) kills the whole family and
answers 403 ``invalid_grant``. Not thread-safe: used from the app's event loop only.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
CODE_TTL_S = 600
_OAUTH_SITE_NS = uuid.UUID("3f0a3b4e-6d0c-4a8e-9a59-5a1f0e2b7c11")


class OAuthRefusal(Exception):
    """A request the server refuses: HTTP ``status`` and an OAuth ``error`` code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires: float


@dataclass
class _Family:
    client_id: str
    scopes: tuple[str, ...]
    dead: bool = False


@dataclass
class _Refresh:
    family: _Family
    rotated_at: float | None = None


@dataclass
class _Access:
    family: _Family
    expires: float


@dataclass
class Grants:
    """Clients, issued codes and tokens, settings and counters of the emulated server."""

    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    access_token_ttl: float = 3600.0
    refresh_leeway: float = 0.0
    token_delay_ms: int = 0
    clock: Callable[[], float] = time.time
    counters: Counter[str] = field(default_factory=Counter)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _access: dict[str, _Access] = field(default_factory=dict)
    _used_codes: list[str] = field(default_factory=list)

    # -- authorize ---------------------------------------------------------------------------

    def check_client(self, client_id: str) -> None:
        if client_id not in self.clients:
            raise OAuthRefusal(400, "invalid_client", "Unknown client_id")

    def issue_code(self, client_id: str, redirect_uri: str, scopes: tuple[str, ...]) -> str:
        code = "sbx-code-" + secrets.token_urlsafe(24)
        self._codes[code] = _Code(client_id, redirect_uri, scopes, self.clock() + CODE_TTL_S)
        return code

    # -- token endpoint ----------------------------------------------------------------------

    def token(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answers a token request body; raises OAuthRefusal. Counts every call."""
        self.counters["token_requests"] += 1
        grant_type = str(body.get("grant_type") or "")
        self.counters[f"grant:{grant_type or 'missing'}"] += 1
        try:
            self._authenticate(body)
            if grant_type == "authorization_code":
                return self._from_code(body)
            if grant_type == "refresh_token":
                return self._from_refresh(body)
            raise OAuthRefusal(400, "unsupported_grant_type", "Unsupported grant type")
        except OAuthRefusal as refusal:
            self.counters[f"refused:{refusal.error}"] += 1
            raise

    def _authenticate(self, body: Mapping[str, Any]) -> None:
        expected = self.clients.get(str(body.get("client_id") or ""))
        given = str(body.get("client_secret") or "")
        if expected is None or not secrets.compare_digest(expected, given):
            raise OAuthRefusal(401, "access_denied", "Unauthorized")

    def _from_code(self, body: Mapping[str, Any]) -> dict[str, Any]:
        code = self._codes.pop(str(body.get("code") or ""), None)
        if code is not None:
            self._used_codes.append(str(body["code"]))
        valid = (
            code is not None
            and code.expires > self.clock()
            and code.client_id == body.get("client_id")
            and code.redirect_uri == body.get("redirect_uri")
        )
        if code is None or not valid:
            raise OAuthRefusal(403, "invalid_grant", "Invalid authorization code")
        return self._issue(_Family(code.client_id, code.scopes))

    def _from_refresh(self, body: Mapping[str, Any]) -> dict[str, Any]:
        record = self._refresh.get(str(body.get("refresh_token") or ""))
        if record is None or record.family.dead or record.family.client_id != body["client_id"]:
            raise OAuthRefusal(403, "invalid_grant", "Unknown or invalid refresh token.")
        now = self.clock()
        if record.rotated_at is not None and now - record.rotated_at > self.refresh_leeway:
            record.family.dead = True  # reuse after the leeway: the whole family dies
            self.counters["families_killed"] += 1
            raise OAuthRefusal(403, "invalid_grant", "Unknown or invalid refresh token.")
        if record.rotated_at is None:
            record.rotated_at = now
        return self._issue(record.family)

    def _issue(self, family: _Family) -> dict[str, Any]:
        access = "sbx-at-" + secrets.token_urlsafe(32)
        self._access[access] = _Access(family, self.clock() + self.access_token_ttl)
        self.counters["access_tokens_issued"] += 1
        response: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_ttl),
            "scope": " ".join(family.scopes),
        }
        if "offline_access" in family.scopes:
            refresh = "sbx-rt-" + secrets.token_urlsafe(32)
            self._refresh[refresh] = _Refresh(family)
            response["refresh_token"] = refresh
        return response

    # -- resource side -----------------------------------------------------------------------

    def access_ok(self, token: str) -> bool:
        """Whether ``token`` is an issued access token that has not expired."""
        record = self._access.get(token)
        return record is not None and record.expires > self.clock()

    def scopes_of(self, token: str) -> tuple[str, ...] | None:
        return self._access[token].family.scopes if self.access_ok(token) else None

    # -- admin -------------------------------------------------------------------------------

    def issued_secrets(self) -> list[str]:
        """Every code, access and refresh token handed out (for tests that scan for leaks)."""
        return [*self._codes, *self._access, *self._refresh, *self._used_codes]

    def expire_access_tokens(self) -> int:
        """Every issued access token expires now; returns how many were live."""
        now = self.clock()
        live = [record for record in self._access.values() if record.expires > now]
        for record in live:
            record.expires = now
        return len(live)

    def revoke_refresh_tokens(self) -> int:
        """Kills every token family (as revoking the app's consent would)."""
        families = {id(r.family): r.family for r in self._refresh.values() if not r.family.dead}
        for family in families.values():
            family.dead = True
        return len(families)

    def settings(self) -> dict[str, Any]:
        return {
            "access_token_ttl": self.access_token_ttl,
            "refresh_leeway": self.refresh_leeway,
            "token_delay_ms": self.token_delay_ms,
        }

    def configure(self, data: Mapping[str, Any]) -> None:
        for name in ("access_token_ttl", "refresh_leeway"):
            if data.get(name) is not None:
                value = data[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"'{name}' must be a number >= 0")
                setattr(self, name, float(value))
        if data.get("token_delay_ms") is not None:
            value = data["token_delay_ms"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("'token_delay_ms' must be an integer >= 0")
            self.token_delay_ms = value

    def stats(self) -> dict[str, Any]:
        counters = dict(self.counters)
        return {
            "token_requests": counters.get("token_requests", 0),
            "authorization_code": counters.get("grant:authorization_code", 0),
            "refresh_token": counters.get("grant:refresh_token", 0),
            "refused": {
                key.split(":", 1)[1]: value
                for key, value in counters.items()
                if key.startswith("refused:")
            },
            "families_killed": counters.get("families_killed", 0),
            "access_tokens_issued": counters.get("access_tokens_issued", 0),
        }


def extra_site_id(cloud_id: str, number: int) -> str:
    """A stable cloud id for the ``number``-th extra site listed next to the real one."""
    return str(uuid.uuid5(_OAUTH_SITE_NS, f"{cloud_id}/{number}"))
