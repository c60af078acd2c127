"""The first step (asset ``confluence_spaces``): check the (index, space) pair and resolve the
space by key, recording its id, name and homepage for the steps after it."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import Space
from confluence_pipeline.state import Connection, Index, StateStore
from confluence_pipeline.sync.errors import SyncError

VISIBLE_HINT = 20
"""Space keys named in the error for an unknown one."""


def site_id(connection: Connection) -> str:
    """The id that scopes document ids: the cloud id, else the site's host name."""
    return connection.cloud_id or (urlsplit(connection.site_url).hostname or connection.site_url)


def check_partition(index: Index, space_key: str) -> None:
    """Refuses a (index, space) pair that the index does not declare."""
    if space_key not in index.spaces:
        raise SyncError(
            f"space {space_key!r} is not configured for index {index.name!r} "
            f"(its spaces: {', '.join(index.spaces)})"
        )
    if index.connection_id is None:
        raise SyncError(f"index {index.name!r} has no connection; set one with `index update`")


def verify_spaces(client: ConfluenceClient, keys: Sequence[str]) -> None:
    """Refuses space keys the site does not show this login (one request; a second one on
    failure, to name up to 20 keys it does show)."""
    found = client.get_spaces(keys)
    unknown = [key for key in keys if key not in found]
    if not unknown:
        return
    visible = [space.key for space in client.visible_spaces(VISIBLE_HINT)]
    hint = f"spaces this login sees: {', '.join(visible)}" if visible else "it sees no space"
    raise SyncError(
        f"unknown space {', '.join(unknown)} on {client.base_url} ({hint}); "
        "fix the keys, or pass --no-verify to skip this check"
    )


def connection_id(index: Index) -> int:
    """The index's connection; refuses an index that has none."""
    if index.connection_id is None:
        raise SyncError(f"index {index.name!r} has no connection")
    return index.connection_id


def resolve_space(
    store: StateStore, client: ConfluenceClient, index: Index, space_key: str
) -> Space:
    """Looks the space up by key and records its id, name and homepage in state."""
    check_partition(index, space_key)
    space = client.get_spaces([space_key]).get(space_key)
    if space is None:
        raise SyncError(f"space {space_key!r} not found on the site, or not visible to this login")
    store.registry.record_space(
        connection_id(index),
        key=space.key,
        space_id=space.id,
        name=space.name,
        homepage_id=space.homepage_id,
    )
    return space


def recorded_space(store: StateStore, index: Index, space_key: str) -> Space:
    """The space as resolved by ``resolve_space``; refuses if it never was."""
    check_partition(index, space_key)
    row = store.registry.get_space(connection_id(index), space_key)
    if row is None:
        raise SyncError(
            f"space {space_key!r} not resolved yet: materialize confluence_spaces first"
        )
    return Space(id=row.space_id, key=row.key, name=row.name, homepage_id=row.homepage_id)
