"""Thirty sync cycles with random edits, creates, trashes and moves between them, 10 % of all
requests to both services failing in every way the emulators know, and one sync SIGKILLed
mid-run: the index ends with exactly one document per current page, at its latest text."""

from __future__ import annotations

import random

import pytest

from confluence_pipeline_tests.resilience import (
    SyncChild,
    assert_index_exact,
    assert_recorded_are_indexed,
    current_pages,
    edit_pages,
    fast_client,
    grew,
    set_faults,
    sync_all,
)
from confluence_pipeline_tests.test_faults import CONFLUENCE_KINDS, LLAMACLOUD_KINDS
from confluence_pipeline_tests.world import World

pytestmark = pytest.mark.slow

CYCLES = 30
KILLED_CYCLE = 17


def _homepages(world: World) -> set[str]:
    with fast_client(world.wiki_url) as client:
        spaces = client.get_spaces(world.space_keys).values()
        return {space.homepage_id for space in spaces if space.homepage_id}


def _change(world: World, rng: random.Random, cycle: int, edits: int) -> dict[str, str]:
    """Random edits, one new page, one trashed page, one page moved; returns new texts."""
    pages = current_pages(world)
    ids = sorted(pages)
    texts = edit_pages(world, rng.sample(ids, edits), f"cycle{cycle}")
    space = rng.choice(world.space_keys)
    created = world.wiki.create_page(space, f"Cycle {cycle} notes", f"<p>born{cycle}</p>")
    texts[created] = f"born{cycle}"
    homepages = _homepages(world)  # never moved nor trashed
    movable = [pid for pid in ids if pid not in homepages and pid not in texts]
    victim, mover = rng.sample(movable, 2)
    world.wiki.trash_page(victim)
    targets = [key for key in world.space_keys if key != pages[mover][0]]
    world.wiki.move_page(mover, rng.choice(targets))
    return texts


@pytest.mark.sandbox(spaces=3, pages_per_space=30, seed=3)
def test_thirty_cycles_with_faults_and_a_kill_end_exact(world: World) -> None:
    set_faults(world.wiki_url, rate=0.1, kinds=CONFLUENCE_KINDS, slow_ms=700, retry_after=0.02)
    set_faults(world.cloud_url, rate=0.1, kinds=LLAMACLOUD_KINDS, slow_ms=700, retry_after=0.02)
    rng = random.Random(6)
    markers: dict[str, str] = {}
    outcomes = []
    for cycle in range(CYCLES):
        killed = cycle == KILLED_CYCLE
        markers |= _change(world, rng, cycle, edits=40 if killed else 3)
        if killed:
            uploads = grew(lambda: world.cloud.stats()["documents_upserted"], 10)
            child = SyncChild(world)
            assert child.kill_when(uploads), "the killed sync ended before its uploads"
        else:
            results = sync_all(world)
            outcomes += [type(result).__name__ for result in results.values()]
        assert_recorded_are_indexed(world)

    assert_index_exact(world, markers)
    assert world.wiki.stats()["faults_injected"] > 50
    assert world.cloud.stats()["faults_injected"] > 5
    assert outcomes.count("SpaceSyncResult") >= len(outcomes) - 3
