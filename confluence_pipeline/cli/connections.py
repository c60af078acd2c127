"""`connect`, `connections`, `disconnect`."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import click

from confluence_pipeline.cli.context import open_state
from confluence_pipeline.cli.output import console, fail, print_json, print_table
from confluence_pipeline.confluence import ConfluenceClient, basic_auth


def _default_name(site: str) -> str:
    host = urlsplit(site).hostname or site
    label = host.split(".")[0] if not host.replace(".", "").isdigit() else host
    return re.sub(r"[^A-Za-z0-9_.-]", "-", label) or "confluence"


def _check_site(site: str) -> str:
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"--site must be a URL like https://acme.atlassian.net, not {site!r}")
    return f"{parts.scheme}://{parts.netloc}"


@click.command()
@click.option("--site", help="Site URL, e.g. https://acme.atlassian.net (API-token mode).")
@click.option("--email", help="Atlassian account email (API-token mode).")
@click.option(
    "--api-token",
    envvar="CONFLUENCE_API_TOKEN",
    help="API token (or set CONFLUENCE_API_TOKEN to keep it out of shell history).",
)
@click.option("--name", help="Connection name (default: the site's first host label).")
@click.option("--replace", is_flag=True, help="Replace an existing connection of that name.")
def connect(
    site: str | None, email: str | None, api_token: str | None, name: str | None, replace: bool
) -> None:
    """Connect a Confluence Cloud site with an email and API token."""
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
        )
    console.print(f"connected {name}: {site} (cloud id {cloud_id or 'unknown'})", markup=False)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def connections(as_json: bool) -> None:
    """List connections (never their secrets)."""
    with open_state() as store:
        rows = store.registry.list_connections()
    data = [
        {
            "name": c.name,
            "site": c.site_url,
            "cloud_id": c.cloud_id,
            "auth": c.auth_kind,
            "email": c.email,
            "scopes": c.scopes,
            "access_expires_at": c.access_expires_at,
            "needs_reconsent": c.needs_reconsent,
            "created_at": c.created_at,
        }
        for c in rows
    ]
    if as_json:
        print_json(data)
        return
    print_table(
        "Connections",
        ["name", "site", "auth", "email", "cloud id", "created"],
        [
            [d["name"], d["site"], d["auth"], d["email"], d["cloud_id"], d["created_at"]]
            for d in data
        ],
    )


@click.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Also unlink indexes that use it, without asking.")
def disconnect(name: str, yes: bool) -> None:
    """Delete a connection and its stored tokens."""
    with open_state() as store:
        connection = store.registry.get_connection(name)
        users = [i.name for i in store.registry.list_indexes() if i.connection_id == connection.id]
        if users and not yes:
            click.confirm(
                f"indexes {', '.join(users)} use {name}; unlink them and delete it?", abort=True
            )
        store.registry.delete_connection(name)
    console.print(f"disconnected {name}", markup=False)
