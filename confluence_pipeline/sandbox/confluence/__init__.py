"""A Confluence Cloud emulator (REST v2, CQL search, both URL shapes) served over real HTTP.

Credentials: ``demo@example.com`` / ``sandbox-token`` (HTTP Basic). See :func:`create_app`.
"""

from .app import create_app
from .auth import API_TOKEN, API_TOKEN_EMAIL
from .state import SandboxState

__all__ = ["API_TOKEN", "API_TOKEN_EMAIL", "SandboxState", "create_app"]
