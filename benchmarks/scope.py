"""What the restriction and label pass of issue 12 costs in Confluence requests.

There is no switch that skips the pass (every index needs its pages' labels), so its cost is
read from the Confluence sandbox's request counters by route: the CQL content searches
(``/rest/api/content/search``, labels and read restrictions expanded, ``limit``
``SEARCH_LIMIT``) are the pass; per-page restriction and label lookups are its fallback; the
rest (space lookup, the v2 listing, bodies, people) is what a sync costs without it. Phases,
the pipeline in a child process each (``benchmarks/sync.py``'s): a full sync, a no-op re-sync
(the change probe skips the listing), and a re-sync after one edit per space (a full listing
again).

    .venv/bin/python benchmarks/scope.py                 # 10,000 pages: 2 spaces x 5,000
    .venv/bin/python benchmarks/scope.py --pages 1000    # a smoke run
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import print_table, sandboxes
from benchmarks.sync import INDEX, Bench, _page_ids
from confluence_pipeline.confluence.client import SEARCH_LIMIT

EXPANDED_LIMIT = 200
"""The largest ``limit`` Confluence Cloud (and the sandbox) honours for a content search with
expansions; the client asks for ``SEARCH_LIMIT`` and gets pages of this size."""
SEARCH = "content/search"
LOOKUPS = ("restriction", "/label")


def _kind(route: str) -> str:
    if SEARCH in route:
        return "scope search"
    if any(part in route for part in LOOKUPS):
        return "scope lookups"
    return "rest of the sync"


def _by_kind(before: dict[str, int], after: dict[str, int]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for route, count in after.items():
        kinds[_kind(route)] += count - before.get(route, 0)
    return kinds


def measure_scope(pages: int, spaces: int, latency_ms: int) -> list[list[object]]:
    per_space = pages // spaces
    limit = min(SEARCH_LIMIT, EXPANDED_LIMIT)
    bound = spaces * math.ceil(per_space / limit)
    print(
        f"scope pass: {pages} pages in {spaces} spaces, {latency_ms} ms latency, "
        f"search limit {limit}, bound ceil(N/limit) per space = {bound}",
        flush=True,
    )
    rows: list[list[object]] = []
    with (
        sandboxes(spaces=spaces, pages_per_space=per_space, latency_ms=latency_ms) as boxes,
        tempfile.TemporaryDirectory() as workdir,
    ):
        bench = Bench(boxes, Path(workdir))
        for phase in ("full sync", "no-op re-sync", "1 edit per space"):
            if phase == "1 edit per space":
                for space in bench.spaces:
                    boxes.wiki.edit_page(_page_ids(boxes.wiki_url, [space])[0], "<p>edited</p>")
            before = boxes.wiki.stats()["requests_by_route"]
            _measured, report = bench.run("pipeline", phase)
            kinds = _by_kind(before, boxes.wiki.stats()["requests_by_route"])
            extra = kinds["scope search"] + kinds["scope lookups"]
            total = sum(kinds.values())
            rows.append(
                [
                    phase,
                    f"{report['sync_seconds']:.1f}",
                    total,
                    kinds["rest of the sync"],
                    kinds["scope search"],
                    kinds["scope lookups"],
                    f"{100 * extra / max(total - extra, 1):.0f} %",
                    bound if phase != "no-op re-sync" else 0,
                ]
            )
        indexed = bench.documents(f"confluence-{INDEX}")
    columns = ["phase", "sync s", "Confluence requests", "without the pass", "scope searches"]
    print_table([*columns, "per-page lookups", "extra", "bound"], rows)
    print(f"{indexed} documents indexed of {pages} pages (restricted pages left out)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--spaces", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    measure_scope(args.pages, args.spaces, args.latency_ms)


if __name__ == "__main__":
    main()
