"""Clients of the sandboxes' admin routes (plain HTTP), for tests, benchmarks and the demo."""

from __future__ import annotations

import base64
from typing import Any

import httpx


class ConfluenceAdmin:
    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=30)

    def spaces(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/spaces").raise_for_status().json())

    def stats(self) -> dict[str, Any]:
        return dict(self._http.get("/_sandbox/stats").raise_for_status().json())

    def rate_limit(self, **settings: Any) -> dict[str, Any]:
        """The points budget's state; with ``settings``, changes it first (``POST
        /_sandbox/rate-limit``)."""
        if not settings:
            return dict(self._http.get("/_sandbox/rate-limit").raise_for_status().json())
        response = self._http.post("/_sandbox/rate-limit", json=settings)
        return dict(response.raise_for_status().json())

    def create_page(
        self, space_key: str, title: str, storage: str, *, parent_id: str | None = None
    ) -> str:
        body = {"space_key": space_key, "title": title, "storage": storage}
        if parent_id is not None:
            body["parent_id"] = parent_id
        return str(self._http.post("/_sandbox/pages", json=body).raise_for_status().json()["id"])

    def edit_page(self, page_id: str, storage: str, *, modified_at: str | None = None) -> int:
        body = {"storage": storage}
        if modified_at is not None:
            body["modified_at"] = modified_at
        response = self._http.put(f"/_sandbox/pages/{page_id}", json=body)
        return int(response.raise_for_status().json()["version"])

    def set_labels(self, page_id: str, labels: list[str]) -> None:
        self._http.put(
            f"/_sandbox/pages/{page_id}/labels", json={"labels": labels}
        ).raise_for_status()

    def restrict(
        self, page_id: str, users: list[str] | None = None, groups: list[str] | None = None
    ) -> None:
        """Sets the page's own read restriction; no users and no groups lift it."""
        body = {"read": {"users": users or [], "groups": groups or []}}
        self._http.put(f"/_sandbox/pages/{page_id}/restrictions", json=body).raise_for_status()

    def attach(self, page_id: str, filename: str, media_type: str, content: bytes) -> str:
        """Attaches a file (the same name again: a new version); the attachment's id."""
        body = {
            "filename": filename,
            "media_type": media_type,
            "content_base64": base64.b64encode(content).decode(),
        }
        response = self._http.post(f"/_sandbox/pages/{page_id}/attachments", json=body)
        return str(response.raise_for_status().json()["id"])

    def delete_attachment(self, attachment_id: str) -> None:
        self._http.delete(f"/_sandbox/attachments/{attachment_id}").raise_for_status()

    def media_requests(self) -> list[dict[str, str]]:
        """The headers of every request the media host received."""
        return list(self._http.get("/_sandbox/media/requests").raise_for_status().json())

    def trash_page(self, page_id: str) -> None:
        self._http.delete(f"/_sandbox/pages/{page_id}").raise_for_status()

    def move_page(self, page_id: str, space_key: str) -> None:
        self._http.post(
            f"/_sandbox/pages/{page_id}/move", json={"space_key": space_key}
        ).raise_for_status()

    def page(self, page_id: str) -> dict[str, Any]:
        return dict(self._http.get(f"/_sandbox/pages/{page_id}").raise_for_status().json())


class LlamaCloudAdmin:
    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=30)

    def stats(self) -> dict[str, Any]:
        return dict(self._http.get("/_sandbox/stats").raise_for_status().json())

    def pipelines(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/pipelines").raise_for_status().json())

    def documents(self, pipeline_id: str) -> dict[str, dict[str, Any]]:
        rows = self._http.get(f"/_sandbox/pipelines/{pipeline_id}/documents").raise_for_status()
        return {doc["id"]: doc for doc in rows.json()}

    def pipeline_files(self, pipeline_id: str) -> list[dict[str, Any]]:
        """The pipeline's files (``id``, ``text``, ``metadata``, ``stored``)."""
        rows = self._http.get(f"/_sandbox/pipelines/{pipeline_id}/files").raise_for_status()
        return list(rows.json())

    def project_files(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/files").raise_for_status().json())

    def set_ingestion(self, **settings: Any) -> dict[str, Any]:
        """``delay_ms`` (both targets) and ``v2_enabled`` (the plan switch)."""
        return dict(self._http.post("/_sandbox/ingestion", json=settings).raise_for_status().json())

    def directories(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/directories").raise_for_status().json())

    def indexes(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/indexes").raise_for_status().json())

    def files(self, directory_id: str) -> list[dict[str, Any]]:
        """Every live file of the directory (``id``, ``unique_id``, ``text``, ``metadata``)."""
        rows = self._http.get(f"/_sandbox/directories/{directory_id}/files").raise_for_status()
        return list(rows.json())

    def files_by_unique_id(self, index_id: str) -> dict[str, dict[str, Any]]:
        """The live files of a v2 index's directory by ``unique_id``; AssertionError when two
        share one."""
        [directory] = [i["source_directory_id"] for i in self.indexes() if i["id"] == index_id]
        found: dict[str, dict[str, Any]] = {}
        for file in self.files(directory):
            assert file["unique_id"] not in found, f"two live files for {file['unique_id']}"
            found[file["unique_id"]] = file
        return found
