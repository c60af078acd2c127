"""What both sinks share: one SDK client per sink, errors translated, closed on exit."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

import httpx
import llama_cloud

from confluence_pipeline.runtime.tls import verifying_context
from confluence_pipeline.runtime.urls import require_https

from .errors import LlamaCloudError, from_sdk

DEFAULT_BASE_URL = "https://api.cloud.llamaindex.ai"
CONNECT_TIMEOUT_S = 5.0
# What an SDK call may raise: its own errors, transport errors, and ValueError when a 2xx
# body is not the JSON it should be (truncated, an HTML page from a proxy).
SDK_ERRORS = (llama_cloud.LlamaCloudError, httpx.HTTPError, ValueError)


class SdkSink:
    """Owns a ``llama_cloud.LlamaCloud`` client (``max_retries`` retries of connection errors,
    timeouts, 408/409/429 and 5xx, honouring ``Retry-After``) for one project."""

    def __init__(
        self,
        api_key: str,
        project_id: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
    ) -> None:
        if not api_key:
            raise LlamaCloudError("LlamaCloud API key is empty", operation="connect")
        # explicit, so the SDK never falls back to reading LLAMA_CLOUD_BASE_URL on its own
        base_url = require_https(base_url or DEFAULT_BASE_URL, "LLAMA_CLOUD_BASE_URL")
        self._api_key = api_key
        self._project_id = project_id
        self._client = llama_cloud.LlamaCloud(
            api_key=api_key,
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S)),
            max_retries=max_retries,
            http_client=llama_cloud.DefaultHttpxClient(verify=verifying_context()),
        )

    def _error(self, exc: Exception, operation: str, ids: Sequence[str] = ()) -> LlamaCloudError:
        return from_sdk(exc, operation, secrets=(self._api_key,), document_ids=ids)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
