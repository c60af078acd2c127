"""Which listed pages belong in an index: read restrictions (on the page or any ancestor) and
the index's filters (``labels``, ``exclude_labels``, ``under``, ``cql``), plus the labels and
restriction metadata its documents carry.

Cost per full listing: one CQL content search over the space with labels and own read
restrictions expanded (``ceil(pages / limit)`` requests, limit 200 on Confluence Cloud), plus
the same again, without expansions, when the index has a ``cql`` filter. Inheritance is
computed locally from the listing's ``parentId`` values. Pages the search leaves out (its
index lags edits; it answers 404 when some ancestor is a draft or trashed) are looked up one
by one (``GET /rest/api/content/{id}/restriction/byOperation/read`` and the page's labels),
each at most once per run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluence_pipeline.confluence import (
    ConfluenceClient,
    ConfluenceError,
    ConfluenceNotFound,
)
from confluence_pipeline.confluence.models import PageScope, PageSummary, Space
from confluence_pipeline.state import Connection, Index
from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline.sync.results import Log

SEARCH_SCOPES = ("search:confluence", "read:content-details:confluence")
CONTENT_SCOPES = ("read:confluence-content.all", "read:content-details:confluence")


def can_read_restrictions(connection: Connection) -> bool:
    """Whether the connection's credentials may run CQL content search and read restrictions:
    always for API tokens (they act as the user); for OAuth, only when the granted scopes
    include a search scope and a content-details scope (see ``SEARCH_SCOPES``,
    ``CONTENT_SCOPES``)."""
    if connection.auth_kind != "oauth":
        return True
    granted = set(connection.scopes or ())
    return bool(granted.intersection(SEARCH_SCOPES)) and bool(granted.intersection(CONTENT_SCOPES))


def check_scopes(index: Index, connection: Connection) -> None:
    """Fails closed: an index whose connection cannot see restrictions syncs only once it
    chose ``--include-restricted`` explicitly."""
    if not index.include_restricted and not can_read_restrictions(connection):
        raise SyncError(
            f"connection {connection.name!r} cannot read page restrictions (granted scopes: "
            f"{', '.join(connection.scopes) or 'none'}; needs one of "
            f"{' / '.join(SEARCH_SCOPES)} and one of {' / '.join(CONTENT_SCOPES)}), so index "
            f"{index.name!r} could publish restricted pages: reconnect with those scopes "
            f"(`connect --name {connection.name} --replace`), or accept restricted pages with "
            f"`index update {index.name} --include-restricted`"
        )


@dataclass
class Scope:
    """The outcome for one listing: pages left out, and per page kept its scope metadata."""

    excluded: set[str] = field(default_factory=set)
    restricted: int = 0
    filtered: int = 0
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    lookups: int = 0
    """Pages looked up one by one (missing from the CQL search)."""

    def hash(self, page_id: str) -> str:
        text = json.dumps(self.metadata.get(page_id, {}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def space_cql(space: Space) -> str:
    key = space.key.replace("\\", "\\\\").replace('"', '\\"')
    return f'space = "{key}" and type = page'


def filtered_cql(space: Space, clause: str) -> str:
    return f"{space_cql(space)} and ({clause})"


def check_cql(client: ConfluenceClient, space_keys: list[str], clause: str) -> None:
    """One test query (``limit=1``) with the clause over the spaces; raises SyncError with the
    server's message when Confluence refuses it."""
    keys = ", ".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in space_keys)
    try:
        client.test_cql(f"space in ({keys}) and type = page and ({clause})")
    except ConfluenceError as exc:
        raise SyncError(f"the CQL clause {clause!r} was refused: {exc}") from None


def compute_scope(
    client: ConfluenceClient,
    index: Index,
    space: Space,
    listing: Mapping[str, PageSummary],
    *,
    readable: bool = True,
    only_listed: bool = False,
    log: Log = lambda _msg: None,
) -> Scope:
    """Splits ``listing`` into pages the index keeps and pages it leaves out. With
    ``only_listed`` its searches ask for the listed ids only (``id in (...)``), not the
    whole space: for a listing of a few named pages and their ancestors."""
    scope = Scope()
    if only_listed and not listing:
        return scope  # nothing to look at: never search the whole space for nothing
    found: dict[str, PageScope] = {}
    ids = [pid for pid in listing if pid.isdigit()]  # Confluence ids; nothing else goes into CQL
    narrow = f" and id in ({', '.join(ids)})" if only_listed and ids else ""
    if readable:
        try:
            found = {s.id: s for s in client.page_scopes(space_cql(space) + narrow)}
        except ConfluenceNotFound:
            log(f"{space.key}: CQL search refused (404); reading restrictions page by page")
    own = _Own(
        client, found, readable, need_labels=readable or bool(index.labels or index.exclude_labels)
    )
    matching = (
        set(client.search_ids(filtered_cql(space, index.cql) + narrow))
        if index.cql is not None
        else None
    )
    labels_any = set(index.labels or ())
    labels_none = set(index.exclude_labels or ())
    under = set(index.under or ())
    for page_id, page in listing.items():
        chain = _chain(page, listing)
        levels = [own.get(pid) for pid in chain]
        users = sorted({u for level in levels for u in level.read_users})
        groups = sorted({g for level in levels for g in level.read_groups})
        restricted = any(level.restricted for level in levels)
        labels = sorted(own.get(page_id).labels)
        if restricted and not index.include_restricted:
            scope.excluded.add(page_id)
            scope.restricted += 1
            continue
        if (
            (labels_any and not labels_any.intersection(labels))
            or labels_none.intersection(labels)
            or (under and not under.intersection(chain))
            or (matching is not None and page_id not in matching)
        ):
            scope.excluded.add(page_id)
            scope.filtered += 1
            continue
        meta: dict[str, Any] = {"labels": labels}
        if index.include_restricted and readable:
            meta.update(restricted=restricted, read_users=users, read_groups=groups)
        scope.metadata[page_id] = meta
    scope.lookups = own.lookups
    return scope


def _chain(page: PageSummary, listing: Mapping[str, PageSummary]) -> list[str]:
    """The page's id and its ancestors' ids, nearest first, as far as the listing (plus one
    parent outside it, e.g. a folder) shows them."""
    chain = [page.id]
    parent_id = page.parent_id
    while parent_id is not None and parent_id not in chain:
        chain.append(parent_id)
        parent = listing.get(parent_id)
        parent_id = parent.parent_id if parent is not None else None
    return chain


class _Own:
    """Own labels and restrictions by content id: from the search, else looked up once."""

    def __init__(
        self,
        client: ConfluenceClient,
        found: dict[str, PageScope],
        readable: bool,
        *,
        need_labels: bool,
    ) -> None:
        self._client = client
        self._found = found
        self._readable = readable
        self._need_labels = need_labels
        self.lookups = 0

    def get(self, content_id: str) -> PageScope:
        scope = self._found.get(content_id)
        if scope is None:
            users: tuple[str, ...] = ()
            groups: tuple[str, ...] = ()
            labels: tuple[str, ...] = ()
            if self._readable:
                users, groups = self._client.read_restriction(content_id)
            if self._need_labels:
                labels = tuple(self._client.get_labels(content_id))
            self.lookups += self._readable or self._need_labels
            scope = self._found[content_id] = PageScope(content_id, labels, users, groups)
        return scope
