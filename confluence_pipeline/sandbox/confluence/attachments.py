"""Page attachments: the store, the v2 listing and the v1 download, which redirects (302) to
the media host (:mod:`.media`) with a signed URL, as Confluence Cloud redirects to its media
API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import Response

from .model import Site, SiteError
from .paging import (
    ApiError,
    Call,
    decode_cursor,
    encode_cursor,
    next_link,
    offset_page,
    path_id,
    query_limit,
    v2_list,
)
from .render import iso

DEFAULT_LIMIT = 50


@dataclass(slots=True)
class AttachmentRecord:
    id: int
    page_id: int
    title: str
    media_type: str
    content: bytes
    version: int
    version_ms: int
    author_id: str


@dataclass
class Attachments:
    """Attachments by id; ``media_url`` is where downloads are redirected (set by whoever
    serves the media app; None: downloads answer 503)."""

    by_id: dict[int, AttachmentRecord] = field(default_factory=dict)
    media_url: str | None = None
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def put(
        self, site: Site, page_id: int, *, title: str, media_type: str, content: bytes, now_ms: int
    ) -> AttachmentRecord:
        """A new attachment, or a new version of the page's attachment with that file name."""
        page = site.page(page_id)
        if not title.strip() or "/" in title:
            raise SiteError(400, "'filename' must be a non-empty name without '/'")
        for record in self.by_id.values():
            if record.page_id == page.id and record.title == title:
                record.content, record.media_type = content, media_type
                record.version += 1
                record.version_ms = max(now_ms, record.version_ms + 1)
                return record
        record = AttachmentRecord(
            id=site.allocate_id(),
            page_id=page.id,
            title=title,
            media_type=media_type,
            content=content,
            version=1,
            version_ms=now_ms,
            author_id=site.accounts[0],
        )
        self.by_id[record.id] = record
        return record

    def delete(self, attachment_id: int) -> None:
        if self.by_id.pop(attachment_id, None) is None:
            raise SiteError(404, f"attachment {attachment_id} does not exist")

    def of_page(self, page_id: int) -> list[AttachmentRecord]:
        return sorted((r for r in self.by_id.values() if r.page_id == page_id), key=lambda r: r.id)

    def token(self, record: AttachmentRecord) -> str:
        message = f"{record.id}:{record.version}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


def attachment_id(raw: str) -> int:
    """``att123`` (or ``123``) -> 123; anything else is a 400."""
    digits = raw.removeprefix("att")
    if not digits.isdigit():
        raise ApiError(400, f"attachment id must look like att123, got {raw!r}")
    return int(digits)


def _download_path(record: AttachmentRecord) -> str:
    return (
        f"/download/attachments/{record.page_id}/{quote(record.title)}"
        f"?version={record.version}&modificationDate={record.version_ms}&api=v2"
    )


def attachment_json(record: AttachmentRecord) -> dict[str, Any]:
    """An attachment as ``GET /wiki/api/v2/pages/{id}/attachments`` lists it."""
    webui = f"/pages/viewpageattachments.action?pageId={record.page_id}&preview={record.id}"
    return {
        "id": f"att{record.id}",
        "status": "current",
        "title": record.title,
        "createdAt": iso(record.version_ms),
        "pageId": str(record.page_id),
        "mediaType": record.media_type,
        "mediaTypeDescription": record.media_type,
        "comment": "",
        "fileId": hashlib.sha256(f"{record.id}".encode()).hexdigest()[:36],
        "fileSize": len(record.content),
        "webuiLink": webui,
        "downloadLink": _download_path(record),
        "version": {
            "number": record.version,
            "message": "",
            "minorEdit": False,
            "authorId": record.author_id,
            "createdAt": iso(record.version_ms),
        },
        "_links": {"webui": webui, "download": _download_path(record)},
    }


def handlers(store: Attachments) -> tuple[tuple[str, Any], ...]:
    """The public routes (path under ``/wiki``, handler) over ``store``."""

    def page_attachments(call: Call) -> Response:
        page = call.site.pages.get(path_id(call))
        if page is None:
            raise ApiError(404)
        limit = query_limit(call, default=DEFAULT_LIMIT)
        offset = decode_cursor(call).get("o", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ApiError(400, "'cursor' is not a valid cursor")
        chunk, nxt = offset_page(store.of_page(page.id), offset, limit)
        next_url = next_link(call, encode_cursor({"o": nxt}), limit) if nxt is not None else None
        return v2_list(call, [attachment_json(r) for r in chunk], next_url)

    def download(call: Call) -> Response:
        page = call.site.pages.get(path_id(call))
        record = store.by_id.get(attachment_id(call.request.path_params["attachment_id"]))
        if page is None or record is None or record.page_id != page.id:
            raise ApiError(404)
        if store.media_url is None:
            raise ApiError(503, "the sandbox's media host is not running")
        query = urlencode({"version": record.version, "token": store.token(record)})
        location = f"{store.media_url}/file/{record.id}/{quote(record.title)}?{query}"
        return Response(status_code=302, headers={"Location": location})

    return (
        ("/api/v2/pages/{id}/attachments", page_attachments),
        ("/rest/api/content/{id}/child/attachment/{attachment_id}/download", download),
    )
