"""Confluence storage format to Markdown, and the documents built from it. Pure: no I/O."""

from .converter import StorageConverter, storage_to_markdown
from .document import content_hash, render_document

__all__ = ["StorageConverter", "content_hash", "render_document", "storage_to_markdown"]
