"""Resources binding the domain clients to the operator's environment.

Endpoints and secrets are not resource fields: Dagster lets run config override any field,
even one bound with ``dg.EnvVar``, and the UI launches runs for anyone who can reach it. They
come from :class:`~confluence_pipeline.settings.Settings` when a resource is used, so a run
config that names them is refused by Dagster's config check before any request is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
import httpx

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.oauth import NeedsReconsent
from confluence_pipeline.llamacloud import IndexSink, LlamaCloudSink, open_sink
from confluence_pipeline.settings import Settings
from confluence_pipeline.state import Index, StateStore
from confluence_pipeline.sync.connections import open_client, open_quick_client


class StateResource(dg.ConfigurableResource):
    """The state database (``CONFLUENCE_PIPELINE_DATABASE_URL``, ``SECRET_KEY``)."""

    @contextlib.contextmanager
    def open(self) -> Iterator[StateStore]:
        settings = Settings.from_env()
        with StateStore.open(settings.database_url, settings.secret_key()) as store:
            yield store


class ConfluenceResource(dg.ConfigurableResource):
    """Builds a Confluence client for the connection an index names: HTTP Basic on the site
    for API tokens, bearer tokens on ``{ATLASSIAN_API_URL}/ex/confluence/{cloudId}`` for OAuth
    (refreshed under the state database's per-connection lock)."""

    timeout_seconds: float = 30.0

    @contextlib.contextmanager
    def client_for(self, store: StateStore, index: Index) -> Iterator[ConfluenceClient]:
        if index.connection_id is None:
            raise dg.Failure(f"index {index.name!r} has no connection")
        try:
            client = self.connection_client(store, index.connection_id)
        except NeedsReconsent as exc:
            raise dg.Failure(str(exc)) from None
        with client:
            yield client

    def connection_client(self, store: StateStore, connection_id: int) -> ConfluenceClient:
        """A client of the stored connection ``connection_id`` (close it); raises
        NeedsReconsent when its credentials were refused or deleted."""
        connection = store.registry.connection_by_id(connection_id)
        timeout = httpx.Timeout(self.timeout_seconds, connect=5.0)
        return open_client(
            store, connection, oauth=Settings.from_env().oauth_app(), timeout=timeout
        )

    def tick_client(self, store: StateStore, connection_id: int) -> ConfluenceClient:
        """A client for a sensor tick: 10 s timeouts and 10 s of waiting at most, so a rate
        limited or failing connection fails the tick's reads at once instead of holding the
        tick (and every other index's runs) past Dagster's 60 s sensor timeout."""
        connection = store.registry.connection_by_id(connection_id)
        return open_quick_client(store, connection, oauth=Settings.from_env().oauth_app())


class LlamaCloudResource(dg.ConfigurableResource):
    """The LlamaCloud project documents go to (``LLAMA_CLOUD_API_KEY``,
    ``LLAMA_CLOUD_PROJECT_ID``, ``LLAMA_CLOUD_BASE_URL``). ``searchable_wait_seconds``: how
    long an upload step waits for its documents to become searchable (0: one status read)."""

    searchable_wait_seconds: float = 0.0

    @contextlib.contextmanager
    def sink(self, target: str = "pipeline") -> Iterator[LlamaCloudSink | IndexSink]:
        """The sink of an index's ``target`` (``pipeline`` or ``index``)."""
        cloud = Settings.from_env().llamacloud()
        with open_sink(target, cloud.api_key, cloud.project_id, base_url=cloud.base_url) as sink:
            yield sink
