"""Endpoints that credentials are sent to must use https; only loopback hosts (the sandboxes)
may use plain http."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from confluence_pipeline.errors import PipelineError


class InsecureURLError(PipelineError, ValueError):
    """An endpoint is not https (and not on a loopback host); the message names the setting."""


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1."""
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_https(url: str, what: str) -> str:
    """Returns ``url`` unchanged when it is ``https://`` (or ``http://`` on a loopback host);
    otherwise raises InsecureURLError naming ``what`` (the variable or option it came from)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    scheme = parts.scheme.lower() if parts else ""
    if host and (scheme == "https" or (scheme == "http" and is_loopback(host))):
        return url
    shown = f"{scheme}://{host}" if scheme and host else repr(url)
    raise InsecureURLError(
        f"{what} must be an https:// URL (plain http is only allowed on loopback hosts such as "
        f"127.0.0.1 or localhost), not {shown}"
    )
