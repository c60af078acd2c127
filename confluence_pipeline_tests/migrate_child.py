"""``python -m confluence_pipeline_tests.migrate_child STATE_URL WIKI_URL CLOUD_URL TARGET``:
migrates the ``docs`` index to TARGET; used by the test that kills a migration halfway."""

from __future__ import annotations

import sys

from confluence_pipeline.state import StateStore
from confluence_pipeline.sync.migrate import migrate_index
from confluence_pipeline_tests.resilience import SECRET, fast_client, fast_sink


def main(argv: list[str]) -> int:
    state_url, wiki_url, cloud_url, target = argv
    store = StateStore.open(state_url, SECRET)
    try:
        index = store.registry.get_index("docs")
        with (
            fast_client(wiki_url) as client,
            fast_sink(cloud_url, target=index.target) as source,
            fast_sink(cloud_url, target=target) as dest,
        ):
            migrate_index(store, client, source, dest, index)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
