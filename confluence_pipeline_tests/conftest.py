"""Shared fixtures: the two sandboxes on free loopback ports, served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from confluence_pipeline.sandbox.server import ServerThread


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
