"""Confluence clients for stored connections, whichever way they authenticate.

An API-token connection talks HTTP Basic to ``{site}/wiki``; an OAuth connection sends bearer
tokens to ``{ATLASSIAN_API_URL}/ex/confluence/{cloudId}/wiki`` and refreshes them through the
state database's per-connection lock (:mod:`confluence_pipeline.state.tokens`).
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from confluence_pipeline.confluence import (
    ConfluenceAuthError,
    ConfluenceClient,
    ConfluenceError,
    RetryPolicy,
    basic_auth,
)
from confluence_pipeline.confluence.oauth import (
    NeedsReconsent,
    OAuthApp,
    OAuthError,
    refresh_tokens,
)
from confluence_pipeline.confluence.oauth_auth import DEFAULT_MARGIN, OAuthBearerAuth
from confluence_pipeline.runtime.urls import InsecureURLError
from confluence_pipeline.settings import Settings
from confluence_pipeline.state import Connection, RegistryError, SecretKeyMismatch, StateStore


def open_client(
    store: StateStore,
    connection: Connection,
    *,
    oauth: OAuthApp | None = None,
    timeout: httpx.Timeout | None = None,
    retry: RetryPolicy | None = None,
    margin: timedelta = DEFAULT_MARGIN,
) -> ConfluenceClient:
    """A client for ``connection`` (close it, or use it as a context manager). Its requests
    pass the connection's shared rate-limit gate (``store.rate_limits``), so it backs off with
    every other client of the connection and its usage is counted per hour.

    ``oauth`` defaults to the environment's app (``Settings.oauth_app``); its client
    credentials are needed only when a token must be refreshed. Raises NeedsReconsent when
    the connection's credentials were refused or deleted, SecretKeyMismatch when they cannot
    be decrypted.
    """
    if connection.needs_reconsent:
        reason = (
            "its OAuth refresh token was refused"
            if connection.auth_kind == "oauth" and connection.access_expires_at is not None
            else "its credentials were deleted by `disconnect`"
        )
        raise NeedsReconsent(connection.name, reason)
    gate = store.rate_limits.gate(connection.id)
    options = {"timeout": timeout, "retry": retry, "gate": gate}
    if connection.auth_kind == "api_token":
        secret = store.registry.connection_secret(connection)
        auth = basic_auth(connection.email or "", secret)
        return ConfluenceClient(connection.site_url, auth, **options)  # type: ignore[arg-type]
    if connection.auth_kind == "oauth":
        if not connection.cloud_id:
            raise RegistryError(f"OAuth connection {connection.name!r} has no cloud id")
        app = oauth or Settings.from_env().oauth_app()
        source = store.tokens.source(connection.id, lambda token: refresh_tokens(app, token))
        source.current()  # decrypts now: a wrong SECRET_KEY fails here with a clear message
        auth_flow = OAuthBearerAuth(source, margin=margin)
        base_url = app.gateway_url(connection.cloud_id)
        return ConfluenceClient(base_url, auth_flow, **options)  # type: ignore[arg-type]
    raise RegistryError(f"connection {connection.name!r} has unknown auth kind")


def usage_summary(
    store: StateStore, connection_id: int | None, client: ConfluenceClient
) -> dict[str, int]:
    """What ``client`` spent (requests, approximate points) and what its connection spent in
    the current UTC hour, every client and process together; flushes the client's counters
    first."""
    client.flush_usage()
    hours = store.rate_limits.usage(connection_id, hours=1) if connection_id else []
    return {
        "confluence_requests": client.usage.requests,
        "confluence_points": client.usage.points,
        "confluence_hour_requests": hours[0].requests if hours else 0,
        "confluence_hour_points": hours[0].points if hours else 0,
    }


def open_quick_client(
    store: StateStore, connection: Connection, *, oauth: OAuthApp | None = None
) -> ConfluenceClient:
    """A client for interactive checks: 10 s timeouts, one retry, 10 s of waiting at most (a
    connection rate limited for longer fails at once)."""
    quick = RetryPolicy(max_attempts=2, total_budget=10.0, run_budget=10.0)
    timeout = httpx.Timeout(10.0, connect=5.0)
    return open_client(store, connection, oauth=oauth, timeout=timeout, retry=quick)


def check_health(
    store: StateStore, connection: Connection, *, oauth: OAuthApp | None = None
) -> str:
    """``"ok"`` after one cheap live call, else a short reason (never a secret)."""
    try:
        with open_quick_client(store, connection, oauth=oauth) as client:
            client.check_access()
    except NeedsReconsent:
        return "needs re-consent"
    except InsecureURLError as exc:
        return f"refused: {exc}"
    except SecretKeyMismatch:
        return "cannot decrypt credentials: SECRET_KEY differs"
    except ConfluenceAuthError as exc:
        return f"refused: {exc}"
    except OAuthError as exc:
        return f"cannot refresh: {exc}"
    except ConfluenceError as exc:
        return f"unreachable: {exc}"
    return "ok"
