"""Search latency of the MCP server at 10,000 documents, against the sandboxes (no latency).

Both sandboxes run in a child process (`confluence-pipeline sandbox --latency-ms 0`); the pages
are synced into the LlamaCloud sandbox by the pipeline itself (sync_spaces, untimed), then
`confluence-pipeline mcp --transport streamable-http` runs in a child process with a bearer
token and the SDK's client calls the `search` tool over HTTP, one call at a time, with queries
made of words from page titles (``--queries`` of them, after ``--warmup`` unmeasured ones).
For scale, the same queries go straight to the sandbox's retrieve endpoint through the
retriever the server uses.

    .venv/bin/python benchmarks/mcp.py            # 10,000 documents in 5 spaces
    .venv/bin/python benchmarks/mcp.py --quick    # 1,000 documents, 50 queries: a smoke run

Prints p50/p95/max for both, and the CPU each process spent per search (server, sandbox,
client): on a shared machine wall times carry others' load, CPU times do not. The sandbox holds
every document in one Python heap; its full garbage collections stall a few percent of its
answers by ~300 ms, which is the emulator's, not the server's: ``--sandbox-gc off`` measures
without them. The target is a search p95 of at most 300 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, where this module would shadow
# the `mcp` SDK it measures: search from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

EMAIL, SANDBOX_TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"
SECRET = "benchmark-secret-key-of-32-chars"
MCP_TOKEN = "benchmark-mcp-token-0123456789abcdef"
INDEX = "bench"
TARGET_P95_MS = 300.0


def _cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _sandboxes(spaces: int, pages_per_space: int, gc: bool) -> Iterator[tuple[Any, int]]:
    """`confluence-pipeline sandbox` in a child process (latency 0), its garbage collector
    on or off: its URLs and its pid."""
    from benchmarks.harness import _READY, BIN, Sandboxes
    from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
    from confluence_pipeline.sandbox.server import free_port

    program = [str(BIN / "confluence-pipeline")]
    if not gc:
        code = "import gc, sys; gc.disable(); from confluence_pipeline.cli import main; "
        code += "main(sys.argv[1:])"
        program = [sys.executable, "-c", code]
    command = [
        *program,
        "sandbox",
        f"--confluence-port={free_port()}",
        f"--llamacloud-port={free_port()}",
        f"--spaces={spaces}",
        f"--pages-per-space={pages_per_space}",
        "--latency-ms=0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if match := _READY.search(line):
                wiki, cloud = match.groups()
                break
        else:
            raise SystemExit(f"sandbox exited with {process.wait()} before it was ready")
        boxes = Sandboxes(wiki, cloud, ConfluenceAdmin(wiki), LlamaCloudAdmin(cloud))
        yield boxes, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _summary(label: str, millis: Sequence[float]) -> list[object]:
    return [
        label,
        len(millis),
        f"{statistics.median(millis):.1f}",
        f"{_percentile(millis, 0.95):.1f}",
        f"{max(millis):.1f}",
    ]


def _prepare(wiki_url: str, cloud_url: str, state_url: str) -> tuple[list[str], float]:
    """Connects, creates the index over every space, syncs it; returns the page titles and
    the sync's seconds."""
    from confluence_pipeline.confluence import ConfluenceClient, basic_auth
    from confluence_pipeline.llamacloud import LlamaCloudSink, pipeline_name
    from confluence_pipeline.state import StateStore
    from confluence_pipeline.sync.run import sync_spaces

    store = StateStore.open(state_url, SECRET)
    try:
        with ConfluenceClient(wiki_url, basic_auth(EMAIL, SANDBOX_TOKEN)) as client:
            store.registry.add_connection(
                name="sandbox",
                site_url=wiki_url,
                cloud_id=client.get_cloud_id(),
                auth_kind="api_token",
                email=EMAIL,
                secret=SANDBOX_TOKEN,
            )
            keys = [space.key for space in client.visible_spaces(100)]
            index = store.registry.create_index(
                name=INDEX, spaces=keys, pipeline_name=pipeline_name(INDEX)
            )
            started = time.perf_counter()
            with LlamaCloudSink(API_KEY, PROJECT, base_url=cloud_url) as sink:
                results = sync_spaces(store, client, sink, index, keys)
            seconds = time.perf_counter() - started
            failed = {key: str(r) for key, r in results.items() if isinstance(r, Exception)}
            if failed:
                raise SystemExit(f"sync failed: {failed}")
            found = client.get_spaces(keys)
            titles = [p.title for key in keys for p in client.iter_pages(found[key].id)]
        return titles, seconds
    finally:
        store.close()


