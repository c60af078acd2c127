"""LlamaCloud sink (official ``llama-cloud`` SDK) behind the small ``Sink`` protocol."""

from .errors import LlamaCloudAuthError, LlamaCloudError
from .models import Document, Sink
from .sink import LlamaCloudSink, document_id, pipeline_name

__all__ = [
    "Document",
    "LlamaCloudAuthError",
    "LlamaCloudError",
    "LlamaCloudSink",
    "Sink",
    "document_id",
    "pipeline_name",
]
