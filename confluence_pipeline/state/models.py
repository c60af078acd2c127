"""Tables of the state database. Schema changes go through Alembic (``state/migrations``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from confluence_pipeline.state.types import UTCDateTime
from confluence_pipeline.state.values import RunStatus, Target

MIGRATION_STALE = timedelta(minutes=2)
"""A migration whose heartbeat is older than this died: syncs of its index go on."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class Connection(Base):
    """A Confluence site and the credentials to read it (``secret`` is encrypted)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    site_url: Mapped[str] = mapped_column(String(500))
    cloud_id: Mapped[str | None] = mapped_column(String(100))
    auth_kind: Mapped[str] = mapped_column(String(20))  # "api_token" | "oauth"
    email: Mapped[str | None] = mapped_column(String(320))
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_reconsent: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(Text)  # owners' emails, comma-joined
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def owners(self) -> list[str]:
        return [o for o in (self.owner or "").split(",") if o]


class Index(Base):
    """A LlamaCloud index kept in sync with some spaces of one connection, on its ``target``:
    a v1 pipeline (``pipeline_id``) or a v2 index (``v2_index_id``)."""

    __tablename__ = "indexes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spaces: Mapped[list[str]] = mapped_column(default=list)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    pipeline_name: Mapped[str] = mapped_column(String(200))
    pipeline_id: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(20), default=Target.PIPELINE)  # a Target
    v2_index_id: Mapped[str | None] = mapped_column(String(100))
    migrating_to: Mapped[str | None] = mapped_column(String(20))  # a Target, while migrating
    migration_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_delete_fraction: Mapped[float] = mapped_column(Float, default=0.5)
    full_listing_hours: Mapped[int] = mapped_column(Integer, default=168)
    """List each space completely at least this often, however quiet it looks (the change
    sensor and the cheap probe cover the time between)."""
    owner: Mapped[str | None] = mapped_column(Text)  # owners' emails, comma-joined
    include_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Index pages with a read restriction (on themselves or an ancestor) too."""
    labels: Mapped[list[str] | None] = mapped_column(JSON)
    """Only pages with any of these labels (None or []: no label filter)."""
    exclude_labels: Mapped[list[str] | None] = mapped_column(JSON)
    under: Mapped[list[str] | None] = mapped_column(JSON)
    """Only these pages and their descendants (page ids)."""
    cql: Mapped[str | None] = mapped_column(Text)
    """An extra CQL clause pages must match."""
    attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    """Upload the supported attachments of in-scope pages as files."""
    attachment_max_mb: Mapped[int] = mapped_column(Integer, default=20)

    @property
    def owners(self) -> list[str]:
        return [o for o in (self.owner or "").split(",") if o]

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def migrating(self, now: datetime | None = None) -> bool:
        """Whether ``index migrate`` is moving this index to another target right now (its
        heartbeat is fresh; a killed migration stops counting after MIGRATION_STALE)."""
        if self.migrating_to is None or self.migration_heartbeat is None:
            return False
        return (now or utcnow()) - self.migration_heartbeat < MIGRATION_STALE

    def target_id(self, target: str | None = None) -> str | None:
        """The LlamaCloud id of ``target`` (default: the index's own target), None if unset."""
        return self.v2_index_id if (target or self.target) == Target.INDEX else self.pipeline_id