def _queries(titles: Sequence[str], count: int, seed: int = 13) -> list[str]:
    """Two or three words of a random page title each."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        words = rng.choice(titles).split()
        size = min(len(words), rng.choice((2, 3)))
        start = rng.randrange(0, len(words) - size + 1)
        queries.append(" ".join(words[start : start + size]))
    return queries


def _timed(call: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    millis = []
    for query in queries:
        started = time.perf_counter()
        call(query)
        millis.append((time.perf_counter() - started) * 1000)
    return millis


def _direct(cloud_url: str, state_url: str, queries: Sequence[str], warmup: int) -> list[float]:
    """The retriever alone: LlamaCloud (sandbox) retrieval as the server asks for it."""
    from confluence_pipeline.mcp import PipelineRetriever
    from confluence_pipeline.state import StateStore

    store = StateStore.open(state_url, SECRET)
    retriever = PipelineRetriever(API_KEY, base_url=cloud_url)
    try:
        index = store.registry.get_index(INDEX)
        filters = {"space_key": list(index.spaces)}

        def call(query: str) -> object:
            return retriever.retrieve(index, query, top_k=20, filters=filters)

        _timed(call, queries[:warmup])
        return _timed(call, queries)
    finally:
        retriever.close()
        store.close()


def _over_mcp(url: str, queries: Sequence[str], warmup: int) -> tuple[list[float], int]:
    """The `search` tool over streamable HTTP through the SDK's client; also counts the
    calls that returned results."""
    import anyio
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    millis: list[float] = []
    answered = 0

    async def main() -> None:
        nonlocal answered
        headers = {"Authorization": f"Bearer {MCP_TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for number, query in enumerate([*queries[:warmup], *queries]):
                started = time.perf_counter()
                result = await session.call_tool("search", {"query": query})
                elapsed = (time.perf_counter() - started) * 1000
                if result.is_error:
                    raise SystemExit(f"search failed: {result.content}")
                if number >= warmup:
                    millis.append(elapsed)
                    answered += bool((result.structured_content or {}).get("results"))

    anyio.run(main)
    return millis, answered


def _serve(state_url: str, cloud_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    from benchmarks.harness import BIN

    env = {
        **os.environ,
        "CONFLUENCE_PIPELINE_DATABASE_URL": state_url,
        "SECRET_KEY": SECRET,
        "LLAMA_CLOUD_API_KEY": API_KEY,
        "LLAMA_CLOUD_PROJECT_ID": PROJECT,
        "LLAMA_CLOUD_BASE_URL": cloud_url,
        "CONFLUENCE_PIPELINE_MCP_TOKEN": MCP_TOKEN,
    }
    command = [str(BIN / "confluence-pipeline"), "mcp", "--transport", "streamable-http"]
    with log.open("wb") as errors:
        return subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=errors
        )


def _wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    import socket

    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if server.poll() is not None:
            raise SystemExit(f"the MCP server exited with {server.returncode}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--spaces", type=int, default=5)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1,000 documents, 50 queries")
    parser.add_argument(
        "--sandbox-gc",
        choices=("on", "off"),
        default="on",
        help="the sandbox's garbage collector: its full collections over the 10,000 documents "
        "it holds stall it ~300 ms on a few percent of requests; off measures without them",
    )
    parser.add_argument(
        "--nice",
        type=int,
        help="run this benchmark and its children at this niceness (negative: ahead of other "
        "work on a shared machine; needs CAP_SYS_NICE)",
    )
    args = parser.parse_args()
    if args.quick:
        args.documents, args.queries = 1_000, 50
    if args.nice is not None:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)

    from benchmarks.harness import print_table
    from confluence_pipeline.sandbox.server import free_port

    per_space = args.documents // args.spaces
    print(f"{per_space * args.spaces} pages in {args.spaces} spaces, sandbox latency 0", flush=True)
    with (
        _sandboxes(args.spaces, per_space, args.sandbox_gc == "on") as (boxes, sandbox_pid),
        tempfile.TemporaryDirectory() as workdir,
    ):
        state_url = f"sqlite:///{Path(workdir) / 'state.db'}"
        titles, sync_seconds = _prepare(boxes.wiki_url, boxes.cloud_url, state_url)
        documents = sum(p["documents"] for p in boxes.cloud.pipelines())
        print(f"synced {documents} documents in {sync_seconds:.1f} s", flush=True)
        queries = _queries(titles, args.queries)
        sandbox_before = _cpu_ms(sandbox_pid)
        direct = _direct(boxes.cloud_url, state_url, queries, args.warmup)
        sandbox_direct = _cpu_ms(sandbox_pid) - sandbox_before
        port = free_port()
        log = Path(workdir) / "mcp.log"
        server = _serve(state_url, boxes.cloud_url, port, log)
        try:
            _wait_for_port(port, server)
            url = f"http://127.0.0.1:{port}/mcp"
            server_before, sandbox_before = _cpu_ms(server.pid), _cpu_ms(sandbox_pid)
            client_before = time.process_time()
            over_mcp, answered = _over_mcp(url, queries, args.warmup)
            client_cpu = (time.process_time() - client_before) * 1000
            server_cpu = _cpu_ms(server.pid) - server_before
            sandbox_mcp = _cpu_ms(sandbox_pid) - sandbox_before
        finally:
            server.terminate()
            server.wait(timeout=30)
        load = os.getloadavg()[0]
    print()
    print_table(
        ["path", "calls", "p50 ms", "p95 ms", "max ms"],
        [
            _summary("retrieve (sandbox, direct)", direct),
            _summary("search tool (MCP over HTTP)", over_mcp),
        ],
    )
    calls = len(queries) + args.warmup  # CPU was counted over the warm-up calls too
    print(
        f"\nCPU per search, ms: MCP server {server_cpu / calls:.1f}, sandbox "
        f"{sandbox_mcp / calls:.1f} (direct retrieve: {sandbox_direct / calls:.1f}), SDK client "
        f"{client_cpu / calls:.1f}; load average {load:.1f} on {os.cpu_count()} CPUs, "
        f"niceness {os.getpriority(os.PRIO_PROCESS, 0)}, sandbox GC {args.sandbox_gc}"
    )
    p95 = _percentile(over_mcp, 0.95)
    verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
    print(f"\n{answered}/{len(over_mcp)} searches returned results; {documents} documents")
    print(f"search p95 {p95:.1f} ms: target <= {TARGET_P95_MS:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
