"""Confluence Cloud client: REST v2 spaces and pages, typed records, retries, pluggable auth."""

from .auth import basic_auth
from .client import DEFAULT_TIMEOUT, ConfluenceClient
from .download import AttachmentTooLarge
from .errors import (
    ConfluenceAuthError,
    ConfluenceError,
    ConfluenceNotFound,
    ConfluenceResponseError,
    ConfluenceUnavailable,
)
from .models import Attachment, Page, PageSummary, Space
from .retry import RetryPolicy, RetryTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "Attachment",
    "AttachmentTooLarge",
    "ConfluenceAuthError",
    "ConfluenceClient",
    "ConfluenceError",
    "ConfluenceNotFound",
    "ConfluenceResponseError",
    "ConfluenceUnavailable",
    "Page",
    "PageSummary",
    "RetryPolicy",
    "RetryTransport",
    "Space",
    "basic_auth",
]
