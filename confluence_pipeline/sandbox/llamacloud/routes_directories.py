"""Index v2 directories and their files: ``/api/v1/beta/directories...``."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .extract import SUFFIXES, extract_text, supported
from .multipart import parse_form
from .router import Params, Route
from .routes_pipelines import request_project
from .state import SandboxState
from .store import now
from .v2_store import StoredDirectory, StoredFile, new_file
from .web import (
    HTTPError,
    cursor_page,
    empty_response,
    json_response,
    not_found,
    read_json,
)


def directory_of(state: SandboxState, params: Params) -> StoredDirectory:
    directory = state.v2.directories.get(params["directory_id"])
    if directory is None:
        raise not_found("Directory")
    return directory


def _file_of(directory: StoredDirectory, params: Params) -> StoredFile:
    file = directory.files.get(params["directory_file_id"])
    if file is None:
        raise not_found("Directory file")
    return file


def _missing(field: str) -> HTTPError:
    return HTTPError(422, [{"type": "missing", "loc": ["body", field], "msg": "Field required"}])


async def create_directory(state: SandboxState, request: Request, params: Params) -> Response:
    project_id = request_project(state, request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise _missing("name")
    stamp = now()
    directory = StoredDirectory(
        id=state.store.new_id(),
        name=body["name"],
        project_id=project_id,
        description=body.get("description"),
        created_at=stamp,
        updated_at=stamp,
    )
    state.v2.directories[directory.id] = directory
    return json_response(directory.to_json())


async def list_directories(state: SandboxState, request: Request, params: Params) -> Response:
    project_id = request_project(state, request)
    name = request.query_params.get("name")
    found = [
        d.to_json()
        for d in state.v2.directories.values()
        if d.project_id == project_id and name in (None, "", d.name)
    ]
    return json_response(cursor_page(request, found))


async def get_directory(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(directory_of(state, params).to_json())


async def delete_directory(state: SandboxState, request: Request, params: Params) -> Response:
    directory = directory_of(state, params)
    state.stats.files_deleted += len(directory.files)
    del state.v2.directories[directory.id]
    return empty_response()


def _metadata(raw: str | None) -> dict[str, Any]:
    """``metadata`` is a JSON object string whose values are str, int, float, bool, None or a
    list of str; anything else is a 422."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    ok = isinstance(value, dict) and all(
        item is None
        or isinstance(item, str | int | float | bool)
        or (isinstance(item, list) and all(isinstance(x, str) for x in item))
        for item in value.values()
    )
    if not ok:
        raise HTTPError(
            422,
            [
                {
                    "type": "value_error",
                    "loc": ["body", "metadata"],
                    "msg": "metadata must be a JSON object of str, int, float, bool, null "
                    "or list of str values",
                }
            ],
        )
    return dict(value)


async def upload_file(state: SandboxState, request: Request, params: Params) -> Response:
    """Multipart ``upload_file`` + optional ``display_name``, ``external_file_id``,
    ``metadata`` (JSON string), ``unique_id``; the file's text is what :mod:`.extract` gets.
    Each upload is a new directory file, even for a ``unique_id`` already present."""
    directory = directory_of(state, params)
    form = parse_form(request.headers.get("content-type", ""), await request.body())
    if form is None or "upload_file" not in form:
        raise _missing("upload_file")
    upload = form["upload_file"]
    filename = upload.filename or "upload"
    if not supported(filename):
        raise HTTPError(415, f"the sandbox parses only {', '.join(SUFFIXES)} files")
    fields = {name: part.text() for name, part in form.items() if name != "upload_file"}
    file = new_file(
        directory,
        id=state.store.new_id(),
        file_id=state.store.new_id(),
        display_name=fields.get("display_name") or filename,
        unique_id=fields.get("unique_id") or fields.get("external_file_id") or filename,
        external_file_id=fields.get("external_file_id"),
        metadata=_metadata(fields.get("metadata")),
        text=extract_text(filename, upload.content),
    )
    directory.add(file)
    state.stats.files_uploaded += 1
    return json_response(file.to_json())


async def list_files(state: SandboxState, request: Request, params: Params) -> Response:
    """Filters ``unique_id``, ``display_name``, ``display_name_contains``, ``file_id``."""
    directory = directory_of(state, params)
    query = request.query_params
    found = [
        file.to_json()
        for file in directory.files.values()
        if query.get("unique_id") in (None, file.unique_id)
        and query.get("display_name") in (None, file.display_name)
        and query.get("file_id") in (None, file.file_id)
        and (query.get("display_name_contains") or "") in file.display_name
    ]
    return json_response(cursor_page(request, found))


async def get_file(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(_file_of(directory_of(state, params), params).to_json())


async def delete_file(state: SandboxState, request: Request, params: Params) -> Response:
    directory = directory_of(state, params)
    del directory.files[_file_of(directory, params).id]
    directory.updated_at = now()
    state.stats.files_deleted += 1
    return empty_response()


_DIRS = "/api/v1/beta/directories"
_FILES = f"{_DIRS}/{{directory_id}}/files"
ROUTES = [
    Route("POST", _DIRS, create_directory),
    Route("GET", _DIRS, list_directories),
    Route("GET", f"{_DIRS}/{{directory_id}}", get_directory),
    Route("DELETE", f"{_DIRS}/{{directory_id}}", delete_directory),
    Route("POST", f"{_FILES}/upload", upload_file),
    Route("GET", _FILES, list_files),
    Route("GET", f"{_FILES}/{{directory_file_id}}", get_file),
    Route("DELETE", f"{_FILES}/{{directory_file_id}}", delete_file),
]
