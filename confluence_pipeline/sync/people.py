"""People by name: the account ids that pages name (author, last editor, mentions) resolved to
display names in batches, through the state's cache, so a sync looks up only new ids."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluence_pipeline.confluence import ConfluenceClient, ConfluenceError
from confluence_pipeline.confluence.client import USERS_PER_LOOKUP
from confluence_pipeline.state import StateStore


@dataclass
class NameLookup:
    """What resolving a run's account ids cost: ids looked up, requests, and the error that
    stopped the lookup (its pages then show account ids; no page fails for it)."""

    looked_up: int = 0
    requests: int = 0
    error: str | None = None


def account_ids(page_metadata: Mapping[str, Any]) -> list[str]:
    """The account ids a staged page names: author, last editor, mentions."""
    ids = [page_metadata.get("author_id"), page_metadata.get("editor_id")]
    ids += page_metadata.get("mentions") or ()
    return [account_id for account_id in dict.fromkeys(ids) if account_id]


def resolve_names(store: StateStore, client: ConfluenceClient, ids: Iterable[str]) -> NameLookup:
    """Looks up the ids the cache does not hold (``ceil(new / 200)`` requests) and caches the
    answers, a missing name included (a private profile is not asked again until it expires).
    A failed lookup caches nothing and is reported, never raised."""
    wanted = list(dict.fromkeys(ids))
    cached = store.people.cached(wanted)
    missing = [account_id for account_id in wanted if account_id not in cached]
    if not missing:
        return NameLookup()
    lookup = NameLookup(looked_up=len(missing), requests=math.ceil(len(missing) / USERS_PER_LOOKUP))
    try:
        names = client.display_names(missing)
    except ConfluenceError as exc:
        lookup.error = f"display names not looked up: {exc}"
        return lookup
    store.people.remember({account_id: names.get(account_id) for account_id in missing})
    return lookup


def named(
    metadata: Mapping[str, Any], names: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``metadata`` with ``author`` and ``editor`` named from ``names`` (None where unknown),
    and the names of the people the page names."""
    enriched = dict(metadata)
    enriched["author"] = names.get(metadata.get("author_id") or "")
    enriched["editor"] = names.get(metadata.get("editor_id") or "")
    ids = account_ids(metadata)
    return enriched, {i: names[i] for i in ids if i in names}


def known_names(store: StateStore, ids: Iterable[str]) -> dict[str, str]:
    """The display names the cache holds for ``ids``, however old."""
    found = store.people.cached(ids, ttl=None)
    return {account_id: name for account_id, name in found.items() if name}
