"""JSON shapes of REST v1 content, spaces and labels, with the ``expand`` mechanism.

``expand`` is a comma-separated list of dotted paths (``body.export_view.value``,
``version``, ``space``, ``ancestors``, ``history.lastUpdated``, ``metadata.labels``,
``container``, ``children.page``); unknown paths are ignored, as Confluence does, and what is
not expanded is listed in ``_expandable``. Links in ``_links`` other than ``self`` and
``base`` are relative to the ``/wiki`` context.
"""

from __future__ import annotations

from typing import Any

from .model import PageRecord, Site, SpaceRecord
from .people import user_json
from .render import body_json, iso, tinyui, webui

BODY_REPRESENTATIONS = (
    "storage",
    "view",
    "export_view",
    "styled_view",
    "anonymous_export_view",
    "editor",
    "atlas_doc_format",
)
_CONTENT_EXPANDABLE = (
    "childTypes",
    "container",
    "metadata",
    "operations",
    "schedulePublishDate",
    "children",
    "restrictions",
    "history",
    "ancestors",
    "body",
    "version",
    "descendants",
    "space",
)


class Expand:
    """The parsed ``expand`` parameter."""

    def __init__(self, raw: str | None) -> None:
        self.paths = {p.strip() for p in (raw or "").split(",") if p.strip()}

    def __contains__(self, path: str) -> bool:
        """Whether ``path`` or anything below it was asked for."""
        return any(p == path or p.startswith(f"{path}.") for p in self.paths)

    def below(self, prefix: str) -> Expand:
        """The expansions asked for inside ``prefix`` (``space.homepage`` -> ``homepage``)."""
        inner = Expand(None)
        inner.paths = {p[len(prefix) + 1 :] for p in self.paths if p.startswith(f"{prefix}.")}
        return inner

    @property
    def body(self) -> bool:
        """Whether any body representation is expanded (Confluence caps page sizes then)."""
        return "body" in self


NOTHING = Expand(None)


def content_json(site: Site, page: PageRecord, expand: Expand, base: str) -> dict[str, Any]:
    """A v1 content object (``type`` page) with the expansions asked for."""
    space = site.space_of(page)
    item: dict[str, Any] = {
        "id": str(page.id),
        "type": "page",
        "status": page.status,
        "title": page.title,
    }
    expandable = dict.fromkeys(_CONTENT_EXPANDABLE, "")
    expandable.update(
        children=f"/rest/api/content/{page.id}/child",
        history=f"/rest/api/content/{page.id}/history",
        space=f"/rest/api/space/{space.key}",
        container=f"/rest/api/space/{space.key}",
        descendants=f"/rest/api/content/{page.id}/descendant",
        restrictions=f"/rest/api/content/{page.id}/restriction/byOperation",
    )
    if "space" in expand:
        item["space"] = space_json(site, space, expand.below("space"), base)
    if "container" in expand:
        item["container"] = space_json(site, space, NOTHING, base)
    if "history" in expand:
        item["history"] = _history(page, expand.below("history"), base)
    if "version" in expand:
        item["version"] = version_json(page, base)
    if "ancestors" in expand:
        item["ancestors"] = [content_json(site, a, NOTHING, base) for a in site.ancestors(page)]
    if "children" in expand:
        kids = [k for k in site.children(page) if k.status == "current"]
        item["children"] = {"page": listing([content_json(site, k, NOTHING, base) for k in kids])}
    if "restrictions" in expand:
        item["restrictions"] = {
            "read": restriction_json(site, page, "read", base),
            "_expandable": {"update": ""},
            "_links": {"self": f"{base}/rest/api/content/{page.id}/restriction/byOperation"},
        }
    if "metadata" in expand:
        labels = [label_json(site, name) for name in sorted(page.labels)]
        item["metadata"] = {"labels": listing(labels, limit=200)}
    if "body" in expand:
        item["body"] = _body(site, page, expand.below("body"), base)
    for key in item:
        expandable.pop(key, None)
    item["extensions"] = {"position": page.position}
    item["_expandable"] = expandable
    item["_links"] = {
        "webui": webui(space, page),
        "editui": f"/pages/resumedraft.action?draftId={page.id}",
        "tinyui": tinyui(page.id),
        "self": f"{base}/rest/api/content/{page.id}",
    }
    return item


