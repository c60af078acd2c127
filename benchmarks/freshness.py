"""Edit-to-searchable freshness under the change sensor, as deployed locally, and what it costs
in Confluence points.

    .venv/bin/python benchmarks/freshness.py           # 100,000 pages in 20 spaces, 10 min
    .venv/bin/python benchmarks/freshness.py --quick   # 2,000 pages in 4 spaces, 3 min
    .venv/bin/python benchmarks/freshness.py --spaces 20 --pages-per-space 2500 --minutes 5

Setup: both sandboxes in a child process, the Confluence one metered by Atlassian's points
model (1 point per request + 1 per page or space returned, 2 per user); the LlamaCloud one with
its ingestion delay on (``--ingestion-delay-s``). The index is synced once directly
(``sync_spaces``), then ``dagster-daemon run -w workspace.yaml`` on a fresh DAGSTER_HOME runs
both sensors as deployed (the change sensor every 30 s, the interval sensor every 60 s with
hourly partitions), launching each run in its own process.

Load: one event every ``--every`` seconds for ``--minutes``, in random spaces: an edit that
writes a unique word into a random page, and every ``--trash-every``-th event a trash of a page
edited earlier (once that edit is searchable). Measured per edit: seconds until retrieval
returns the page with its new word; per trash: seconds until retrieval no longer returns it.
Then Confluence requests and points per hour under load and, for ``--idle-minutes``, idle,
against a tier-1 budget of 65,000 points an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import BIN, ROOT, print_table
from confluence_pipeline.sync.changes import OVERLAP

EMAIL, TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"
SECRET = "benchmark-secret-key-of-32-chars"
INDEX = "fresh"
TIER1 = 65_000
POLL_S = 1.0


class PointsMeter:
    """ASGI wrapper of the Confluence sandbox counting requests and points of its public API;
    ``GET /_bench/points`` answers the totals."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.points = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        if path == "/_bench/points":
            body = json.dumps({"requests": self.requests, "points": self.points}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        objects = _objects(b"".join(chunks)) * (2 if "/user" in path else 1)
        with self._lock:
            self.requests += 1
            self.points += 1 + objects


def _objects(body: bytes) -> int:
    try:
        data = json.loads(body)
    except ValueError:
        return 0
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return len(data["results"])
    return 1 if isinstance(data, dict) and "id" in data else 0


def _serve(spaces: int, pages_per_space: int, ready: Path) -> None:
    """Child process: both sandboxes until killed; writes their URLs to ``ready``."""
    from confluence_pipeline.sandbox import confluence, llamacloud
    from confluence_pipeline.sandbox.server import ServerThread

    wiki_app = PointsMeter(confluence.create_app(spaces=spaces, pages_per_space=pages_per_space))
    with ServerThread(wiki_app) as wiki, ServerThread(llamacloud.create_app()) as cloud:
        ready.write_text(json.dumps({"wiki": wiki.url, "cloud": cloud.url}))
        threading.Event().wait()


@dataclass
class Event:
    kind: str  # "edit" | "trash"
    page_id: str
    word: str
    at: float
    done: float | None = None


@dataclass
class Meter:
    wiki_url: str
    marks: list[tuple[float, int, int]] = field(default_factory=list)

    def read(self) -> tuple[int, int]:
        data = httpx.get(f"{self.wiki_url}/_bench/points", timeout=30).json()
        return int(data["requests"]), int(data["points"])

    def per_hour(
        self, start: tuple[float, int, int], end: tuple[float, int, int]
    ) -> tuple[float, float]:
        hours = (end[0] - start[0]) / 3600
        return (end[1] - start[1]) / hours, (end[2] - start[2]) / hours

    def mark(self) -> tuple[float, int, int]:
        return (time.monotonic(), *self.read())


def _setup(workdir: Path, urls: dict[str, str]) -> tuple[dict[str, list[str]], str, str]:
    """Connection, index over every space, one direct full sync; the page ids by space, the
    state URL and the pipeline id."""
    from confluence_pipeline.confluence import ConfluenceClient, basic_auth
    from confluence_pipeline.llamacloud import open_sink, pipeline_name
    from confluence_pipeline.state import StateStore
    from confluence_pipeline.sync.run import sync_spaces

    state_url = f"sqlite:///{workdir / 'state.db'}"
    store = StateStore.open(state_url, SECRET)
    with ConfluenceClient(urls["wiki"], basic_auth(EMAIL, TOKEN)) as client:
        store.registry.add_connection(
            name="sandbox",
            site_url=urls["wiki"],
            cloud_id=client.get_cloud_id(),
            auth_kind="api_token",
            email=EMAIL,
            secret=TOKEN,
        )
        spaces = client.get_spaces([s["key"] for s in _admin(urls).spaces()])
        index = store.registry.create_index(
            name=INDEX, spaces=sorted(spaces), pipeline_name=pipeline_name(INDEX)
        )
        with open_sink("pipeline", API_KEY, PROJECT, base_url=urls["cloud"]) as sink:
            results = sync_spaces(store, client, sink, index, index.spaces)
        failed = [key for key, result in results.items() if isinstance(result, Exception)]
        if failed:
            raise SystemExit(f"initial sync failed for {failed}")
        pages = {key: [p.id for p in client.iter_pages(space.id)] for key, space in spaces.items()}
    pipeline_id = store.registry.get_index(INDEX).pipeline_id
    store.close()
    assert pipeline_id is not None
    return pages, state_url, pipeline_id


def _admin(urls: dict[str, str]) -> Any:
    from confluence_pipeline.sandbox.admin import ConfluenceAdmin

    return ConfluenceAdmin(urls["wiki"])


def _found(cloud_url: str, pipeline_id: str, event: Event) -> bool:
    """Whether retrieval returns the page with the event's word."""
    body = {
        "query": event.word,
        "dense_similarity_top_k": 3,
        "search_filters": {
            "filters": [{"key": "page_id", "value": event.page_id, "operator": "=="}],
            "condition": "and",
        },
    }
    response = httpx.post(
        f"{cloud_url}/api/v1/pipelines/{pipeline_id}/retrieve",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=60,
    )
    nodes = response.raise_for_status().json()["retrieval_nodes"]
    return any(event.word in node["node"]["text"] for node in nodes)


def _watch(
    events: list[Event], urls: dict[str, str], pipeline_id: str, stop: threading.Event
) -> None:
    """Polls retrieval for every pending event until ``stop``; stamps ``done``."""
    while not stop.is_set():
        for event in [e for e in events if e.done is None]:
            found = _found(urls["cloud"], pipeline_id, event)
            if found == (event.kind == "edit"):
                event.done = time.monotonic()
        stop.wait(POLL_S)


def _daemon(workdir: Path, urls: dict[str, str], state_url: str) -> subprocess.Popen[bytes]:
    home = workdir / "dagster"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_CLOUD_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        CONFLUENCE_PIPELINE_DATABASE_URL=state_url,
        SECRET_KEY=SECRET,
        LLAMA_CLOUD_API_KEY=API_KEY,
        LLAMA_CLOUD_PROJECT_ID=PROJECT,
        LLAMA_CLOUD_BASE_URL=urls["cloud"],
    )
    log = (workdir / "daemon.log").open("ab")
    return subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _wait_pending(events: list[Event], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while any(e.done is None for e in events) and time.monotonic() < deadline:
        time.sleep(POLL_S)


def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="freshness-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="freshness-")) if args.keep else Path(tmp)
        print(f"work directory: {workdir}")
        ready = workdir / "sandboxes.json"
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(args.spaces),
                str(args.pages_per_space),
                str(ready),
            ]
        )
        daemon = None
        try:
            while not ready.exists():
                if server.poll() is not None:
                    raise SystemExit("the sandboxes exited before they were ready")
                time.sleep(0.2)
            urls = json.loads(ready.read_text())
            started = time.monotonic()
            pages, state_url, pipeline_id = _setup(workdir, urls)
            seconds = time.monotonic() - started
            print(f"initial sync of {args.spaces * args.pages_per_space:,} pages: {seconds:.0f} s")
            from confluence_pipeline.sandbox.admin import LlamaCloudAdmin

            LlamaCloudAdmin(urls["cloud"]).set_ingestion(
                delay_ms=int(args.ingestion_delay_s * 1000)
            )
            daemon = _daemon(workdir, urls, state_url)
            meter = Meter(urls["wiki"])
            time.sleep(args.warmup_s)  # the daemon loads the code location; sensors start
            events: list[Event] = []
            stop = threading.Event()
            watcher = threading.Thread(target=_watch, args=(events, urls, pipeline_id, stop))
            watcher.start()
            admin = _admin(urls)
            load_start = meter.mark()
            routes_before = admin.stats()
            edited: list[Event] = []
            count = int(args.minutes * 60 / args.every)
            for n in range(count):
                tick = time.monotonic()
                searchable = [e for e in edited if e.done is not None]
                if args.trash_every and (n + 1) % args.trash_every == 0 and searchable:
                    target = searchable.pop(rng.randrange(len(searchable)))
                    edited.remove(target)
                    admin.trash_page(target.page_id)
                    events.append(Event("trash", target.page_id, target.word, time.monotonic()))
                else:
                    space = rng.choice(sorted(pages))
                    page = rng.choice(pages[space])
                    word = f"fresh{uuid.uuid4().hex[:12]}"
                    admin.edit_page(page, f"<p>Freshness probe {word}.</p>")
                    event = Event("edit", page, word, time.monotonic())
                    events.append(event)
                    edited = [e for e in edited if e.page_id != page] + [event]
                time.sleep(max(0.0, args.every - (time.monotonic() - tick)))
            load_end = meter.mark()
            routes = _routes(admin.stats(), routes_before)
            _wait_pending(events, 300)
            # idle once the last edit has left the change query's window
            quiet = events[-1].at + OVERLAP.total_seconds() + 30 - time.monotonic()
            time.sleep(max(0.0, quiet))
            idle_start = meter.mark()
            time.sleep(args.idle_minutes * 60)
            idle_end = meter.mark()
            stop.set()
            watcher.join()
        finally:
            if daemon is not None:
                os.killpg(daemon.pid, 15)
                daemon.wait(timeout=60)
            server.kill()
            server.wait()
    _report(args, events, meter, (load_start, load_end), (idle_start, idle_end))
    hours = (load_end[0] - load_start[0]) / 3600
    print("\nConfluence requests per hour under load, by route:")
    print_table(["route", "requests/h"], [[r, f"{n / hours:,.0f}"] for r, n in routes])


