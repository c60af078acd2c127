"""The sync benchmark's table and its verdict on each target of issue #6."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import COLUMNS, Measurement, print_table

Row = tuple[Measurement, dict[str, Any]]
EXTRA_COLUMNS = ["sync s", "tree MB"]


def _cells(row: Row) -> list[object]:
    measurement, extra = row
    return [*measurement.row(), f"{extra['sync_seconds']:.2f}", f"{extra['tree_mb']:.0f}"]


def _find(rows: Sequence[Row], contender: str, phase_start: str) -> Row:
    return next(
        r for r in rows if r[0].contender == contender and r[0].phase.startswith(phase_start)
    )


def load(path: Path) -> tuple[list[Row], Row | None]:
    """Rows saved by ``--json``: the comparison rows and the memory run's (if any)."""
    saved = json.loads(path.read_text())["rows"]
    fields = {"contender", "phase", "seconds", "peak_rss_mb", "counters", "documents"}
    rows: list[Row] = [
        (Measurement(**{k: v for k, v in r.items() if k in fields}), r) for r in saved
    ]
    big = [row for row in rows if row[0].phase.startswith("full sync, ")]
    return [row for row in rows if row not in big], (big[0] if big else None)


def print_report(
    rows: Sequence[Row],
    big: Row | None,
    *,
    pages: int,
    listing_bound: int,
    json_path: Path | None = None,
) -> None:
    """Prints every measurement, then each target with its figure and PASS/MISS."""
    table = [*rows, *([big] if big else [])]
    print()
    print_table([*COLUMNS, *EXTRA_COLUMNS], [_cells(row) for row in table])

    full, base_full = _find(rows, "pipeline", "full")[0], _find(rows, "baseline", "full")[0]
    batched_full = _find(rows, "batched", "full")[0]
    noop, base_noop = _find(rows, "pipeline", "no-op")[0], _find(rows, "baseline", "no-op")[0]
    change = _find(rows, "pipeline", "1%")[0]
    full_sync = _find(rows, "pipeline", "full")[1]["sync_seconds"]
    change_sync = _find(rows, "pipeline", "1%")[1]["sync_seconds"]
    speedup = base_full.seconds / full.seconds
    batched_speedup = batched_full.seconds / full.seconds
    noop_bytes = max(noop.counters["confluence_bytes"], 1)
    byte_ratio = base_noop.counters["confluence_bytes"] / noop_bytes
    checks = [
        (
            "full sync >= 10x faster than the per-document baseline",
            f"{speedup:.1f}x",
            speedup >= 10,
        ),
        (
            "full sync >= 3x faster than the batched baseline (100 per upsert)",
            f"{batched_speedup:.1f}x",
            batched_speedup >= 3,
        ),
        (
            f"no-op: <= {listing_bound} Confluence requests",
            str(noop.counters["confluence_requests"]),
            noop.counters["confluence_requests"] <= listing_bound,
        ),
        (
            "no-op: zero uploads",
            str(noop.counters["documents_upserted"]),
            noop.counters["documents_upserted"] == 0,
        ),
        ("no-op: >= 50x fewer bytes than the baseline", f"{byte_ratio:.0f}x", byte_ratio >= 50),
        (
            "1% change sync < 10% of the full sync (process wall time)",
            f"{change.seconds / full.seconds:.1%}",
            change.seconds < 0.1 * full.seconds,
        ),
        (
            "1% change sync < 10% of the full sync (sync alone)",
            f"{change_sync / full_sync:.1%}",
            change_sync < 0.1 * full_sync,
        ),
    ]
    if big is not None:
        small_rss, big_rss = full.peak_rss_mb, big[0].peak_rss_mb
        big_tree = big[1]["tree_mb"]
        checks += [
            (
                "peak RSS < 400 MB at the big run (largest process / whole tree)",
                f"{big_rss:.0f} / {big_tree:.0f} MB",
                big_rss < 400,
            ),
            (
                f"RSS grows less than linearly ({pages} -> 5x pages)",
                f"{small_rss:.0f} -> {big_rss:.0f} MB ({big_rss / small_rss:.1f}x)",
                big_rss / small_rss < 5,
            ),
        ]
    print()
    print_table(
        ["target", "measured", "verdict"], [[t, m, "PASS" if ok else "MISS"] for t, m, ok in checks]
    )
    if json_path is not None:
        data = [{**vars(m), **extra} for m, extra in table]
        json_path.write_text(json.dumps({"rows": data, "checks": checks}, indent=2))


def print_floor(floor: dict[str, float], rows: Sequence[Row]) -> None:
    """Each step of a full sync alone, their sum and their largest, against the pipeline's
    full sync (sync alone, interpreter start left out)."""
    full = _find(rows, "pipeline", "full")[1]["sync_seconds"]
    serial, overlapped = sum(floor.values()), max(floor.values())
    print()
    print_table(
        ["floor step", "seconds"],
        [
            *[[step, f"{seconds:.2f}"] for step, seconds in floor.items()],
            ["sum (steps one after the other)", f"{serial:.2f}"],
            ["largest (steps overlapped)", f"{overlapped:.2f}"],
            ["this pipeline's full sync", f"{full:.2f}"],
        ],
    )
    print(
        f"full sync = {full / serial:.2f}x the serial floor, {full / overlapped:.2f}x the "
        "overlapped floor",
        flush=True,
    )
