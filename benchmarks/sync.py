"""This pipeline against the old service's naive approach, on the same sandboxes over real HTTP.

Both sandboxes answer every public request after 50 ms. Phases, each contender in a child
process of its own: full sync, no-op re-sync, and re-sync after 1 % of the pages were edited
and 0.5 % trashed. Then the floor of a full sync on the same sandboxes (each unavoidable step
alone, :mod:`benchmarks.sync_floor`), and a memory run: the pipeline's full sync at 5x the
pages.

    .venv/bin/python benchmarks/sync.py            # 10,000 pages in 5 spaces, then 50,000
    .venv/bin/python benchmarks/sync.py --quick    # 500 pages, then 2,500: a smoke run
    .venv/bin/python benchmarks/sync.py --quick --target index   # the pipeline alone, on one
        # LlamaCloud target (pipeline | index), with time to searchable beside time to accepted

The pipeline runs :func:`confluence_pipeline.sync.run.sync_spaces` (what each Dagster run does,
spaces in parallel as a Dagster deployment runs partitions, without the orchestrator's own
start-up). The baselines (:mod:`benchmarks.sync_baseline`) list pages with bodies one request
after the other, convert each with plain ``markdownify``, upsert through the SDK, and do all of
it every run: ``baseline`` one document per request, ``batched`` 100 documents per request.
"seconds" is the child's wall time, interpreter start included; "sync s" the sync alone; "tree
MB" the peak RSS of the child plus its conversion workers together (the harness's "peak RSS
MB" is the largest single process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EMAIL, TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"
SECRET = "benchmark-secret-key"
INDEX = "bench"
BATCH = 100
"""Documents per upsert of the batched baseline."""
BASELINES = {"baseline": 1, "batched": BATCH}
"""The naive baselines by contender name: documents per upsert."""
PHASES = ("full sync", "no-op re-sync", "1% edited, 0.5% trashed")


def _contender(argv: list[str]) -> None:
    """Child process: ``pipeline STATE_URL WIKI CLOUD``, or ``baseline|batched WIKI CLOUD``."""
    from benchmarks.memory import TreeRss

    with TreeRss() as memory:
        if argv[0] == "pipeline":
            seconds = _run_pipeline(*argv[1:])
        else:
            from benchmarks.sync_baseline import run_baseline

            batch = BASELINES[argv[0]]
            seconds = run_baseline(*argv[1:], pipeline=f"{argv[0]}-bench", batch=batch)
    Path(os.environ["BENCH_REPORT"]).write_text(
        json.dumps({"sync_seconds": seconds, "tree_mb": memory.peak_mb})
    )


def _run_pipeline(state_url: str, wiki_url: str, cloud_url: str) -> float:
    """The sync's seconds until LlamaCloud accepted everything; also writes, in
    ``BENCH_SEARCHABLE``, the seconds until it was searchable."""
    import time

    from confluence_pipeline.confluence import ConfluenceClient, basic_auth
    from confluence_pipeline.llamacloud import open_sink
    from confluence_pipeline.runtime import allocator
    from confluence_pipeline.state import StateStore
    from confluence_pipeline.state.models import utcnow
    from confluence_pipeline.sync.results import SpaceSyncResult
    from confluence_pipeline.sync.run import sync_spaces
    from confluence_pipeline.sync.upload import wait_searchable

    allocator.tune()
    started = time.perf_counter()
    since = utcnow()
    store = StateStore.open(state_url, SECRET)
    index = store.registry.get_index(INDEX)
    with (
        ConfluenceClient(wiki_url, basic_auth(EMAIL, TOKEN)) as client,
        open_sink(index.target, API_KEY, PROJECT, base_url=cloud_url) as sink,
    ):
        results = sync_spaces(store, client, sink, index, index.spaces)
        failed = {key: str(r) for key, r in results.items() if isinstance(r, Exception)}
        if failed:
            raise SystemExit(f"pipeline failed: {failed}")
        accepted = time.perf_counter() - started
        wrote = any(
            r.upload.uploaded or r.upload.deleted
            for r in results.values()
            if isinstance(r, SpaceSyncResult)
        )
        target_id = store.registry.get_index(INDEX).target_id()
        if wrote and target_id and not wait_searchable(sink, target_id, since, 600):
            raise SystemExit("not searchable after 600 s")
    searchable = time.perf_counter() - started if wrote else accepted
    Path(os.environ["BENCH_REPORT"] + ".searchable").write_text(str(searchable))
    return accepted


class Bench:
    """One set of sandboxes, the pipeline's state, and the measurements taken so far."""

    def __init__(self, boxes: Any, workdir: Path, target: str = "pipeline") -> None:
        from confluence_pipeline.confluence import ConfluenceClient, basic_auth
        from confluence_pipeline.llamacloud import pipeline_name
        from confluence_pipeline.state import StateStore

        self.boxes = boxes
        self.workdir = workdir
        self.state_url = f"sqlite:///{workdir / 'state.db'}"
        self.rows: list[Any] = []
        store = StateStore.open(self.state_url, SECRET)
        with ConfluenceClient(boxes.wiki_url, basic_auth(EMAIL, TOKEN)) as client:
            cloud_id = client.get_cloud_id()
        store.registry.add_connection(
            name="sandbox",
            site_url=boxes.wiki_url,
            cloud_id=cloud_id,
            auth_kind="api_token",
            email=EMAIL,
            secret=TOKEN,
        )
        self.spaces = [space["key"] for space in boxes.wiki.spaces()]
        store.registry.create_index(
            name=INDEX, spaces=self.spaces, pipeline_name=pipeline_name(INDEX), target=target
        )
        store.close()

    def run(self, contender: str, phase: str) -> Any:
        from benchmarks.harness import measure

        report = self.workdir / f"{contender}-{len(self.rows)}.json"
        self.last_report = report
        args = [self.state_url] if contender == "pipeline" else []
        command = [sys.executable, __file__, contender, *args, self.boxes.wiki_url]
        command.append(self.boxes.cloud_url)
        measured = measure(contender, phase, command, self.boxes, env={"BENCH_REPORT": str(report)})
        row = (measured, json.loads(report.read_text()))
        self.rows.append(row)
        print(f"  {contender:8} {phase:24} {measured.seconds:7.2f} s", flush=True)
        return row

    def documents(self, name: str) -> int:
        return next(p["documents"] for p in self.boxes.cloud.pipelines() if p["name"] == name)

    def pages(self) -> int:
        return sum(space["pages"] for space in self.boxes.wiki.spaces())

    def edit_and_trash(self, edit_share: float, trash_share: float, seed: int = 6) -> None:
        """Edits (new title and body, version + 1) and trashes random current pages."""
        import httpx

        ids = _page_ids(self.boxes.wiki_url, self.spaces)
        rng = random.Random(seed)
        chosen = rng.sample(ids, round(len(ids) * (edit_share + trash_share)))
        edits = round(len(ids) * edit_share)
        with httpx.Client(base_url=self.boxes.wiki_url, timeout=30) as admin:
            for page_id in chosen[:edits]:
                body = {"title": f"Page {page_id}, edited"}
                admin.put(f"/_sandbox/pages/{page_id}", json=body).raise_for_status()
        for page_id in chosen[edits:]:
            self.boxes.wiki.trash_page(page_id)