def _body(site: Site, page: PageRecord, expand: Expand, base: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for representation in BODY_REPRESENTATIONS:
        if representation in expand:
            rendered = body_json(site, page, representation, base=base)[representation]
            body[representation] = {**rendered, "embeddedContent": [], "_expandable": {}}
    body["_expandable"] = {
        r: f"/rest/api/content/{page.id}" for r in BODY_REPRESENTATIONS if r not in body
    }
    return body


def version_json(page: PageRecord, base: str) -> dict[str, Any]:
    return {
        "by": user_json(page.version_author, base),
        "when": iso(page.version_ms),
        "friendlyWhen": iso(page.version_ms)[:10],
        "message": "",
        "number": page.version,
        "minorEdit": False,
        "contentTypeModified": False,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{page.id}"},
        "_links": {"self": f"{base}/rest/api/content/{page.id}/version/{page.version}"},
    }


def _history(page: PageRecord, expand: Expand, base: str) -> dict[str, Any]:
    history: dict[str, Any] = {
        "latest": True,
        "createdBy": user_json(page.author_id, base),
        "createdDate": iso(page.created_ms),
    }
    if "lastUpdated" in expand:
        history["lastUpdated"] = version_json(page, base)
    history["_expandable"] = {
        "lastUpdated": "",
        "previousVersion": "",
        "contributors": "",
        "nextVersion": "",
    }
    for key in history:
        history["_expandable"].pop(key, None)
    history["_links"] = {"self": f"{base}/rest/api/content/{page.id}/history"}
    return history


def space_json(site: Site, space: SpaceRecord, expand: Expand, base: str) -> dict[str, Any]:
    """A v1 space; ids are numbers here, unlike v2."""
    item: dict[str, Any] = {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
    }
    expandable = dict.fromkeys(
        ("settings", "metadata", "operations", "lookAndFeel", "identifiers", "permissions"), ""
    )
    expandable.update(icon="", description="", theme="", history="")
    homepage = site.pages.get(space.homepage_id)
    if homepage is not None:
        expandable["homepage"] = f"/rest/api/content/{homepage.id}"
        if "homepage" in expand:
            item["homepage"] = content_json(site, homepage, expand.below("homepage"), base)
    if "description" in expand:
        text = f"{space.name} space"
        item["description"] = {
            kind: {"value": text, "representation": kind, "embeddedContent": []}
            for kind in ("plain", "view")
            if f"description.{kind}" in expand.paths
        }
    if "icon" in expand:
        item["icon"] = {"path": "/images/logo/default-space-logo.svg", "width": 48, "height": 48}
    for key in item:
        expandable.pop(key, None)
    item["_expandable"] = expandable
    item["_links"] = {"webui": f"/spaces/{space.key}", "self": f"{base}/rest/api/space/{space.key}"}
    return item


def restriction_json(site: Site, page: PageRecord, operation: str, base: str) -> dict[str, Any]:
    """The restriction of one operation on the page itself (never inherited ones); only
    ``read`` restrictions exist in the sandbox."""
    reading = operation == "read"
    users = [user_json(a, base) for a in page.read_users] if reading else []
    groups = [{"type": "group", "name": g, "id": _group_id(g)} for g in page.read_groups]
    return {
        "operation": operation,
        "restrictions": {
            "user": listing(users, limit=200),
            "group": listing(groups if reading else [], limit=200),
        },
        "_expandable": {"content": f"/rest/api/content/{page.id}"},
        "_links": {
            "self": f"{base}/rest/api/content/{page.id}/restriction/byOperation/{operation}"
        },
    }


def _group_id(name: str) -> str:
    return f"{abs(hash(name)) % 10**12:012d}-group"


def label_json(site: Site, name: str) -> dict[str, Any]:
    return {"prefix": "global", "name": name, "id": str(site.label_id(name)), "label": name}


def listing(
    results: list[dict[str, Any]], *, start: int = 0, limit: int = 25, links: dict | None = None
) -> dict[str, Any]:
    """``{results, start, limit, size, _links}``, the v1 list envelope."""
    return {
        "results": results,
        "start": start,
        "limit": limit,
        "size": len(results),
        "_links": links or {},
    }
