"""Everything one emulator instance holds: config, data, counters and faults."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .faults import Faults
from .store import ProjectFile, Store
from .v2_store import V2Store


@dataclass
class Stats:
    """Counters over the public API only (admin routes are not counted)."""

    requests_total: int = 0
    documents_upserted: int = 0
    documents_deleted: int = 0
    files_uploaded: int = 0
    files_deleted: int = 0
    index_syncs: int = 0
    faults_injected: int = 0
    requests_by_route: Counter[str] = field(default_factory=Counter)

    def count_request(self, route: str) -> None:
        self.requests_total += 1
        self.requests_by_route[route] += 1

    def reset(self) -> None:
        self.requests_total = self.documents_upserted = self.documents_deleted = 0
        self.files_uploaded = self.files_deleted = self.index_syncs = 0
        self.faults_injected = 0
        self.requests_by_route.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "requests_total": self.requests_total,
            "documents_upserted": self.documents_upserted,
            "documents_deleted": self.documents_deleted,
            "files_uploaded": self.files_uploaded,
            "files_deleted": self.files_deleted,
            "index_syncs": self.index_syncs,
            "faults_injected": self.faults_injected,
            "requests_by_route": dict(self.requests_by_route),
        }


@dataclass
class SandboxState:
    api_key: str
    project_id: str
    store: Store
    faults: Faults
    stats: Stats = field(default_factory=Stats)
    v2: V2Store = field(default_factory=V2Store)
    project_files: dict[str, ProjectFile] = field(default_factory=dict)
    ingest_delay_ms: int = 0
    """How long after acceptance a v1 document, or the files of a v2 index sync, become
    searchable; read when asked, so lowering it settles what is pending at once."""

    def ingested(self, accepted_at: float) -> bool:
        """Whether something accepted at ``accepted_at`` (``time.monotonic()``) is searchable."""
        return time.monotonic() >= accepted_at + self.ingest_delay_ms / 1000
