"""The site's users as REST v1 shows them: display names derived from account ids."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response

from .paging import ApiError, Call

_FIRST = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Zoë", "José")
_LAST = ("Lovelace", "Hopper", "Hamilton", "Turing", "Liskov", "Thompson", "Perlman", "Müller")


def display_name(account_id: str) -> str:
    """A stable, human-looking name for ``account_id``."""
    digest = hashlib.sha256(account_id.encode()).digest()
    return f"{_FIRST[digest[0] % len(_FIRST)]} {_LAST[digest[1] % len(_LAST)]}"


def user_json(account_id: str, base: str) -> dict[str, Any]:
    """A v1 ``user`` object (``version.by``, ``history.createdBy``)."""
    name = display_name(account_id)
    return {
        "type": "known",
        "accountId": account_id,
        "accountType": "atlassian",
        "email": "",
        "publicName": name,
        "displayName": name,
        "profilePicture": {
            "path": f"/wiki/aa-avatar/{account_id}",
            "width": 48,
            "height": 48,
            "isDefault": False,
        },
        "isExternalCollaborator": False,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{base}/rest/api/user?accountId={account_id}"},
    }


BULK_LIMIT = 200


PRIVATE_ACCOUNT = "557058:00000000-0000-4000-8000-00000000c10c"
"""An account that exists but keeps its profile private: bulk lookups leave it out. No
generated page names it; tests mention it on pages of their own."""


def bulk_users(call: Call) -> Response:
    """``GET /rest/api/user/bulk?accountId=..&accountId=..``: up to 200 users, on both URL
    shapes (the user routes stay on v1 over OAuth); unknown and private profiles are left out."""
    ids = list(dict.fromkeys(call.request.query_params.getlist("accountId")))
    if not ids:
        raise ApiError(400, "accountId is required")
    known = set(call.site.accounts)
    results = [
        user_json(account_id, call.base) for account_id in ids[:BULK_LIMIT] if account_id in known
    ]
    body = {
        "results": results,
        "start": 0,
        "limit": BULK_LIMIT,
        "size": len(results),
        "_links": {"base": call.base, "context": "/wiki"},
    }
    return JSONResponse(body)
