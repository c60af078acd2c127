"""Credentials for the Confluence client: any ``httpx.Auth`` works (OAuth adds its own)."""

from __future__ import annotations

import httpx


def basic_auth(email: str, api_token: str) -> httpx.Auth:
    """HTTP Basic with an Atlassian account email and API token (the ``{site}/wiki`` shape)."""
    if not email or not api_token:
        raise ValueError("both an email and an API token are required")
    return httpx.BasicAuth(email, api_token)
