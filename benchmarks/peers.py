"""Side by side with the peers, on the same sandboxes over real HTTP:

(a) this pipeline, through its CLI (connect, index create, sync) in a temporary home;
(b) LlamaIndex ``ConfluenceReader`` + ``LlamaCloudIndex`` inserting into the LlamaCloud sandbox;
(c) LangChain ``ConfluenceLoader`` (documents only).

Each contender runs three phases in a child process of its own: a full sync, a no-op re-sync,
and a re-sync after 1 % of the pages were edited and 0.5 % trashed. After each phase its index
is judged: documents versus pages that exist, wrong documents (trashed pages still indexed,
edited pages with the old text) and the share that leaks storage markup.

"seconds" is the time to *accepted*: until the contender's process exits (LlamaIndex's
``from_documents`` waits for ingestion itself; this pipeline's ``sync`` returns once LlamaCloud
accepted its documents). "to searchable s" is, for every contender with an index, the time
until the LlamaCloud sandbox's ingestion status of its pipeline (``GET
/api/v1/pipelines/{id}/status``, the same route polled for all) says nothing is pending, with
the sandbox's ingestion delay on (``--ingest-delay-ms``, per document).

    make bench-peers ARGS="--json"
    .venv/bin/python benchmarks/peers.py [--spaces 3] [--pages-per-space 1000] [--latency-ms 50]

The peers run from ``.venv-bench`` (``make bench-peers`` builds it from the ``bench`` extra; they
need ``llama-cloud<2``, this project pins 2.19), or from the interpreter in ``PEERS_PYTHON``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import BIN, COLUMNS, ROOT, Sandboxes, measure, print_table, sandboxes
from benchmarks.peers_check import AUTH, IndexCheck, Truth, check
from confluence_pipeline.llamacloud.sink import pipeline_name

PHASES = ("full sync", "no-op re-sync", "re-sync after edits")
INDEX = "bench"
LLAMAINDEX_PIPELINE = "peers-llamaindex"
EDIT_SHARE, DELETE_SHARE = 0.01, 0.005
EXTRA_COLUMNS = ["to searchable s", "docs / pages", "wrong", "missing", "leaking %"]
SEARCHABLE_TIMEOUT_S = 900


@dataclass
class Contender:
    name: str
    command: Callable[[str], list[str]]  # phase -> argv
    env: dict[str, str]
    documents: Callable[[], dict[str, str]]  # page id -> text of its index after a run
    pipeline: str | None = None  # its LlamaCloud pipeline (None: it builds no index)


def _seconds_to_searchable(box: Sandboxes, pipeline: str | None) -> float | None:
    """Seconds until the pipeline's ingestion status says nothing is pending (polled every
    50 ms); None for a contender without an index."""
    found = [p["id"] for p in box.cloud.pipelines() if p["name"] == pipeline]
    if not found:
        return None
    started = time.monotonic()
    headers = {"Authorization": "Bearer sandbox-key"}
    with httpx.Client(base_url=box.cloud_url, headers=headers, timeout=30) as http:
        while True:
            answer = http.get(f"/api/v1/pipelines/{found[0]}/status").raise_for_status()
            if answer.json()["status"] in ("SUCCESS", "NOT_STARTED"):
                return time.monotonic() - started
            if time.monotonic() - started > SEARCHABLE_TIMEOUT_S:
                raise RuntimeError(f"{pipeline} not searchable after {SEARCHABLE_TIMEOUT_S} s")
            time.sleep(0.05)


def _pipeline_documents(box: Sandboxes, name: str) -> dict[str, dict[str, Any]]:
    for pipeline in box.cloud.pipelines():
        if pipeline["name"] == name:
            return box.cloud.documents(pipeline["id"])
    return {}


def _this_pipeline(box: Sandboxes, keys: list[str], home: Path) -> Contender:
    cli = str(BIN / "confluence-pipeline")
    setup = [
        [cli, "connect", "--site", box.wiki_url, "--email", AUTH[0], "--api-token", AUTH[1]],
        [cli, "index", "create", INDEX, "--spaces", ",".join(keys)],
    ]
    sync = [cli, "sync", INDEX]

    def command(phase: str) -> list[str]:
        if phase != PHASES[0]:
            return sync
        return ["sh", "-c", " && ".join(shlex.join(step) for step in [*setup, sync])]

    def documents() -> dict[str, str]:
        docs = _pipeline_documents(box, pipeline_name(INDEX))
        return {doc_id.rsplit("-", 1)[-1]: doc["text"] for doc_id, doc in docs.items()}

    env = {
        "CONFLUENCE_PIPELINE_HOME": str(home),
        "LLAMA_CLOUD_API_KEY": "sandbox-key",
        "LLAMA_CLOUD_PROJECT_ID": "sandbox-project",
        "LLAMA_CLOUD_BASE_URL": box.cloud_url,
    }
    for variable in ("DAGSTER_HOME", "CONFLUENCE_PIPELINE_DATABASE_URL", "SECRET_KEY"):
        env[variable] = ""  # empty means unset: all state lives in the temporary home
    return Contender("this pipeline", command, env, documents, pipeline_name(INDEX))


def _llamaindex(box: Sandboxes, keys: list[str], python: str) -> Contender:
    script = str(ROOT / "benchmarks" / "peer_llamaindex.py")

    def command(phase: str) -> list[str]:
        mode = "full" if phase == PHASES[0] else "resync"
        args = ["--wiki", box.wiki_url, "--spaces", ",".join(keys)]
        return [python, script, *args, "--index", LLAMAINDEX_PIPELINE, "--phase", mode]

    def documents() -> dict[str, str]:
        docs = _pipeline_documents(box, LLAMAINDEX_PIPELINE)
        return {doc_id: doc["text"] for doc_id, doc in docs.items()}

    env = {"LLAMA_CLOUD_API_KEY": "sandbox-key", "LLAMA_CLOUD_BASE_URL": box.cloud_url}
    return Contender(
        "LlamaIndex reader + LlamaCloudIndex", command, env, documents, LLAMAINDEX_PIPELINE
    )


def _langchain(box: Sandboxes, keys: list[str], python: str, out: Path) -> Contender:
    script = str(ROOT / "benchmarks" / "peer_langchain.py")

    def command(phase: str) -> list[str]:
        return [
            python,
            script,
            "--wiki",
            box.wiki_url,
            "--spaces",
            ",".join(keys),
            "--out",
            f"{out}",
        ]

    def documents() -> dict[str, str]:
        return dict(json.loads(out.read_text(encoding="utf-8")))

    return Contender("LangChain ConfluenceLoader", command, {}, documents)


def run(args: argparse.Namespace) -> dict[str, Any]:
    python = os.environ.get("PEERS_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))
    if not Path(python).exists():
        raise SystemExit(f"error: {python} missing; `make bench-peers` builds the peers' venv")
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch,
        sandboxes(
            spaces=args.spaces, pages_per_space=args.pages_per_space, latency_ms=args.latency_ms
        ) as box,
    ):
        box.cloud.set_ingestion(delay_ms=args.ingest_delay_ms)
        keys = [space["key"] for space in box.wiki.spaces()]
        truth = Truth.load(box.wiki_url, box.wiki, keys)
        peer_env = {"CONFLUENCE_USERNAME": AUTH[0], "CONFLUENCE_PASSWORD": AUTH[1]}
        contenders = [
            _this_pipeline(box, keys, Path(scratch) / "home"),
            _llamaindex(box, keys, python),
            _langchain(box, keys, python, Path(scratch) / "langchain.json"),
        ]
        for phase in PHASES:
            if phase == PHASES[2]:
                edits, deletions = truth.mutate(
                    box.wiki, edit_share=EDIT_SHARE, delete_share=DELETE_SHARE
                )
                print(f"edited {edits} pages, trashed {deletions}", file=sys.stderr)
            for contender in contenders:
                print(f"{contender.name}: {phase} ...", file=sys.stderr, flush=True)
                env = {**peer_env, **contender.env}
                result = measure(
                    contender.name, phase, contender.command(phase), box, env=env, quiet=True
                )
                waited = _seconds_to_searchable(box, contender.pipeline)
                searchable = None if waited is None else result.seconds + waited
                judged = check(contender.documents(), truth)
                rows.append(_row(result.__dict__, judged, searchable))
    return {
        "spaces": args.spaces,
        "pages_per_space": args.pages_per_space,
        "latency_ms": args.latency_ms,
        "ingest_delay_ms": args.ingest_delay_ms,
        "rows": rows,
    }


def _row(measured: dict[str, Any], judged: IndexCheck, searchable: float | None) -> dict[str, Any]:
    return {
        "contender": measured["contender"],
        "phase": measured["phase"],
        "seconds": round(measured["seconds"], 2),
        "searchable_seconds": None if searchable is None else round(searchable, 2),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        **measured["counters"],
        **judged.as_dict(),
    }


def _table_row(row: dict[str, Any]) -> list[object]:
    return [
        row["contender"],
        row["phase"],
        f"{row['seconds']:.1f}",
        row["confluence_requests"],
        f"{row['confluence_bytes'] / 1e6:.1f}",
        row["llamacloud_requests"],
        row["documents_upserted"],
        f"{row['peak_rss_mb']:.0f}",
        "n/a" if row["searchable_seconds"] is None else f"{row['searchable_seconds']:.1f}",
        f"{row['documents']} / {row['pages']}",
        row["wrong"],
        row["missing"],
        f"{100 * row['leaking_share']:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="This pipeline against LlamaIndex and LangChain.")
    parser.add_argument("--spaces", type=int, default=3)
    parser.add_argument("--pages-per-space", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--ingest-delay-ms", type=int, default=200, help="LlamaCloud ingestion")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(COLUMNS + EXTRA_COLUMNS, [_table_row(row) for row in report["rows"]])


if __name__ == "__main__":
    main()
