"""Shared fixtures: the two sandboxes on free loopback ports, served over real HTTP; worlds
built on them (sandboxes, state, connection, index); the state databases; a browser page.

The Confluence emulator behind ``world``, ``world_db`` and ``oauth_sandbox`` is sized by the
closest ``@pytest.mark.sandbox(**options)`` (test, class or module ``pytestmark``): options of
:func:`confluence_pipeline.sandbox.confluence.create_app` such as ``spaces``,
``pages_per_space``, ``seed``, ``oauth_extra_sites``, ``access_token_ttl``, ``points_per_hour``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.state import StateStore
from confluence_pipeline_tests.oauth_world import OAuthSandbox, serve_oauth_sandbox
from confluence_pipeline_tests.world import World, make_world

POSTGRES_URL = os.environ.get(
    "CONFLUENCE_PIPELINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def confluence_sandbox() -> Iterator[ServerThread]:
    """A Confluence Cloud emulator with 3 spaces of 50 pages (seed 0)."""
    from confluence_pipeline.sandbox.confluence import create_app

    with ServerThread(create_app(spaces=3, pages_per_space=50, seed=0)) as server:
        yield server


@pytest.fixture
def llamacloud_sandbox() -> Iterator[ServerThread]:
    """A LlamaCloud emulator (API key ``sandbox-key``, project ``sandbox-project``)."""
    from confluence_pipeline.sandbox.llamacloud import create_app

    with ServerThread(create_app()) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state database: a SQLite file, or a schema of its own on the local
    PostgreSQL server (database ``test``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    schema = f"cp_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    store = StateStore.open(state_url, "test-secret-key")
    try:
        yield store
    finally:
        store.close()


def _sandbox_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("sandbox")
    return dict(marker.kwargs) if marker else {}


@contextlib.contextmanager
def _connected_world(
    request: pytest.FixtureRequest, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    with make_world(state_url, **_sandbox_options(request)) as world:
        world.connect()
        world.create_index()
        world.export(monkeypatch)
        yield world


@pytest.fixture
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """Both sandboxes (Confluence: 2 spaces of 30 pages, seed 0, unless marked ``sandbox``), a
    SQLite state in ``tmp_path``, the connection ``sandbox`` and the index ``docs`` of every
    space; the environment points Dagster's resources and the CLI at them."""
    with _connected_world(request, f"sqlite:///{tmp_path / 'state.db'}", monkeypatch) as world:
        yield world


@pytest.fixture
def world_db(
    request: pytest.FixtureRequest, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """``world`` on each state database of ``state_url``: SQLite, and PostgreSQL (marked
    ``postgres``); parametrize ``state_url`` indirectly to pick one."""
    with _connected_world(request, state_url, monkeypatch) as world:
        yield world


@pytest.fixture
def oauth_sandbox(request: pytest.FixtureRequest) -> Iterator[OAuthSandbox]:
    """A Confluence emulator seen from its OAuth side (2 spaces of 10 pages unless marked
    ``sandbox``)."""
    with serve_oauth_sandbox(**_sandbox_options(request)) as sandbox:
        yield sandbox


CHROMIUM = os.environ.get("CONFLUENCE_PIPELINE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium (installed by `make test`)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make chromium` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()
