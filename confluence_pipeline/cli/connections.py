"""`connect`, `connections`, `disconnect`."""

from __future__ import annotations

import re
import sys
from typing import Any
from urllib.parse import urlsplit

import click

from confluence_pipeline.cli.context import open_state
from confluence_pipeline.cli.oauth_connect import oauth_connect
from confluence_pipeline.cli.output import console, fail, print_json, print_table
from confluence_pipeline.cli.usage import connection_usage, rate_limit, usage_line
from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.runtime.urls import InsecureURLError, require_https
from confluence_pipeline.sync.connections import check_health
from confluence_pipeline.sync.scope import CONTENT_SCOPES, SEARCH_SCOPES, can_read_restrictions


def _default_name(site: str) -> str:
    host = urlsplit(site).hostname or site
    label = host.split(".")[0] if not host.replace(".", "").isdigit() else host
    return re.sub(r"[^A-Za-z0-9_.-]", "-", label) or "confluence"


def _check_site(site: str) -> str:
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"--site must be a URL like https://acme.atlassian.net, not {site!r}")
    try:
        require_https(site, "--site")
    except InsecureURLError as exc:
        raise fail(str(exc)) from None
    return f"{parts.scheme}://{parts.netloc}"


@click.command()
@click.option(
    "--site",
    help="Site URL, e.g. https://acme.atlassian.net (API-token mode); with OAuth, which of "
    "the granted sites to connect (URL, name or cloud id).",
)
@click.option("--email", help="Atlassian account email (API-token mode).")
@click.option(
    "--api-token",
    envvar="CONFLUENCE_API_TOKEN",
    help="API token (or set CONFLUENCE_API_TOKEN to keep it out of shell history).",
)
@click.option("--name", help="Connection name (default: the site's first host label).")
@click.option("--replace", is_flag=True, help="Replace an existing connection of that name.")
@click.option("--owner", "owners", multiple=True, help="Owner email (repeatable).")
@click.option("--no-browser", is_flag=True, help="OAuth: print the consent URL, do not open it.")
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="OAuth: seconds to wait for the browser.",
)
@click.pass_context
def connect(
    ctx: click.Context,
    site: str | None,
    email: str | None,
    api_token: str | None,
    name: str | None,
    replace: bool,
    owners: tuple[str, ...],
    no_browser: bool,
    timeout: float,
) -> None:
    """Connect a Confluence Cloud site: OAuth 3LO consent in a browser (the default), or an
    email and API token (--site, --email, --api-token)."""
    token_given = ctx.get_parameter_source("api_token") == click.core.ParameterSource.COMMANDLINE
    if not (email or token_given):
        oauth_connect(
            site=site, name=name, replace=replace, open_browser=not no_browser, timeout=timeout
        )
        if owners:
            with open_state() as store:
                connected = store.registry.list_connections()
                chosen = name or (connected[-1].name if len(connected) == 1 else None)
                if chosen is None:
                    raise fail("give --name with --owner when several connections exist")
                store.registry.set_connection_owners(chosen, list(owners))
        return
    if not (site and email and api_token):
        raise fail("API-token mode needs --site, --email and --api-token (or CONFLUENCE_API_TOKEN)")
    site = _check_site(site)
    name = name or _default_name(site)
    with ConfluenceClient(site, basic_auth(email, api_token)) as client:
        cloud_id = client.get_cloud_id()
        client.check_access()
    with open_state() as store:
        store.registry.add_connection(
            name=name,
            site_url=site,
            cloud_id=cloud_id,
            auth_kind="api_token",
            email=email,
            secret=api_token,
            replace=replace,
            owners=list(owners) or None,
        )
    console.print(f"connected {name}: {site} (cloud id {cloud_id or 'unknown'})", markup=False)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def connections(as_json: bool) -> None:
    """List connections with a live health check (never their secrets)."""
    with open_state() as store:
        data: list[dict[str, Any]] = [
            {
                "name": c.name,
                "site": c.site_url,
                "cloud_id": c.cloud_id,
                "auth": c.auth_kind,
                "email": c.email,
                "scopes": c.scopes,
                "access_expires_at": c.access_expires_at,
                "last_refresh_at": c.last_refresh_at,
                "needs_reconsent": c.needs_reconsent,
                "owners": c.owners,
                "reads_restrictions": can_read_restrictions(c),
                "created_at": c.created_at,
                "health": check_health(store, c),
                "usage": connection_usage(store, c.id),
                "rate_limit": rate_limit(store, c.id),
            }
            for c in store.registry.list_connections()
        ]
    if as_json:
        print_json(data)
        return
    columns = ["name", "site", "auth", "scopes", "owners", "token expires", "last refresh"]
    columns.append("health")
    keys = ["name", "site", "auth", "scopes", "owners", "access_expires_at", "last_refresh_at"]
    keys.append("health")
    print_table("Connections", columns, [[d[k] for k in keys] for d in data])
    for d in data:
        console.print(usage_line(d["name"], d["usage"], d["rate_limit"]), markup=False)
        if not d["reads_restrictions"]:
            console.print(
                f"warning: connection {d['name']} cannot read page restrictions with its "
                f"scopes; its indexes refuse to sync until reconnected with "
                f"{' or '.join(SEARCH_SCOPES)} and {' or '.join(CONTENT_SCOPES)}, or until "
                "they choose --include-restricted",
                markup=False,
            )


@click.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Also unlink indexes that use it, without asking.")
def disconnect(name: str, yes: bool) -> None:
    """Delete a connection's stored tokens, and the connection itself unless indexes use it
    (then only after confirmation or --yes)."""
    with open_state() as store:
        connection = store.registry.get_connection(name)
        users = [i.name for i in store.registry.list_indexes() if i.connection_id == connection.id]
        question = f"indexes {', '.join(users)} use {name}; unlink them and delete it?"
        if not users or yes or (sys.stdin.isatty() and click.confirm(question)):
            store.registry.delete_connection(name)
            unlinked = f"; unlinked {', '.join(users)}" if users else ""
            console.print(f"disconnected {name}: tokens deleted{unlinked}", markup=False)
            return
        store.registry.forget_credentials(name)
    console.print(
        f"deleted the tokens of {name}; indexes {', '.join(users)} still use it "
        f"(reconnect with `connect --name {name} --replace`, or unlink with "
        f"`disconnect {name} --yes`)",
        markup=False,
    )
