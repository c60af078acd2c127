"""A complete test world: both sandboxes, a state store, a connection and an index."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.llamacloud import IndexSink, LlamaCloudSink, open_sink, pipeline_name
from confluence_pipeline.sandbox import confluence, llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.state import Index, StateStore
from confluence_pipeline.sync.results import SpaceSyncResult
from confluence_pipeline.sync.run import sync_space

EMAIL, TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"
SECRET = "test-secret-key-of-32-characters"


@dataclass
class World:
    store: StateStore
    wiki_url: str
    cloud_url: str
    wiki: ConfluenceAdmin
    cloud: LlamaCloudAdmin
    space_keys: list[str]

    def environment(self) -> dict[str, str]:
        """The operator's environment for Dagster resources and the CLI against this world."""
        return {
            "CONFLUENCE_PIPELINE_DATABASE_URL": self.store.engine.url.render_as_string(
                hide_password=False
            ),
            "SECRET_KEY": SECRET,
            "LLAMA_CLOUD_API_KEY": API_KEY,
            "LLAMA_CLOUD_PROJECT_ID": PROJECT,
            "LLAMA_CLOUD_BASE_URL": self.cloud_url,
        }

    def export(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Sets :meth:`environment` for the rest of the test."""
        for name, value in self.environment().items():
            monkeypatch.setenv(name, value)

    def client(self) -> ConfluenceClient:
        return ConfluenceClient(self.wiki_url, basic_auth(EMAIL, TOKEN))

    def sink(self, name: str = "docs") -> LlamaCloudSink | IndexSink:
        """The sink of the index's target (``pipeline`` when there is no such index)."""
        names = {index.name: index.target for index in self.store.registry.list_indexes()}
        return open_sink(names.get(name, "pipeline"), API_KEY, PROJECT, base_url=self.cloud_url)

    def connect(self, name: str = "sandbox") -> None:
        with self.client() as client:
            cloud_id = client.get_cloud_id()
        self.store.registry.add_connection(
            name=name,
            site_url=self.wiki_url,
            cloud_id=cloud_id,
            auth_kind="api_token",
            email=EMAIL,
            secret=TOKEN,
        )

    def create_index(
        self, name: str = "docs", spaces: list[str] | None = None, target: str = "pipeline"
    ) -> Index:
        return self.store.registry.create_index(
            name=name,
            spaces=spaces or self.space_keys,
            pipeline_name=pipeline_name(name),
            target=target,
        )

    def index(self, name: str = "docs") -> Index:
        return self.store.registry.get_index(name)

    def sync(self, space: str, name: str = "docs", **options: object) -> SpaceSyncResult:
        with self.client() as client, self.sink(name) as sink:
            return sync_space(self.store, client, sink, self.index(name), space, **options)  # type: ignore[arg-type]

    def documents(self, name: str = "docs") -> dict[str, dict[str, Any]]:
        """The index's live documents by id (on the ``index`` target: its files by
        ``unique_id``, asserting there is one file per id)."""
        index = self.index(name)
        target_id = index.target_id()
        assert target_id is not None
        if index.target == "pipeline":
            return self.cloud.documents(target_id)
        return self.cloud.files_by_unique_id(target_id)

    def page_ids(self, space: str) -> list[str]:
        with self.client() as client:
            space_id = client.get_spaces([space])[space].id
            return [page.id for page in client.iter_pages(space_id)]


@contextlib.contextmanager
def make_world(
    state_url: str, *, spaces: int = 2, pages_per_space: int = 30, **options: Any
) -> Iterator[World]:
    """Both sandboxes on free ports (``options`` go to the Confluence emulator's
    ``create_app``) and a state store on ``state_url``; see the ``world`` fixtures."""
    wiki_app = confluence.create_app(spaces=spaces, pages_per_space=pages_per_space, **options)
    wiki_state = wiki_app.state.sandbox
    with (
        ServerThread(wiki_app) as wiki,
        ServerThread(confluence.create_media_app(wiki_state)) as media,
        ServerThread(llamacloud.create_app()) as cloud,
    ):
        wiki_state.attachments.media_url = media.url
        store = StateStore.open(state_url, SECRET)
        try:
            admin = ConfluenceAdmin(wiki.url)
            keys = [space["key"] for space in admin.spaces()]
            yield World(store, wiki.url, cloud.url, admin, LlamaCloudAdmin(cloud.url), keys)
        finally:
            store.close()
