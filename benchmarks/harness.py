"""Shared by the benchmarks: sandboxes in their own process, measured child processes, tables.

Every contender runs in a child process of its own so that its peak RSS (``wait4``) is its
alone; request and byte counts come from the sandboxes' ``/_sandbox/stats``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_READY = re.compile(r"sandbox ready: confluence=(\S+) llamacloud=(\S+)")


@dataclass
class Sandboxes:
    wiki_url: str
    cloud_url: str
    wiki: ConfluenceAdmin
    cloud: LlamaCloudAdmin

    def counters(self) -> dict[str, int]:
        wiki, cloud = self.wiki.stats(), self.cloud.stats()
        return {
            "confluence_requests": wiki["requests_total"],
            "confluence_bytes": wiki["bytes_sent"],
            "llamacloud_requests": cloud["requests_total"],
            "documents_upserted": cloud["documents_upserted"],
            "llamacloud_writes": sum(
                cloud.get(key, 0)
                for key in (
                    "documents_upserted",
                    "documents_deleted",
                    "files_uploaded",
                    "files_deleted",
                    "index_syncs",
                )
            ),
        }


@contextlib.contextmanager
def sandboxes(
    *, spaces: int, pages_per_space: int, latency_ms: int = 0, seed: int = 0
) -> Iterator[Sandboxes]:
    """Runs `confluence-pipeline sandbox` in a child process until the block ends."""
    command = [
        str(BIN / "confluence-pipeline"),
        "sandbox",
        f"--confluence-port={free_port()}",
        f"--llamacloud-port={free_port()}",
        f"--spaces={spaces}",
        f"--pages-per-space={pages_per_space}",
        f"--latency-ms={latency_ms}",
        f"--seed={seed}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if match := _READY.search(line):
                wiki_url, cloud_url = match.groups()
                break
        else:
            raise RuntimeError(f"sandbox exited with {process.wait()} before it was ready")
        yield Sandboxes(wiki_url, cloud_url, ConfluenceAdmin(wiki_url), LlamaCloudAdmin(cloud_url))
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Measurement:
    contender: str
    phase: str
    seconds: float
    peak_rss_mb: float
    counters: dict[str, int]
    documents: int | None = None

    def row(self) -> list[object]:
        return [
            self.contender,
            self.phase,
            f"{self.seconds:.2f}",
            self.counters["confluence_requests"],
            f"{self.counters['confluence_bytes'] / 1e6:.2f}",
            self.counters["llamacloud_requests"],
            self.counters["documents_upserted"],
            f"{self.peak_rss_mb:.0f}",
        ]


COLUMNS = [
    "contender",
    "phase",
    "seconds",
    "confluence requests",
    "MB received",
    "llamacloud requests",
    "docs upserted",
    "peak RSS MB",
]


def measure(
    contender: str,
    phase: str,
    command: Sequence[str],
    sandboxes: Sandboxes,
    *,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> Measurement:
    """Runs ``command`` as a child process; returns its wall time, its own peak RSS and what
    the sandboxes counted meanwhile. A failing command raises with its stderr's last lines.
    ``quiet`` discards the command's stdout."""
    before = sandboxes.counters()
    started = time.monotonic()
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{contender} {phase} exited {process.returncode}:\n{tail}")
    after = sandboxes.counters()
    delta = {key: after[key] - before[key] for key in after}
    return Measurement(contender, phase, seconds, usage.ru_maxrss / 1024, delta)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [list(map(str, columns)), *[[str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for position, row in enumerate(cells):
        print("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)))
        if position == 0:
            print("  ".join("-" * width for width in widths))
