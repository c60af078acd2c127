"""The emulator's OAuth 3LO endpoints, driven over HTTP by the production OAuth functions."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from confluence_pipeline.confluence.oauth import (
    InvalidGrant,
    OAuthError,
    accessible_resources,
    authorize_url,
    exchange_code,
    refresh_tokens,
)
from confluence_pipeline.sandbox.confluence import CLIENT_ID, CLIENT_SECRET
from confluence_pipeline_tests.oauth_world import OAuthSandbox

pytestmark = pytest.mark.sandbox(oauth_extra_sites=1)


def _code(oauth_sandbox: OAuthSandbox, state: str = "s-1") -> str:
    location = oauth_sandbox.decide(authorize_url(oauth_sandbox.oauth_app(), state))
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def test_accept_redirects_with_code_and_state_and_deny_with_access_denied(
    oauth_sandbox: OAuthSandbox,
) -> None:
    app = oauth_sandbox.oauth_app()
    page = httpx.get(authorize_url(app, "xyz"))
    assert page.status_code == 200 and "Accept" in page.text and "Deny" in page.text
    assert "read:page:confluence" in page.text

    accepted = urlsplit(oauth_sandbox.decide(authorize_url(app, "xyz")))
    assert f"{accepted.scheme}://{accepted.netloc}{accepted.path}" == app.redirect_uri
    assert set(parse_qs(accepted.query)) == {"code", "state"}

    denied = parse_qs(urlsplit(oauth_sandbox.decide(authorize_url(app, "xyz"), accept=False)).query)
    assert denied["error"] == ["access_denied"] and denied["state"] == ["xyz"]
    assert "code" not in denied


def test_consent_page_refuses_unknown_client(oauth_sandbox: OAuthSandbox) -> None:
    app = oauth_sandbox.oauth_app()
    url = authorize_url(app, "s").replace(CLIENT_ID, "someone-else")
    assert httpx.get(url).status_code == 400


def test_code_is_single_use_and_bound_to_its_redirect_uri(oauth_sandbox: OAuthSandbox) -> None:
    app = oauth_sandbox.oauth_app()
    code = _code(oauth_sandbox)
    other = oauth_sandbox.oauth_app(redirect_uri="http://127.0.0.1:9/elsewhere")
    with pytest.raises(InvalidGrant, match="403"):
        exchange_code(other, code)  # wrong redirect URI burns the code, as a replay would
    code = _code(oauth_sandbox)
    tokens = exchange_code(app, code)
    assert tokens.refresh_token and "offline_access" in tokens.scopes
    with pytest.raises(InvalidGrant):
        exchange_code(app, code)


def test_token_endpoint_accepts_form_bodies_and_refuses_wrong_client_secret(
    oauth_sandbox: OAuthSandbox,
) -> None:
    app = oauth_sandbox.oauth_app()
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": _code(oauth_sandbox),
        "redirect_uri": app.redirect_uri,
    }
    answer = httpx.post(f"{oauth_sandbox.url}/oauth/token", data=form)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] and "read:space:confluence" in body["scope"].split()

    wrong = dataclasses.replace(app, client_secret="not-the-secret")
    with pytest.raises(OAuthError, match="401") as refused:
        refresh_tokens(wrong, body["refresh_token"])
    assert not isinstance(refused.value, InvalidGrant)
    assert "not-the-secret" not in str(refused.value)


def test_refresh_tokens_rotate_and_reusing_a_rotated_one_kills_the_family(
    oauth_sandbox: OAuthSandbox,
) -> None:
    app = oauth_sandbox.oauth_app()
    first = exchange_code(app, _code(oauth_sandbox))
    second = refresh_tokens(app, first.refresh_token or "")
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token

    with pytest.raises(InvalidGrant, match="403 Forbidden: Unknown or invalid refresh token"):
        refresh_tokens(app, first.refresh_token or "")
    with pytest.raises(InvalidGrant):  # the whole family died with the reuse
        refresh_tokens(app, second.refresh_token or "")
    stats = oauth_sandbox.admin()
    assert stats["refresh_token"] == 3 and stats["families_killed"] == 1
    assert stats["refused"] == {"invalid_grant": 2}


def test_rotated_token_may_be_reused_within_the_configured_leeway(
    oauth_sandbox: OAuthSandbox,
) -> None:
    oauth_sandbox.admin("POST", refresh_leeway=600)
    app = oauth_sandbox.oauth_app()
    first = exchange_code(app, _code(oauth_sandbox))
    refresh_tokens(app, first.refresh_token or "")
    again = refresh_tokens(app, first.refresh_token or "")
    assert again.refresh_token and again.refresh_token != first.refresh_token


def test_accessible_resources_lists_every_site_and_needs_a_live_token(
    oauth_sandbox: OAuthSandbox,
) -> None:
    app = oauth_sandbox.oauth_app()
    tokens = exchange_code(app, _code(oauth_sandbox))
    sites = accessible_resources(app, tokens.access_token)
    assert [s.name for s in sites] == ["sandbox", "sandbox-1"]
    assert sites[0].url == oauth_sandbox.url and len({s.id for s in sites}) == 2
    assert "read:page:confluence" in sites[0].scopes

    oauth_sandbox.expire_access_tokens()
    with pytest.raises(OAuthError, match="401"):
        accessible_resources(app, tokens.access_token)


def test_bearer_tokens_work_on_the_gateway_until_they_expire(oauth_sandbox: OAuthSandbox) -> None:
    app = oauth_sandbox.oauth_app()
    tokens = exchange_code(app, _code(oauth_sandbox))
    cloud_id = accessible_resources(app, tokens.access_token)[0].id
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    gateway = f"{app.gateway_url(cloud_id)}/wiki/api/v2/spaces"
    assert httpx.get(gateway, headers=headers).status_code == 200
    assert httpx.get(f"{oauth_sandbox.url}/wiki/api/v2/spaces", headers=headers).status_code == 401
    oauth_sandbox.expire_access_tokens()
    assert httpx.get(gateway, headers=headers).status_code == 401


@pytest.mark.sandbox(access_token_ttl=0)
def test_short_lived_access_tokens_are_configurable(oauth_sandbox: OAuthSandbox) -> None:
    tokens = exchange_code(oauth_sandbox.oauth_app(), _code(oauth_sandbox))
    with pytest.raises(OAuthError, match="401"):
        accessible_resources(oauth_sandbox.oauth_app(), tokens.access_token)