def _routes(after: dict[str, Any], before: dict[str, Any]) -> list[tuple[str, int]]:
    was = before.get("requests_by_route", {})
    delta = {r: n - was.get(r, 0) for r, n in after.get("requests_by_route", {}).items()}
    return sorted(((r, n) for r, n in delta.items() if n), key=lambda item: -item[1])


def _report(
    args: argparse.Namespace,
    events: list[Event],
    meter: Meter,
    load: tuple[tuple[float, int, int], tuple[float, int, int]],
    idle: tuple[tuple[float, int, int], tuple[float, int, int]],
) -> None:
    print(
        f"\n{args.spaces * args.pages_per_space:,} pages in {args.spaces} spaces; one event every "
        f"{args.every:g} s for {args.minutes:g} min (every {args.trash_every}th a trash); "
        f"ingestion delay {args.ingestion_delay_s:g} s\n"
    )
    rows = []
    for kind in ("edit", "trash"):
        done = [e.done - e.at for e in events if e.kind == kind and e.done is not None]
        missed = sum(1 for e in events if e.kind == kind and e.done is None)
        if done:
            rows.append(
                [
                    kind,
                    len(done),
                    missed,
                    f"{statistics.median(done):.0f}",
                    f"{_percentile(done, 0.95):.0f}",
                    f"{max(done):.0f}",
                ]
            )
        else:
            rows.append([kind, 0, missed, "-", "-", "-"])
    print_table(["event", "seen", "not seen in 300 s", "p50 s", "p95 s", "max s"], rows)
    print()
    cost = []
    for phase, (start, end) in (("under load", load), ("idle", idle)):
        requests, points = meter.per_hour(start, end)
        cost.append([phase, f"{requests:,.0f}", f"{points:,.0f}", f"{points / TIER1:.1%}"])
    print_table(["Confluence", "requests/h", "points/h", "of tier 1 (65,000)"], cost)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 pages, 3 minutes")
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--pages-per-space", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=10, help="seconds between events")
    parser.add_argument("--trash-every", type=int, default=5, help="every Nth event a trash")
    parser.add_argument("--ingestion-delay-s", type=float, default=15)
    parser.add_argument("--idle-minutes", type=float, default=5)
    parser.add_argument("--warmup-s", type=float, default=45)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the state and daemon log")
    args = parser.parse_args()
    if args.quick:
        args.spaces, args.pages_per_space, args.minutes, args.idle_minutes = 4, 500, 3, 2
    run(args)


if __name__ == "__main__":
    main()
