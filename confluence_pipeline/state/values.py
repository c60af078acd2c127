"""The vocabulary of the state tables: what a staged row is for, how far it got, and the
status of a page and of a sync run. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What a staged row asks of the upload step."""

    UPSERT = "upsert"
    DELETE = "delete"


class Stage(StrEnum):
    """How far a staged row got: body fetched, Markdown converted, or failed on the way."""

    FETCHED = "fetched"
    CONVERTED = "converted"
    FAILED = "failed"


class PageStatus(StrEnum):
    """A page's record: its document accepted (``synced``), refused (``failed``), being sent
    (``pending``), or handed over from another space of the index (``moved``)."""

    SYNCED = "synced"
    FAILED = "failed"
    PENDING = "pending"
    MOVED = "moved"


class RunStatus(StrEnum):
    """A sync run's outcome; ``interrupted`` marks one that died while running."""

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class Target(StrEnum):
    """Where an index's documents go in LlamaCloud: a v1 pipeline, or a v2 index over a
    directory of files."""

    PIPELINE = "pipeline"
    INDEX = "index"
