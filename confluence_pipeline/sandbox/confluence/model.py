"""The emulated site's records and the mutations the admin routes perform.

Records keep only small fields (ints, shared strings); bodies are generated on demand from
``(seed, page id, version)`` unless an admin wrote an explicit one.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass, field

from .storage import render_storage

_BODY_CACHE_SIZE = 2048


class SiteError(Exception):
    """A mutation the site refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class SpaceRecord:
    id: int
    key: str
    name: str
    author_id: str
    created_ms: int
    homepage_id: int  # 0 once the homepage was purged
    type: str = "global"
    status: str = "current"
    page_ids: list[int] = field(default_factory=list)  # ascending; pages of any status


@dataclass(slots=True)
class PageRecord:
    id: int
    space_id: int
    title: str
    parent_id: int | None
    position: int
    author_id: str
    created_ms: int
    version: int
    version_ms: int
    version_author: str
    labels: tuple[str, ...]
    link_pool: tuple[str, ...]  # titles this page's generated body may link to
    status: str = "current"
    status_ms: int = 0  # when it was last trashed, archived or restored (0: never)
    storage: str | None = None  # an admin-written body; None = generated
    read_users: tuple[str, ...] = ()  # read restriction on the page itself: account ids
    read_groups: tuple[str, ...] = ()  # ... and group names


