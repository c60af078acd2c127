"""The site's users as REST v1 shows them: display names derived from account ids."""

from __future__ import annotations

import hashlib
from typing import Any

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
