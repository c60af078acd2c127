"""JSON shapes of spaces, pages and labels exactly as Confluence Cloud REST v2 returns them."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from .model import PageRecord, Site, SpaceRecord
from .view import render_view

LIST_BODY_FORMATS = ("storage", "atlas_doc_format")
PAGE_BODY_FORMATS = (
    "storage",
    "atlas_doc_format",
    "view",
    "export_view",
    "anonymous_export_view",
    "styled_view",
    "editor",
)
_RENDERED = ("view", "export_view", "anonymous_export_view", "styled_view")
_TAG = re.compile(r"<!\[CDATA\[|\]\]>|<[^>]+>")


def iso(ms: int) -> str:
    """``YYYY-MM-DDTHH:mm:ss.sssZ`` in UTC."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def tinyui(page_id: int) -> str:
    raw = page_id.to_bytes(8, "little").rstrip(b"\0") or b"\0"
    return "/x/" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def webui(space: SpaceRecord, page: PageRecord) -> str:
    return f"/spaces/{space.key}/pages/{page.id}/{quote_plus(page.title)}"


def space_json(space: SpaceRecord) -> dict[str, Any]:
    return {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": space.author_id,
        "createdAt": iso(space.created_ms),
        "homepageId": str(space.homepage_id) if space.homepage_id else None,
        "_links": {"webui": f"/spaces/{space.key}"},
    }


def page_json(
    site: Site, page: PageRecord, *, body_format: str | None, base: str | None = None
) -> dict[str, Any]:
    """A page object; ``base`` is set for single-page responses (lists carry it once)."""
    space = site.space_of(page)
    links = {
        "webui": webui(space, page),
        "editui": f"/pages/resumedraft.action?draftId={page.id}",
        "tinyui": tinyui(page.id),
    }
    if base is not None:
        links["base"] = base
    parent = site.pages.get(page.parent_id) if page.parent_id is not None else None
    return {
        "id": str(page.id),
        "status": page.status,
        "title": page.title,
        "spaceId": str(page.space_id),
        "parentId": str(page.parent_id) if parent is not None else None,
        "parentType": "page" if parent is not None else None,
        "position": page.position,
        "authorId": page.author_id,
        "ownerId": page.author_id,
        "lastOwnerId": None,
        "createdAt": iso(page.created_ms),
        "version": {
            "number": page.version,
            "message": "",
            "minorEdit": False,
            "authorId": page.version_author,
            "createdAt": iso(page.version_ms),
        },
        "body": body_json(site, page, body_format, base=base),
        "_links": links,
    }


def body_json(
    site: Site, page: PageRecord, body_format: str | None, *, base: str | None = None
) -> dict[str, Any]:
    """``{}`` without a format. View-like formats are rendered HTML (:mod:`.view`), with
    absolute links from ``base`` except ``view``; ``editor`` carries the storage markup."""
    if body_format is None:
        return {}
    storage = site.storage(page)
    if body_format == "atlas_doc_format":
        value = json.dumps(_adf(storage), ensure_ascii=False)
    elif body_format in _RENDERED:
        root = base if base and body_format != "view" else "/wiki"
        value = render_view(site, page, root=root)
    else:
        value = storage
    return {body_format: {"representation": body_format, "value": value}}


def plain_text(storage: str) -> str:
    return " ".join(_TAG.sub(" ", storage).split())


def _adf(storage: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": plain_text(storage)}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def label_json(site: Site, name: str) -> dict[str, Any]:
    return {"id": str(site.label_id(name)), "name": name, "prefix": "global"}


def child_json(page: PageRecord) -> dict[str, Any]:
    return {
        "id": str(page.id),
        "status": page.status,
        "title": page.title,
        "spaceId": str(page.space_id),
        "childPosition": page.position,
    }
