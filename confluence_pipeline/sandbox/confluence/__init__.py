"""A Confluence Cloud emulator (REST v2, CQL search, both URL shapes) served over real HTTP.

Credentials: ``demo@example.com`` / ``sandbox-token`` (HTTP Basic); OAuth 3LO client
``sandbox-client-id`` / ``sandbox-client-secret``. See :func:`create_app`.
"""

from .app import create_app
from .auth import API_TOKEN, API_TOKEN_EMAIL
from .media import create_media_app
from .oauth_grants import CLIENT_ID, CLIENT_SECRET
from .state import SandboxState

__all__ = [
    "API_TOKEN",
    "API_TOKEN_EMAIL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SandboxState",
    "create_app",
    "create_media_app",
]
