"""The (index, space) partitions shared by assets, the job and the sensor."""

from __future__ import annotations

import dagster as dg

INDEX_DIMENSION = "index"
SPACE_DIMENSION = "space"

index_partitions = dg.DynamicPartitionsDefinition(name=INDEX_DIMENSION)
space_partitions = dg.DynamicPartitionsDefinition(name=SPACE_DIMENSION)

# Keys read "<index>|<space>": dimensions are ordered by name.
index_space_partitions = dg.MultiPartitionsDefinition(
    {INDEX_DIMENSION: index_partitions, SPACE_DIMENSION: space_partitions}
)


def partition_key(index: str, space: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({INDEX_DIMENSION: index, SPACE_DIMENSION: space})


def split_partition_key(key: str | dg.MultiPartitionKey) -> tuple[str, str]:
    """Returns ``(index, space)`` of a partition key."""
    if not isinstance(key, dg.MultiPartitionKey):
        key = index_space_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return dims[INDEX_DIMENSION], dims[SPACE_DIMENSION]


def register_partitions(
    instance: dg.DagsterInstance, indexes: list[str], spaces: list[str]
) -> None:
    """Adds whichever of these index names and space keys the instance does not know yet."""
    for definition, wanted in ((index_partitions, indexes), (space_partitions, spaces)):
        assert definition.name is not None
        known = set(instance.get_dynamic_partitions(definition.name))
        missing = [key for key in dict.fromkeys(wanted) if key not in known]
        if missing:
            instance.add_dynamic_partitions(definition.name, missing)