class ConfluenceSpace(Base):
    """A space as last resolved on a connection's site (key -> id, name, homepage)."""

    __tablename__ = "spaces"
    __table_args__ = (UniqueConstraint("connection_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    space_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text, default="")
    homepage_id: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncedPage(Base):
    """A page whose document LlamaCloud accepted, at ``version``; or one that failed."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("index_id", "page_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("indexes.id", ondelete="CASCADE"), index=True)
    space_key: Mapped[str] = mapped_column(String(255), index=True)
    page_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    scope_hash: Mapped[str | None] = mapped_column(String(64))
    """Hash of the labels and restrictions the document was sent with (they change without
    a new page version)."""
    document_id: Mapped[str] = mapped_column(String(200))
    file_id: Mapped[str | None] = mapped_column(String(100))  # its v2 directory file
    replacing: Mapped[bool] = mapped_column(Boolean, default=False)  # stored copies to tidy
    status: Mapped[str] = mapped_column(String(20))  # a PageStatus
    error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StagedPage(Base):
    """Work handed from one asset to the next: a page to upload (its body, then its Markdown)
    or a document to delete. Rows live only between planning and upload."""

    __tablename__ = "staged_pages"
    __table_args__ = (UniqueConstraint("index_id", "page_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("indexes.id", ondelete="CASCADE"), index=True)
    space_key: Mapped[str] = mapped_column(String(255), index=True)
    page_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))  # an Action
    stage: Mapped[str] = mapped_column(String(12))  # a Stage
    version: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    storage: Mapped[str | None] = mapped_column(Text)
    markdown: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    page_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class SyncedAttachment(Base):
    """An attachment whose file LlamaCloud accepted, at ``version`` (``stored_id``: the v2
    directory file id, or the v1 file id)."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("index_id", "attachment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("indexes.id", ondelete="CASCADE"), index=True)
    space_key: Mapped[str] = mapped_column(String(255), index=True)
    page_id: Mapped[str] = mapped_column(String(40))
    attachment_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text)
    document_id: Mapped[str] = mapped_column(String(200))
    stored_id: Mapped[str] = mapped_column(String(100))
    metadata_hash: Mapped[str] = mapped_column(String(64), default="")
    """Of the metadata the file was sent with (its page's labels and restrictions among them)."""
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentCheck(Base):
    """A page accepted by LlamaCloud whose attachments are still to be looked at (kept until
    they were, so a run that stops in between leaves the work to the next)."""

    __tablename__ = "attachment_checks"
    __table_args__ = (UniqueConstraint("index_id", "page_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("indexes.id", ondelete="CASCADE"), index=True)
    space_key: Mapped[str] = mapped_column(String(255), index=True)
    page_id: Mapped[str] = mapped_column(String(40))
    page_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SyncRun(Base):
    """One sync of one (index, space): counts, outcome and the Dagster run that did it."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("indexes.id", ondelete="CASCADE"), index=True)
    space_key: Mapped[str] = mapped_column(String(255))
    dagster_run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages_listed: Mapped[int] = mapped_column(Integer, default=0)
    pages_new: Mapped[int] = mapped_column(Integer, default=0)
    pages_changed: Mapped[int] = mapped_column(Integer, default=0)
    pages_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    pages_deleted: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    documents_uploaded: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    searchable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    commit_owed: Mapped[bool] = mapped_column(Boolean, default=False)  # v2 sync not yet asked
    attachments_uploaded: Mapped[int | None] = mapped_column(Integer)  # None: attachments off
    attachments_deleted: Mapped[int | None] = mapped_column(Integer)
    attachments_skipped: Mapped[int | None] = mapped_column(Integer)


class Person(Base):
    """A Confluence account's display name as last looked up (``None``: the profile is private
    or unknown), so a sync looks up only ids it has not seen lately."""

    __tablename__ = "people"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateLimit(Base):
    """What the rate-limit gate of a connection enforces, shared by its clients and processes
    (epoch seconds), and the quota its last response reported."""

    __tablename__ = "rate_limits"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
    pace: Mapped[float] = mapped_column(Float, default=0.0)
    pace_until: Mapped[float] = mapped_column(Float, default=0.0)
    quota_limit: Mapped[int | None] = mapped_column(Integer)
    quota_remaining: Mapped[int | None] = mapped_column(Integer)
    quota_reset: Mapped[float | None] = mapped_column(Float)


class ConnectionUsage(Base):
    """Confluence requests and (approximate) points a connection spent in one UTC hour."""

    __tablename__ = "connection_usage"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
