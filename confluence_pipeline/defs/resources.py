"""Resources binding the domain clients to configuration (``dg.EnvVar`` in definitions.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
import httpx

from confluence_pipeline import settings
from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.llamacloud import LlamaCloudSink
from confluence_pipeline.state import Index, StateStore


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
    """Builds a Confluence client for the connection an index names."""

    atlassian_api_url: str = "https://api.atlassian.com"
    timeout_seconds: float = 30.0

    @contextlib.contextmanager
    def client_for(self, store: StateStore, index: Index) -> Iterator[ConfluenceClient]:
        if index.connection_id is None:
            raise dg.Failure(f"index {index.name!r} has no connection")
        connection = store.registry.connection_by_id(index.connection_id)
        secret = store.registry.connection_secret(connection)
        if connection.auth_kind != "api_token":
            raise dg.Failure(
                f"connection {connection.name!r}: unsupported auth {connection.auth_kind}"
            )
        auth = basic_auth(connection.email or "", secret)
        timeout = httpx.Timeout(self.timeout_seconds, connect=5.0)
        with ConfluenceClient(connection.site_url, auth, timeout=timeout) as client:
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
