"""`connect` in OAuth 3LO mode: consent in a browser, loopback callback, one stored connection.

Steps: authorize URL with a random ``state`` -> browser (or the printed URL) -> callback on
the redirect URI -> code exchange -> ``accessible-resources`` -> choose the site -> one live
call with the new token -> store the connection with its tokens encrypted.
"""

from __future__ import annotations

import re
import sys
import webbrowser
from collections.abc import Sequence

import click

from confluence_pipeline.cli.context import open_state
from confluence_pipeline.cli.oauth_callback import CallbackError, CallbackServer
from confluence_pipeline.cli.output import console, fail
from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.oauth import (
    AccessibleResource,
    OAuthApp,
    OAuthError,
    accessible_resources,
    authorize_url,
    exchange_code,
    new_state,
)
from confluence_pipeline.confluence.oauth_auth import OAuthBearerAuth, StaticTokens
from confluence_pipeline.settings import Settings


class _Refused(Exception):
    """The connect attempt ends with this one-line message."""


def oauth_connect(
    *, site: str | None, name: str | None, replace: bool, open_browser: bool, timeout: float
) -> None:
    """Runs the whole consent flow; raises click Exit (after one error line) on failure."""
    try:
        app = Settings.from_env().oauth_app().require_credentials()
    except OAuthError as exc:
        raise fail(f"{exc}; or connect with --site, --email and --api-token") from None
    Settings.from_env().secret_key()  # a refused SECRET_KEY fails before the browser round trip
    if name and not replace:
        with open_state() as store:
            if any(c.name == name for c in store.registry.list_connections()):
                raise fail(f"connection {name!r} already exists (add --replace to reconnect it)")
    state = new_state()
    try:
        server = CallbackServer(app.redirect_uri, state)
    except CallbackError as exc:
        raise fail(str(exc)) from None
    with server:
        url = authorize_url(app, state)
        console.print("Open this URL in a browser to connect Confluence:", markup=False)
        click.echo(url)
        if open_browser:
            webbrowser.open(url)
        console.print(f"waiting for the browser (up to {timeout:g} s) ...", markup=False)
        callback = server.wait(timeout)
        if callback is None:
            raise fail(
                f"no answer from the browser within {timeout:g} s; nothing was saved "
                "(run `confluence-pipeline connect` again)"
            )
        try:
            if callback.error == "access_denied":
                raise _Refused("consent was denied in the browser (access_denied)")
            if callback.error or not callback.code:
                detail = f": {callback.description}" if callback.description else ""
                raise _Refused(f"authorization failed ({callback.error}){detail}")
            saved, resource = _complete(app, callback.code, site, name, replace)
        except _Refused as exc:
            server.finish(False, f"Not connected: {exc}. Nothing was saved.")
            raise fail(str(exc)) from None
        except Exception as exc:
            server.finish(False, f"Not connected: {_one_line(exc)}")
            raise
        server.finish(True, f"Connected {saved} to {resource.url}.")
    console.print(
        f"connected {saved}: {resource.url} (cloud id {resource.id}, OAuth)",
        markup=False,
        soft_wrap=True,
    )


def _complete(
    app: OAuthApp, code: str, wanted: str | None, name: str | None, replace: bool
) -> tuple[str, AccessibleResource]:
    tokens = exchange_code(app, code)
    if not tokens.refresh_token:
        raise _Refused("no refresh token granted: the app must request the offline_access scope")
    resource = _choose(accessible_resources(app, tokens.access_token), wanted)
    auth = OAuthBearerAuth(StaticTokens(tokens))
    with ConfluenceClient(app.gateway_url(resource.id), auth) as client:
        client.check_access()
    connection_name = name or _safe_name(resource.name)
    with open_state() as store:
        store.registry.add_connection(
            name=connection_name,
            site_url=resource.url,
            cloud_id=resource.id,
            auth_kind="oauth",
            secret=tokens.to_secret(),
            scopes=tokens.scopes or resource.scopes,
            access_expires_at=tokens.expires_at,
            replace=replace,
        )
    return connection_name, resource


def _choose(sites: Sequence[AccessibleResource], wanted: str | None) -> AccessibleResource:
    if not sites:
        raise _Refused("the consent covers no Confluence site")
    listing = ", ".join(f"{s.name} ({s.url})" for s in sites)
    if wanted:
        key = wanted.rstrip("/").lower()
        for site in sites:
            host = (site.url.split("://", 1)[-1]).lower()
            if key in (site.url.lower(), host, site.name.lower(), site.id.lower()):
                return site
        raise _Refused(f"--site {wanted} is not among the granted sites: {listing}")
    if len(sites) == 1:
        return sites[0]
    if not sys.stdin.isatty():
        raise _Refused(f"several sites granted ({listing}): choose one with --site")
    for number, site in enumerate(sites, 1):
        console.print(f"  {number}. {site.name}  {site.url}", markup=False)
    choice = click.prompt("site to connect", type=click.IntRange(1, len(sites)), default=1)
    return sites[choice - 1]


def _safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", label).strip("-.")[:100] or "confluence"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
