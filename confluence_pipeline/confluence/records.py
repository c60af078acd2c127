"""JSON -> typed records: every field the client reads is looked up and checked here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .errors import ConfluenceResponseError, describe
from .models import Attachment, ChangedPage, Page, PageScope, PageSummary, Space


class _FieldError(Exception):
    pass


@contextmanager
def reading(response: httpx.Response) -> Iterator[None]:
    """Turns a missing/mistyped field into a ConfluenceResponseError naming it."""
    try:
        yield
    except _FieldError as exc:
        raise ConfluenceResponseError(
            f"{describe(response.request)} -> {response.status_code}: unexpected response, {exc}",
            request=response.request,
            response=response,
        ) from None


def _lookup(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def get_str(obj: Any, dotted: str) -> str:
    value = _lookup(obj, dotted)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _FieldError(f"field '{dotted}' is missing or not a string")
    return str(value)


def get_opt_str(obj: Any, dotted: str) -> str | None:
    return None if _lookup(obj, dotted) is None else get_str(obj, dotted)


def get_int(obj: Any, dotted: str) -> int:
    value = _lookup(obj, dotted)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FieldError(f"field '{dotted}' is missing or not an integer")
    return value


def get_list(obj: Any, dotted: str) -> list[dict[str, Any]]:
    value = _lookup(obj, dotted)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _FieldError(f"field '{dotted}' is missing or not a list of objects")
    return value


def to_space(item: dict[str, Any], base: str) -> Space:
    return Space(
        id=get_str(item, "id"),
        key=get_str(item, "key"),
        name=get_str(item, "name"),
        homepage_id=get_opt_str(item, "homepageId"),
    )


def to_summary(item: dict[str, Any], base: str) -> PageSummary:
    return PageSummary(
        id=get_str(item, "id"),
        space_id=get_str(item, "spaceId"),
        title=get_str(item, "title"),
        status=get_str(item, "status"),
        parent_id=get_opt_str(item, "parentId"),
        version=get_int(item, "version.number"),
        last_modified=get_str(item, "version.createdAt"),
        author_id=get_opt_str(item, "authorId"),
        url=base + get_str(item, "_links.webui"),
        editor_id=get_opt_str(item, "version.authorId"),
    )


def to_page(item: dict[str, Any], base: str) -> Page:
    return Page(summary=to_summary(item, base), storage=get_str(item, "body.storage.value"))


def to_attachment(item: dict[str, Any], base: str) -> Attachment:
    """A v2 attachment (``GET /pages/{id}/attachments``); a missing ``fileSize`` is 0 (the
    download's own cap still applies)."""
    link = get_opt_str(item, "webuiLink") or get_opt_str(item, "downloadLink") or ""
    size = _lookup(item, "fileSize")
    return Attachment(
        id=get_str(item, "id"),
        page_id=get_str(item, "pageId"),
        title=get_str(item, "title"),
        media_type=get_opt_str(item, "mediaType") or "application/octet-stream",
        file_size=size if isinstance(size, int) and not isinstance(size, bool) else 0,
        version=get_int(item, "version.number"),
        url=base + link,
    )


def to_label(item: dict[str, Any], base: str) -> str:
    return get_str(item, "name")


def _read_restriction(item: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Account ids and group names of a v1 read-restriction object."""
    users = tuple(get_str(u, "accountId") for u in get_list(item, "restrictions.user.results"))
    groups = tuple(get_str(g, "name") for g in get_list(item, "restrictions.group.results"))
    return users, groups


def to_scope(item: dict[str, Any], base: str) -> PageScope:
    """A v1 content object expanded with ``metadata.labels`` and
    ``restrictions.read.restrictions.user``/``.group``."""
    users, groups = _read_restriction(get_dict(item, "restrictions.read"))
    labels = tuple(get_str(label, "name") for label in get_list(item, "metadata.labels.results"))
    return PageScope(get_str(item, "id"), labels, users, groups)


def to_change(item: dict[str, Any], _base: str) -> ChangedPage:
    """A v1 content object expanded with ``version`` and ``space``."""
    return ChangedPage(
        get_str(item, "id"), get_str(item, "space.key"), get_int(item, "version.number")
    )


def to_read_restriction(item: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The body of ``GET /rest/api/content/{id}/restriction/byOperation/read``."""
    return _read_restriction(item)


def get_dict(obj: Any, dotted: str) -> dict[str, Any]:
    value = _lookup(obj, dotted)
    if not isinstance(value, dict):
        raise _FieldError(f"field '{dotted}' is missing or not an object")
    return value
