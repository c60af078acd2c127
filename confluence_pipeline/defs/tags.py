"""Every run tag this code location reads or writes."""

INDEX_TAG = "confluence_pipeline/index"
SPACE_TAG = "confluence_pipeline/space"
PARTITION_TAG = "confluence_pipeline/partition"
"""``index|space``: the instance's run queue limits runs per value to one."""
FULL_SYNC_TAG = "confluence_pipeline/full"
PAGES_TAG = "confluence_pipeline/pages"
"""Comma-joined ids of the only pages a run syncs (set by the change sensor; absent: all)."""
ALLOW_MASS_DELETE_TAG = "confluence_pipeline/allow_mass_delete"
OWNERS_TAG = "confluence_pipeline/owners"
"""Comma-joined emails of the index's owners (absent when it has none)."""
DAGSTER_PARTITION_INDEX_TAG = "dagster/partition/index"
DAGSTER_PARTITION_SPACE_TAG = "dagster/partition/space"
"""The tags Dagster itself puts on any run of a multi-partition (UI launches, backfills)."""


def run_tags(index: str, space: str, owners: list[str] | None = None) -> dict[str, str]:
    """Tags of a sync run of one (index, space) partition."""
    tags = {INDEX_TAG: index, SPACE_TAG: space, PARTITION_TAG: f"{index}|{space}"}
    if owners:
        tags[OWNERS_TAG] = ",".join(owners)
    return tags
