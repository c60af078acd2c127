"""What the change sensor asks Confluence each tick, per connection, and which (index, space)
partitions it hands back with the pages to sync.

Per connection and tick: one CQL content search (``lastmodified >= now("-Nm")``, the window
reaching ``OVERLAP`` behind the watermark, paged at 200), and at most once per
``TRASH_EVERY`` one v2 listing of trashed and archived pages per 100 spaces, most recently
modified first, read only until the head seen last time (``TRASH_LIMIT`` items a request).
The date is relative to the server's clock (CQL ``now()``), because absolute CQL dates are
read in a time zone the API does not disclose; the overlap covers clock skew between this
host and Confluence, minute granularity and search indexing lag.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from confluence_pipeline.confluence import ConfluenceClient, ConfluenceError
from confluence_pipeline.confluence.client import SPACES_PER_LISTING
from confluence_pipeline.confluence.cql import cql_string
from confluence_pipeline.state import Index, PageStatus, StateStore

OVERLAP = timedelta(minutes=5)
TRASH_EVERY = timedelta(seconds=60)
TRASH_LIMIT = 5
TRASH_MAX_ITEMS = 50
"""Read no further down the trash listing in one check (the interval sync catches the rest)."""
MAX_NAMED_PAGES = 250
"""A partition with more changed pages than this gets a normal (listing) sync instead."""

OpenClient = Callable[[int], ConfluenceClient]


@dataclass
class Watch:
    """A connection's part of the sensor cursor."""

    watermark: datetime
    """Local time of the last query; the next one reaches ``OVERLAP`` further back."""
    seen: dict[str, int] = field(default_factory=dict)
    """Page id -> version of every page the last window held (each requested at most once)."""
    trash_checked: datetime | None = None
    trash_head: list[str] = field(default_factory=list)
    """Ids at the head of the trash listing at the last check."""


@dataclass(frozen=True, slots=True)
class Change:
    """A partition to sync, naming its pages (none: sync it the normal way); ``since`` is the
    watermark the tick started from (run keys carry it, so a tick evaluated twice launches
    nothing twice)."""

    index: str
    space: str
    page_ids: tuple[str, ...]
    since: str


@dataclass
class Poll:
    changes: list[Change]
    watches: dict[int, Watch]
    errors: list[str] = field(default_factory=list)
    """One line per connection that could not be asked (its watermark stays put)."""


