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
from .ratelimit import Clamp, LocalGate, RateLimitHeaders, RequestGate, Usage
from .retry import RetryPolicy, RetryTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "Attachment",
    "AttachmentTooLarge",
    "Clamp",
    "ConfluenceAuthError",
    "ConfluenceClient",
    "ConfluenceError",
    "ConfluenceNotFound",
    "ConfluenceResponseError",
    "ConfluenceUnavailable",
    "LocalGate",
    "Page",
    "PageSummary",
    "RateLimitHeaders",
    "RequestGate",
    "RetryPolicy",
    "RetryTransport",
    "Space",
    "Usage",
    "basic_auth",
]
