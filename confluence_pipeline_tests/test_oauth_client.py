"""The OAuth building blocks of the Confluence client: URLs, settings, the bearer auth."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from confluence_pipeline.confluence import ConfluenceAuthError
from confluence_pipeline.confluence.oauth import (
    DEFAULT_REDIRECT_URI,
    OAuthApp,
    OAuthError,
    authorize_url,
    exchange_code,
    refresh_tokens,
)
from confluence_pipeline.state import StateStore
from confluence_pipeline.sync.connections import open_client
from confluence_pipeline_tests.oauth_world import (
    OAuthSandbox,
    consent_code,
    store_oauth_connection,
)


def test_authorize_url_has_the_documented_shape() -> None:
    app = OAuthApp("cid", "csecret")
    url = urlsplit(authorize_url(app, "st4te"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://auth.atlassian.com/authorize"
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert query == {
        "audience": "api.atlassian.com",
        "client_id": "cid",
        "scope": "read:confluence-content.all read:confluence-space.summary search:confluence "
        "read:content-details:confluence read:space:confluence read:page:confluence "
        "read:attachment:confluence offline_access",
        "redirect_uri": "http://localhost:8001/api/confluence/callback",
        "state": "st4te",
        "response_type": "code",
        "prompt": "consent",
    }
    assert "csecret" not in authorize_url(app, "x")


def test_settings_come_from_the_environment_with_the_seed_defaults() -> None:
    app = OAuthApp.from_env({"CONFLUENCE_CLIENT_ID": "cid", "ATLASSIAN_API_URL": "https://x/"})
    assert app.redirect_uri == DEFAULT_REDIRECT_URI and app.api_url == "https://x"
    assert app.auth_url == "https://auth.atlassian.com"
    assert app.gateway_url("c1") == "https://x/ex/confluence/c1"
    with pytest.raises(OAuthError, match="CONFLUENCE_CLIENT_SECRET not set"):
        app.require_credentials()
    scoped = OAuthApp.from_env({"CONFLUENCE_SCOPES": "read:page:confluence offline_access"})
    assert scoped.scopes == ("read:page:confluence", "offline_access")


def test_unreachable_token_endpoint_is_one_line_without_secrets() -> None:
    app = OAuthApp("cid", "csecret-value", auth_url="http://127.0.0.1:9")
    with pytest.raises(OAuthError) as failed:
        refresh_tokens(app, "rt-secret-value")
    text = str(failed.value)
    assert "POST /oauth/token" in text and "\n" not in text
    assert "csecret-value" not in text and "rt-secret-value" not in text


def test_a_token_the_server_keeps_refusing_fails_after_one_retry(
    store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    oauth_sandbox.admin("POST", access_token_ttl=0)  # every new token is born expired
    oauth_sandbox.expire_access_tokens()
    with open_client(store, connection, oauth=oauth_sandbox.oauth_app()) as client:
        with pytest.raises(ConfluenceAuthError, match="401"):
            client.check_access()
        assert oauth_sandbox.refreshes() == 1  # once on the 401, then the error: no loop
        with pytest.raises(ConfluenceAuthError, match="401"):
            client.check_access()
        assert oauth_sandbox.refreshes() == 3  # ahead of expiry, and once on the 401


def test_exchange_without_offline_access_gives_no_refresh_token(
    oauth_sandbox: OAuthSandbox,
) -> None:
    app = oauth_sandbox.oauth_app()
    narrow = OAuthApp(
        app.client_id,
        app.client_secret,
        app.redirect_uri,
        auth_url=app.auth_url,
        api_url=app.api_url,
        scopes=("read:page:confluence",),
    )
    code = consent_code(oauth_sandbox, app=narrow)
    tokens = exchange_code(narrow, code)
    assert tokens.refresh_token is None and tokens.scopes == ("read:page:confluence",)


def test_a_fresh_token_refused_again_is_not_refreshed_on_every_request(
    store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    """A 401 right after a refresh means scope or permission, not expiry: later requests with
    that token fail without another refresh (until it nears its expiry)."""
    connection = store_oauth_connection(store, oauth_sandbox)
    oauth_sandbox.admin("POST", access_token_ttl=0)
    oauth_sandbox.expire_access_tokens()
    never_early = timedelta(hours=-1)  # keep born-expired tokens from refreshing early
    app = oauth_sandbox.oauth_app()
    with open_client(store, connection, oauth=app, margin=never_early) as client:
        for _ in range(3):
            with pytest.raises(ConfluenceAuthError, match="401"):
                client.check_access()
    assert oauth_sandbox.refreshes() == 1
