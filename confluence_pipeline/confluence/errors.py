"""Exceptions raised by the Confluence client; ``str()`` is always one line without secrets.

The message names the method and URL path (never the query string, headers or tokens), the
status and a short detail taken from the response body.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable

import httpx

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime.redaction import masked_line

_DETAIL_CHARS = 160
_BODY_SECRETS = ("client_secret", "refresh_token", "code", "access_token")


class ConfluenceError(PipelineError):
    """A Confluence call failed. ``request``/``response`` are set when known."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(" ".join(message.split()))
        self.request = request
        self.response = response

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None


class ConfluenceAuthError(ConfluenceError):
    """401/403: the credentials are wrong, expired or lack the needed scope."""


class ConfluenceNotFound(ConfluenceError):
    """404 where the caller cannot do without the object (e.g. listing an unknown space)."""


class ConfluenceUnavailable(ConfluenceError):
    """Rate limited or failing server after the retries ran out, or no connection/timeout."""


class ConfluenceResponseError(ConfluenceError):
    """The response is not JSON or lacks a field the client needs; the message names it."""


def describe(request: httpx.Request) -> str:
    """``GET /wiki/api/v2/pages`` - method and path only, never the query."""
    return f"{request.method} {request.url.path}"


def attempts_suffix(response_or_error: httpx.Response | BaseException) -> str:
    """`` after N attempts`` when a retrying transport recorded more than one attempt."""
    if isinstance(response_or_error, httpx.Response):
        attempts = response_or_error.extensions.get("retry_attempts")
    else:
        attempts = getattr(response_or_error, "retry_attempts", None)
    return f" after {attempts} attempts" if isinstance(attempts, int) and attempts > 1 else ""


def error_for_response(response: httpx.Response) -> ConfluenceError:
    """The exception matching a non-2xx response's status."""
    request = response.request
    status = response.status_code
    detail = response_detail(response, secrets=request_secrets(request))
    message = f"{describe(request)} -> {status} {response.reason_phrase}"
    message += attempts_suffix(response)
    if detail:
        message += f": {detail}"
    kind: type[ConfluenceError] = ConfluenceError
    if status in (401, 403):
        kind = ConfluenceAuthError
    elif status == 404:
        kind = ConfluenceNotFound
    elif status == 429 or status >= 500:
        kind = ConfluenceUnavailable
    return kind(message, request=request, response=response)


def error_for_transport(request: httpx.Request, exc: httpx.TransportError) -> ConfluenceUnavailable:
    """No usable response: connection refused, timeout, broken connection."""
    reason = str(exc) or type(exc).__name__
    message = f"{describe(request)} failed{attempts_suffix(exc)}: {type(exc).__name__}: {reason}"
    return ConfluenceUnavailable(message, request=request)


def request_secrets(request: httpx.Request) -> list[str]:
    """The credentials a request carried (a server may echo them in its error): the Basic
    password or bearer token, and the secrets of an OAuth token call's JSON body."""
    found: list[str] = []
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if credentials:
        found.append(credentials)
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                found.append(base64.b64decode(credentials).decode().partition(":")[2])
    try:
        body = json.loads(request.content) if request.content else None
    except (ValueError, httpx.RequestNotRead):
        body = None
    if isinstance(body, dict):
        found += [str(body[key]) for key in _BODY_SECRETS if body.get(key)]
    return found


def response_detail(response: httpx.Response, *, secrets: Iterable[str] = ()) -> str:
    """A short human detail from a Confluence error body (v2, v1 or OAuth style), or ''; any
    of ``secrets`` in it is masked before it is cut to length."""
    try:
        response.read()
        body = json.loads(response.content) if response.content else None
    except (ValueError, httpx.StreamError):
        return ""
    detail = ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            detail = str(first.get("detail") or first.get("title") or first.get("code") or "")
        else:
            for key in ("message", "error_description", "error", "reason"):
                if isinstance(body.get(key), str):
                    detail = body[key]
                    break
    return masked_line(detail, secrets, _DETAIL_CHARS)
