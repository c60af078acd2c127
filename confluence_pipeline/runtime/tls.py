"""One certificate-verifying TLS context per process, for every HTTP client we build."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def verifying_context() -> ssl.SSLContext:
    """httpx loads the CA bundle (tens of milliseconds) for each client or transport it builds
    without one; a sync step builds several, so they share this. Thread-safe to share."""
    return httpx.create_ssl_context()
