"""Resources binding the domain clients to configuration (``dg.EnvVar`` in definitions.py)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import dagster as dg
import httpx

from confluence_pipeline import settings
from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.oauth import NeedsReconsent, OAuthApp
from confluence_pipeline.llamacloud import LlamaCloudSink
from confluence_pipeline.state import Index, StateStore
from confluence_pipeline.sync.connections import open_client


class StateResource(dg.ConfigurableResource):
    """The state database. Unset fields fall back to ``CONFLUENCE_PIPELINE_DATABASE_URL`` and
    ``SECRET_KEY`` (or the defaults of ``confluence_pipeline.settings``)."""

    database_url: str | None = None
    secret_key: str | None = None

    @contextlib.contextmanager
    def open(self) -> Iterator[StateStore]:
        store = StateStore.open(
            self.database_url or settings.database_url(),
            self.secret_key or settings.secret_key(),
        )
        try:
            yield store
        finally:
            store.close()


class ConfluenceResource(dg.ConfigurableResource):
    """Builds a Confluence client for the connection an index names: HTTP Basic on the site
    for API tokens, bearer tokens on ``{atlassian_api_url}/ex/confluence/{cloudId}`` for OAuth
    (refreshed under the state database's per-connection lock). Unset fields fall back to
    ``ATLASSIAN_API_URL``, ``ATLASSIAN_AUTH_URL``, ``CONFLUENCE_CLIENT_ID`` and
    ``CONFLUENCE_CLIENT_SECRET``, so secrets never sit in run config."""

    atlassian_api_url: str | None = None
    atlassian_auth_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    timeout_seconds: float = 30.0

    def oauth_app(self) -> OAuthApp:
        app = OAuthApp.from_env()
        return dataclasses.replace(
            app,
            client_id=self.client_id or app.client_id,
            client_secret=self.client_secret or app.client_secret,
            auth_url=(self.atlassian_auth_url or app.auth_url).rstrip("/"),
            api_url=(self.atlassian_api_url or app.api_url).rstrip("/"),
        )

    @contextlib.contextmanager
    def client_for(self, store: StateStore, index: Index) -> Iterator[ConfluenceClient]:
        if index.connection_id is None:
            raise dg.Failure(f"index {index.name!r} has no connection")
        connection = store.registry.connection_by_id(index.connection_id)
        timeout = httpx.Timeout(self.timeout_seconds, connect=5.0)
        try:
            client = open_client(store, connection, oauth=self.oauth_app(), timeout=timeout)
        except NeedsReconsent as exc:
            raise dg.Failure(str(exc)) from None
        with client:
            yield client


class LlamaCloudResource(dg.ConfigurableResource):
    """The LlamaCloud project documents are uploaded to."""

    api_key: str
    project_id: str
    base_url: str | None = None

    @contextlib.contextmanager
    def sink(self) -> Iterator[LlamaCloudSink]:
        with LlamaCloudSink(self.api_key, self.project_id, base_url=self.base_url) as sink:
            yield sink
