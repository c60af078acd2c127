"""Confluence storage format to Markdown, and the documents built from it. Pure: no I/O."""

from .converter import (
    Conversion,
    Outcome,
    StorageConverter,
    convert_storage,
    storage_to_markdown,
)
from .document import content_hash, render_document
from .links import mentioned_accounts
from .storage import ParsedAs

__all__ = [
    "Conversion",
    "Outcome",
    "ParsedAs",
    "StorageConverter",
    "content_hash",
    "convert_storage",
    "mentioned_accounts",
    "render_document",
    "storage_to_markdown",
]
