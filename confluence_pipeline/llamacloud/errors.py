"""Errors of the LlamaCloud sink: one clear line each, never a secret."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import llama_cloud

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime.redaction import masked_line

_MAX_REASON = 300


class LlamaCloudError(PipelineError):
    """A LlamaCloud operation failed.

    ``str(error)`` is one line naming the operation (and the documents involved); ``status_code``
    is the HTTP status when the server answered, None for connection problems and local checks.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status_code: int | None = None,
        document_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code
        self.document_ids = tuple(document_ids)


class LlamaCloudAuthError(LlamaCloudError):
    """The API key was refused (401/403): retrying other documents will not help."""


def _detail(body: object) -> str:
    """The server's ``detail``: a string, or FastAPI's list of ``{loc, msg}`` (inputs left out)."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(part) for part in item.get("loc", ()))
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return "" if detail is None else str(detail)


def _reason(exc: Exception) -> str:
    if isinstance(exc, llama_cloud.APIStatusError):
        detail = _detail(exc.body)
        return f"HTTP {exc.status_code}" + (f": {detail}" if detail else "")
    if isinstance(exc, llama_cloud.APITimeoutError):
        return "request timed out"
    if isinstance(exc, llama_cloud.APIConnectionError):
        cause = exc.__cause__
        return f"connection error ({type(cause).__name__}: {cause})" if cause else exc.message
    if isinstance(exc, llama_cloud.APIResponseValidationError):
        return "unexpected response from the server"
    return f"{type(exc).__name__}: {exc}"


def from_sdk(
    exc: Exception,
    operation: str,
    *,
    secrets: Iterable[str] = (),
    document_ids: Sequence[str] = (),
) -> LlamaCloudError:
    """Translates an SDK (or transport) exception into a LlamaCloudError for ``operation``."""
    # masked before it is cut to length: a cut secret would no longer match
    message = masked_line(
        f"LlamaCloud {operation} failed: {_reason(exc)}", secrets, _MAX_REASON, ellipsis="..."
    )
    status = exc.status_code if isinstance(exc, llama_cloud.APIStatusError) else None
    kind = LlamaCloudAuthError if status in (401, 403) else LlamaCloudError
    return kind(message, operation=operation, status_code=status, document_ids=document_ids)
