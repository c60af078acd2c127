"""What each step of a sync reports: counts, errors and previews for metadata and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from confluence_pipeline.confluence.models import Space

PREVIEW_ROWS = 10
Log = Callable[[str], None]


@dataclass
class PageRow:
    """A line of the previews shown in run metadata and the CLI summary."""

    page_id: str
    title: str
    version: int
    url: str


@dataclass
class PlanResult:
    listed: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    to_delete: int = 0
    moved_away: int = 0
    fetched: int = 0
    fetch_failed: int = 0
    too_large: int = 0
    listing_skipped: bool = False
    restricted: int = 0
    """Listed pages left out for a read restriction (their own or an ancestor's)."""
    filtered: int = 0
    """Listed pages left out by the index's filters."""
    names_looked_up: int = 0
    name_requests: int = 0
    preview: list[PageRow] = field(default_factory=list)


@dataclass
class ConvertResult:
    converted: int = 0
    failed: int = 0
    names_missing: int = 0
    """Distinct account ids shown as ids: a private profile, or a lookup that failed."""
    errors: list[str] = field(default_factory=list)


@dataclass
class AttachmentResult:
    """What the attachment part of a sync did (``pages_listed``: attachment listings asked)."""

    pages_listed: int = 0
    uploaded: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    deletions_refused: int = 0
    skipped_images: int = 0
    skipped_video: int = 0
    skipped_unknown: int = 0
    skipped_oversized: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return (
            self.skipped_images + self.skipped_video + self.skipped_unknown + self.skipped_oversized
        )


@dataclass
class UploadResult:
    pipeline_id: str = ""
    uploaded: int = 0
    deleted: int = 0
    failed: int = 0
    deletions_refused: int = 0
    index_syncs: int = 0
    pending_ingestion: int = 0
    """Documents written by the run and not yet searchable when it ended."""
    searchable_at: datetime | None = None
    errors: list[str] = field(default_factory=list)
    preview: list[PageRow] = field(default_factory=list)
    attachments: AttachmentResult | None = None
    """None when the index does not upload attachments."""


@dataclass
class SpaceSyncResult:
    space: Space
    plan: PlanResult
    conversion: ConvertResult
    upload: UploadResult
