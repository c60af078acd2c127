"""Security review finding 7: a page body over the bound (20 MB by default) is recorded as a
failed page with the reason, never converted, and the other pages still sync."""

from __future__ import annotations

from pathlib import Path

from confluence_pipeline.sync.plan import MAX_BODY_BYTES, body_too_large
from confluence_pipeline_tests.world import make_world


def test_an_oversized_body_fails_alone_and_is_never_converted(tmp_path: Path) -> None:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", spaces=1, pages_per_space=5) as world:
        world.connect()
        world.create_index()
        space = world.space_keys[0]
        huge = world.wiki.create_page(space, "Huge", "<p>" + "x" * 30_000 + "</p>")
        result = world.sync(space, max_body_bytes=20_000)
        assert (result.plan.too_large, result.conversion.converted) == (1, 5)
        assert (result.upload.uploaded, result.upload.failed) == (5, 1)
        [reason] = result.upload.errors
        assert reason == f"page {huge}: page body is 29.3 KB, over the 19.5 KB limit"
        assert world.store.ledger.known_pages(world.index().id, space)[huge].status == "failed"
        assert len(world.documents()) == 5


def test_the_default_body_limit_is_20_mb() -> None:
    assert MAX_BODY_BYTES == 20 * 1024 * 1024
    assert body_too_large(21 * 1024 * 1024) == "page body is 21.0 MB, over the 20 MB limit"
    assert body_too_large(MAX_BODY_BYTES) is None


def test_a_page_over_20_mb_is_refused_by_default(tmp_path: Path) -> None:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", spaces=1, pages_per_space=2) as world:
        world.connect()
        world.create_index()
        space = world.space_keys[0]
        huge = world.wiki.create_page(space, "Huge", "<p>" + "x" * (21 * 1024 * 1024) + "</p>")
        result = world.sync(space)
        assert result.upload.errors == [f"page {huge}: page body is 21.0 MB, over the 20 MB limit"]
        assert (result.upload.uploaded, len(world.documents())) == (2, 2)