def _page_ids(wiki_url: str, spaces: list[str]) -> list[str]:
    from confluence_pipeline.confluence import ConfluenceClient, basic_auth

    with ConfluenceClient(wiki_url, basic_auth(EMAIL, TOKEN)) as client:
        found = client.get_spaces(spaces)
        return [p.id for key in spaces for p in client.iter_pages(found[key].id)]


def compare(pages: int, spaces: int, latency_ms: int) -> tuple[list[Any], dict[str, float]]:
    """The rows of every contender and phase, and the floor of a full sync on the same
    sandboxes (:mod:`benchmarks.sync_floor`)."""
    from benchmarks.harness import sandboxes
    from benchmarks.sync_floor import measure_floor

    print(f"comparison: {pages} pages in {spaces} spaces, {latency_ms} ms latency", flush=True)
    with (
        sandboxes(spaces=spaces, pages_per_space=pages // spaces, latency_ms=latency_ms) as boxes,
        tempfile.TemporaryDirectory() as workdir,
    ):
        bench = Bench(boxes, Path(workdir))
        for number, phase in enumerate(PHASES):
            if number == 2:
                bench.edit_and_trash(0.01, 0.005)
            for contender in ("pipeline", *BASELINES):
                bench.run(contender, phase)
            expected = bench.pages()
            indexed = bench.documents(f"confluence-{INDEX}")
            assert indexed == expected, f"pipeline indexed {indexed} documents of {expected} pages"
        print("  floor: each step of a full sync alone", flush=True)
        return bench.rows, measure_floor(boxes.wiki_url, boxes.cloud_url, bench.spaces)


def compare_targets(pages: int, spaces: int, latency_ms: int, target: str, delay_ms: int) -> None:
    """The pipeline alone on one LlamaCloud target: accepted vs searchable, requests, writes."""
    from benchmarks.harness import print_table, sandboxes

    print(
        f"target {target}: {pages} pages in {spaces} spaces, {latency_ms} ms latency, "
        f"ingestion {delay_ms} ms",
        flush=True,
    )
    rows = []
    bound = spaces * (math.ceil(pages / spaces / 250) + 2)
    with (
        sandboxes(spaces=spaces, pages_per_space=pages // spaces, latency_ms=latency_ms) as boxes,
        tempfile.TemporaryDirectory() as workdir,
    ):
        boxes.cloud.set_ingestion(delay_ms=delay_ms)
        bench = Bench(boxes, Path(workdir), target)
        for number, phase in enumerate(PHASES):
            if number == 2:
                bench.edit_and_trash(0.01, 0.005)
            measured, extra = bench.run("pipeline", phase)
            searchable = float(Path(str(bench.last_report) + ".searchable").read_text())
            counters = measured.counters
            rows.append(
                [
                    target,
                    phase,
                    f"{measured.seconds:.2f}",
                    f"{extra['sync_seconds']:.2f}",
                    f"{searchable:.2f}",
                    counters["confluence_requests"],
                    counters["llamacloud_requests"],
                    counters["llamacloud_writes"],
                ]
            )
            if number == 1:
                assert counters["confluence_requests"] <= bound, counters
                assert counters["llamacloud_writes"] == 0, counters
    columns = ["target", "phase", "seconds", "accepted s", "searchable s"]
    print_table([*columns, "confluence requests", "llamacloud requests", "llamacloud writes"], rows)
    print(f"no-op bound: {bound} Confluence requests, 0 LlamaCloud writes", flush=True)


def memory_run(pages: int, spaces: int, latency_ms: int) -> Any:
    from benchmarks.harness import sandboxes

    print(f"memory run: {pages} pages in {spaces} spaces", flush=True)
    with (
        sandboxes(spaces=spaces, pages_per_space=pages // spaces, latency_ms=latency_ms) as boxes,
        tempfile.TemporaryDirectory() as workdir,
    ):
        bench = Bench(boxes, Path(workdir))
        row = bench.run("pipeline", f"full sync, {pages} pages")
        assert bench.documents(f"confluence-{INDEX}") == bench.pages()
        return row


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("pipeline", *BASELINES):
        _contender(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 pages, memory run at 2,500")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--spaces", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--memory-pages", type=int, default=50_000, help="0 skips the run")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--report", type=Path, help="only print the report of a --json file")
    parser.add_argument(
        "--target", choices=("pipeline", "index"), help="the pipeline alone on this target"
    )
    parser.add_argument("--ingest-delay-ms", type=int, default=200, help="with --target")
    args = parser.parse_args()
    if args.report:
        from benchmarks.report import load, print_report

        rows, big = load(args.report)
        bound = args.spaces * (math.ceil(args.pages / args.spaces / 250) + 2)
        print_report(rows, big, pages=args.pages, listing_bound=bound)
        return
    if args.quick:
        args.pages, args.memory_pages = 500, 2_500
    if args.target:
        compare_targets(args.pages, args.spaces, args.latency_ms, args.target, args.ingest_delay_ms)
        return

    from benchmarks.report import print_floor, print_report

    rows, floor = compare(args.pages, args.spaces, args.latency_ms)
    big = memory_run(args.memory_pages, args.spaces, args.latency_ms) if args.memory_pages else None
    listing_bound = args.spaces * (math.ceil(args.pages / args.spaces / 250) + 2)
    print_report(rows, big, pages=args.pages, listing_bound=listing_bound, json_path=args.json)
    print_floor(floor, rows)


if __name__ == "__main__":
    main()
