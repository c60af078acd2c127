"""LlamaCloud sinks (official ``llama-cloud`` SDK) behind the small ``Sink`` protocol: the
``pipeline`` target (Index v1 pipelines) and the ``index`` target (Index v2 directory + index)."""

from .errors import LlamaCloudAuthError, LlamaCloudError
from .index_sink import IndexSink, TargetUnavailable
from .models import Document, Sink
from .sink import LlamaCloudSink, document_id, pipeline_name


def open_sink(
    target: str,
    api_key: str,
    project_id: str,
    *,
    base_url: str | None = None,
    timeout: float = 60.0,
    max_retries: int = 5,
) -> LlamaCloudSink | IndexSink:
    """The sink of ``target`` (``pipeline`` or ``index``); ValueError for another name."""
    kinds: dict[str, type[LlamaCloudSink | IndexSink]] = {
        "pipeline": LlamaCloudSink,
        "index": IndexSink,
    }
    if target not in kinds:
        raise ValueError(f"unknown LlamaCloud target {target!r}: use one of {', '.join(kinds)}")
    return kinds[target](
        api_key, project_id, base_url=base_url, timeout=timeout, max_retries=max_retries
    )


__all__ = [
    "Document",
    "IndexSink",
    "LlamaCloudAuthError",
    "LlamaCloudError",
    "LlamaCloudSink",
    "Sink",
    "TargetUnavailable",
    "document_id",
    "open_sink",
    "pipeline_name",
]
