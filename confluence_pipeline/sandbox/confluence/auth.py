"""Who may call the public API.

``{site}/wiki/...`` accepts HTTP Basic with the API-token credentials. The OAuth gateway shape
``/ex/confluence/{cloudid}/wiki/...`` accepts Bearer tokens registered in ``bearer_tokens``
or accepted by ``bearer_check`` (the OAuth emulator's check of the access tokens it issued,
expiry included) and Basic too, as Atlassian's scoped API tokens do. A Bearer token on the
site shape is refused, as in Cloud.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

API_TOKEN_EMAIL = "demo@example.com"
API_TOKEN = "sandbox-token"


@dataclass
class Authenticator:
    email: str = API_TOKEN_EMAIL
    api_token: str = API_TOKEN
    bearer_tokens: set[str] = field(default_factory=set)
    bearer_check: Callable[[str], bool] | None = None

    def refusal(self, request: Request, *, gateway: bool) -> str | None:
        """None when the request may proceed, else the reason for a 401."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return None if self._basic_ok(credentials.strip()) else "Basic authentication failed"
        if scheme == "bearer":
            if not gateway:
                return "OAuth access tokens are accepted only via api.atlassian.com/ex/confluence"
            return None if self.bearer_ok(credentials.strip()) else "Unknown or expired token"
        return "Authentication required"

    def bearer_ok(self, token: str) -> bool:
        """Extension point for OAuth: whether an access token is currently valid."""
        if token in self.bearer_tokens:
            return True
        return self.bearer_check is not None and self.bearer_check(token)

    def _basic_ok(self, credentials: str) -> bool:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        email, _, token = decoded.partition(":")
        email_ok = hmac.compare_digest(email.encode(), self.email.encode())
        return email_ok & hmac.compare_digest(token.encode(), self.api_token.encode())