class Site:
    """All spaces and pages of one emulated Confluence site. Not thread-safe: the app mutates it
    from its single event loop only."""

    def __init__(self, *, seed: int, cloud_id: str, accounts: tuple[str, ...]) -> None:
        self.seed = seed
        self.cloud_id = cloud_id
        self.accounts = accounts
        self.spaces: dict[int, SpaceRecord] = {}
        self.space_by_key: dict[str, SpaceRecord] = {}
        self.pages: dict[int, PageRecord] = {}
        self.order: list[int] = []  # every page id, ascending
        self.label_ids: dict[str, int] = {}
        self.next_id = 1
        self._status_ms = 0  # the last trash/restore stamp: each later one sorts after it
        self._bodies: OrderedDict[tuple[int, int, str], str] = OrderedDict()

    # -- reads -------------------------------------------------------------------------------

    def allocate_id(self, step: int = 1) -> int:
        value = self.next_id
        self.next_id += max(1, step)
        return value

    def add_space(self, space: SpaceRecord) -> None:
        self.spaces[space.id] = space
        self.space_by_key[space.key] = space

    def add_page(self, page: PageRecord) -> None:
        """Appends a page; its id must be larger than every existing id."""
        self.pages[page.id] = page
        self.order.append(page.id)
        self.spaces[page.space_id].page_ids.append(page.id)

    def space_of(self, page: PageRecord) -> SpaceRecord:
        return self.spaces[page.space_id]

    def storage(self, page: PageRecord) -> str:
        """The page's storage-format body: the admin-written one, else generated (cached)."""
        if page.storage is not None:
            return page.storage
        key = (page.id, page.version, page.title)
        body = self._bodies.get(key)
        if body is None:
            body = render_storage(
                seed=self.seed,
                page_id=page.id,
                version=page.version,
                title=page.title,
                link_titles=page.link_pool,
                accounts=self.accounts,
            )
            self._bodies[key] = body
            if len(self._bodies) > _BODY_CACHE_SIZE:
                self._bodies.popitem(last=False)
        return body

    def ancestors(self, page: PageRecord) -> list[PageRecord]:
        """Ancestors, highest first (the space homepage usually comes first)."""
        chain: list[PageRecord] = []
        seen = {page.id}
        parent_id = page.parent_id
        while parent_id is not None and parent_id in self.pages and parent_id not in seen:
            seen.add(parent_id)
            parent = self.pages[parent_id]
            chain.append(parent)
            parent_id = parent.parent_id
        chain.reverse()
        return chain

    def children(self, page: PageRecord) -> list[PageRecord]:
        """Direct children in the page's space, ordered by position then id."""
        space = self.spaces[page.space_id]
        kids = [self.pages[i] for i in space.page_ids if self.pages[i].parent_id == page.id]
        kids.sort(key=lambda p: (p.position, p.id))
        return kids

    def label_id(self, name: str) -> int:
        if name not in self.label_ids:
            self.label_ids[name] = 1_000_000 + self.seed * 1000 + len(self.label_ids)
        return self.label_ids[name]

    # -- admin mutations ---------------------------------------------------------------------

    def page(self, page_id: int) -> PageRecord:
        page = self.pages.get(page_id)
        if page is None:
            raise SiteError(404, f"page {page_id} does not exist (or was purged)")
        return page

    def space_by_key_or_error(self, key: str) -> SpaceRecord:
        space = self.space_by_key.get(key)
        if space is None:
            raise SiteError(404, f"space {key!r} does not exist")
        return space

    def create_page(
        self,
        *,
        space_key: str,
        title: str,
        storage: str,
        now_ms: int,
        parent_id: int | None = None,
    ) -> PageRecord:
        """A new current page (version 1) under ``parent_id``, else the space homepage."""
        space = self.space_by_key_or_error(space_key)
        if not title.strip():
            raise SiteError(400, "title must not be empty")
        if parent_id is not None and self.page(parent_id).space_id != space.id:
            raise SiteError(400, f"parent {parent_id} is not in space {space_key}")
        author = self.accounts[0]
        page = PageRecord(
            id=self.allocate_id(),
            space_id=space.id,
            title=title,
            parent_id=parent_id if parent_id is not None else space.homepage_id or None,
            position=len(space.page_ids),
            author_id=author,
            created_ms=now_ms,
            version=1,
            version_ms=now_ms,
            version_author=author,
            labels=(),
            link_pool=(),
            storage=storage,
        )
        self.add_page(page)
        return page

    def edit_page(
        self, page_id: int, *, title: str | None, storage: str | None, now_ms: int
    ) -> PageRecord:
        """Bumps the version; a generated body is regenerated for the new version."""
        page = self.page(page_id)
        if title is not None:
            if not title.strip():
                raise SiteError(400, "title must not be empty")
            page.title = title
        if storage is not None:
            page.storage = storage
        self._bump(page, now_ms)
        return page

    def set_labels(self, page_id: int, labels: list[str]) -> PageRecord:
        """Replaces the page's labels (no version bump, as in Confluence)."""
        page = self.page(page_id)
        page.labels = tuple(dict.fromkeys(label.strip().lower() for label in labels if label))
        return page

    def set_read_restrictions(
        self, page_id: int, *, users: list[str], groups: list[str]
    ) -> PageRecord:
        """Sets the page's own read restriction (empty lists lift it; no version bump)."""
        page = self.page(page_id)
        page.read_users = tuple(dict.fromkeys(users))
        page.read_groups = tuple(dict.fromkeys(groups))
        return page

    def trash_page(self, page_id: int, now_ms: int = 0) -> PageRecord:
        """Moves a page to the trash (no version bump, as in Confluence; it sorts as modified
        at ``now_ms`` in v2 listings)."""
        page = self.page(page_id)
        page.status = "trashed"
        page.status_ms = self._status_stamp(now_ms)
        return page

    def restore_page(self, page_id: int, now_ms: int = 0) -> PageRecord:
        page = self.page(page_id)
        page.status = "current"
        page.status_ms = self._status_stamp(now_ms)
        return page

    def _status_stamp(self, now_ms: int) -> int:
        """``now_ms``, or 1 ms past the previous stamp: two trashes in one millisecond still
        sort newest first, as Confluence's distinct timestamps do."""
        self._status_ms = max(now_ms, self._status_ms + 1)
        return self._status_ms

    def move_page(self, page_id: int, *, space_key: str, now_ms: int) -> PageRecord:
        """Moves a page and its descendants to another space under its homepage; keeps the
        ids, bumps the moved page's version only."""
        page = self.page(page_id)
        target = self.space_by_key_or_error(space_key)
        source = self.space_of(page)
        if page.id == source.homepage_id:
            raise SiteError(400, "a space homepage cannot be moved")
        if target.id == source.id:
            raise SiteError(400, f"page {page_id} is already in space {space_key}")
        moving = [p for p in source.page_ids if self._descends_from(self.pages[p], page.id)]
        for moved_id in moving:
            source.page_ids.remove(moved_id)
            bisect.insort(target.page_ids, moved_id)
            self.pages[moved_id].space_id = target.id
        page.parent_id = target.homepage_id or None
        page.position = len(target.page_ids)
        self._bump(page, now_ms)
        return page

    def purge_page(self, page_id: int) -> None:
        """Deletes a page for good; its children move up to its parent. Purging the homepage
        leaves the space without one."""
        page = self.page(page_id)
        space = self.space_of(page)
        if page.id == space.homepage_id:
            space.homepage_id = 0
        for child_id in space.page_ids:
            child = self.pages[child_id]
            if child.parent_id == page.id:
                child.parent_id = page.parent_id
        space.page_ids.remove(page.id)
        self.order.remove(page.id)
        del self.pages[page.id]

    def _descends_from(self, page: PageRecord, ancestor_id: int) -> bool:
        return page.id == ancestor_id or any(a.id == ancestor_id for a in self.ancestors(page))

    def _bump(self, page: PageRecord, now_ms: int) -> None:
        page.version += 1
        page.version_ms = max(now_ms, page.version_ms + 1)
        page.version_author = self.accounts[0]
