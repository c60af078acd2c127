"""Process-level machinery the sync steps share: bounded parallelism, failure isolation, and
the allocator tuning that entry points apply once."""