def changes_cql(space_keys: Sequence[str], since: datetime, now: datetime) -> str:
    """Pages of these spaces modified since ``since`` by the server's clock, oldest first."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    keys = ", ".join(cql_string(key) for key in space_keys)
    return (
        f"type = page and space in ({keys}) and lastmodified >= now({cql_string(f'-{minutes}m')})"
        " order by lastmodified asc"
    )


def poll(
    store: StateStore, open_client: OpenClient, watches: dict[int, Watch], now: datetime
) -> Poll:
    """One tick over every connection with enabled indexes. A connection seen for the first
    time only starts its watermark (and reads the trash head); its earlier edits are the
    interval sensor's business. Pages whose version is recorded (or was requested in an
    earlier tick) start no run."""
    indexes = [
        index
        for index in store.registry.list_indexes()
        if index.enabled and index.connection_id is not None and not index.migrating(now)
    ]
    by_connection: dict[int, list[Index]] = {}
    for index in indexes:
        assert index.connection_id is not None
        by_connection.setdefault(index.connection_id, []).append(index)
    wanted: dict[tuple[str, str], set[str]] = {}
    since: dict[str, str] = {}
    result: dict[int, Watch] = {}
    errors: list[str] = []
    for connection_id, group in sorted(by_connection.items()):
        previous = watches.get(connection_id)
        watch = Watch(now, trash_checked=previous.trash_checked if previous else None)
        watch.trash_head = previous.trash_head if previous else []
        found: dict[tuple[str, str], set[str]] = {}
        try:
            with open_client(connection_id) as client:
                if previous is not None:
                    _edits(store, client, group, previous, watch, now, found)
                if watch.trash_checked is None or now - watch.trash_checked >= TRASH_EVERY:
                    _trashes(store, client, connection_id, group, watch, found)
                    watch.trash_checked = now
        except ConfluenceError as exc:
            errors.append(f"connection {connection_id}: {exc}")
            if previous is not None:
                result[connection_id] = previous
            continue
        for key, ids in found.items():
            wanted.setdefault(key, set()).update(ids)
        result[connection_id] = watch
        for index in group:
            since[index.name] = (previous or watch).watermark.isoformat()
    changes = [
        Change(
            index,
            space,
            tuple(sorted(ids, key=int)) if len(ids) <= MAX_NAMED_PAGES else (),
            since[index],
        )
        for (index, space), ids in sorted(wanted.items())
    ]
    return Poll(changes, result, errors)


def _spaces(group: Iterable[Index]) -> list[str]:
    return list(dict.fromkeys(space for index in group for space in index.spaces))


def _edits(
    store: StateStore,
    client: ConfluenceClient,
    group: list[Index],
    previous: Watch,
    watch: Watch,
    now: datetime,
    wanted: dict[tuple[str, str], set[str]],
) -> None:
    spaces = set(_spaces(group))
    cql = changes_cql(sorted(spaces), previous.watermark - OVERLAP, now)
    found = [page for page in client.changed_pages(cql) if page.space_key in spaces]
    watch.seen = {page.id: page.version for page in found}
    fresh = [page for page in found if previous.seen.get(page.id) != page.version]
    if not fresh:
        return
    ids = [page.id for page in fresh]
    for index in group:
        recorded = store.ledger.recorded_pages(index.id, ids)
        for page in fresh:
            if page.space_key not in index.spaces:
                continue
            known = recorded.get(page.id)
            if known is not None and known == (page.space_key, page.version, PageStatus.SYNCED):
                continue
            wanted.setdefault((index.name, page.space_key), set()).add(page.id)


def _trashes(
    store: StateStore,
    client: ConfluenceClient,
    connection_id: int,
    group: list[Index],
    watch: Watch,
    wanted: dict[tuple[str, str], set[str]],
) -> None:
    space_ids = []
    for key in _spaces(group):
        row = store.registry.get_space(connection_id, key)
        if row is not None:  # never resolved: nothing of it can be in an index yet
            space_ids.append(row.space_id)
    head = set(watch.trash_head)
    read: list[str] = []
    for start in range(0, len(space_ids), SPACES_PER_LISTING):
        chunk = space_ids[start : start + SPACES_PER_LISTING]
        listing = client.removed_pages(chunk, limit=TRASH_LIMIT)
        for page in islice(listing, TRASH_MAX_ITEMS):
            if page.id in head:
                break
            read.append(page.id)
    watch.trash_head = (read + [i for i in watch.trash_head if i not in read])[:TRASH_LIMIT]
    if not read:
        return
    for index in group:
        for page_id, (space_key, _version, _status) in store.ledger.recorded_pages(
            index.id, read
        ).items():
            if space_key in index.spaces:
                wanted.setdefault((index.name, space_key), set()).add(page_id)


def dump_watches(watches: dict[int, Watch]) -> str:
    """The sensor cursor: JSON by connection id."""
    return json.dumps(
        {
            str(connection_id): {
                "watermark": watch.watermark.isoformat(),
                "seen": watch.seen,
                "trash_checked": watch.trash_checked.isoformat() if watch.trash_checked else None,
                "trash_head": watch.trash_head,
            }
            for connection_id, watch in watches.items()
        },
        sort_keys=True,
    )


def load_watches(cursor: str | None) -> dict[int, Watch]:
    """The watches of a cursor written by :func:`dump_watches` ({} for none or an unreadable
    one: the sensor then starts afresh, which loses no edit the interval sync would not
    catch)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        return {
            int(connection_id): Watch(
                watermark=datetime.fromisoformat(item["watermark"]),
                seen={str(k): int(v) for k, v in item.get("seen", {}).items()},
                trash_checked=(
                    datetime.fromisoformat(item["trash_checked"])
                    if item.get("trash_checked")
                    else None
                ),
                trash_head=[str(i) for i in item.get("trash_head", [])],
            )
            for connection_id, item in data.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
