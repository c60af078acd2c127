"""``python -m confluence_pipeline_tests.sync_child STATE_URL WIKI_URL CLOUD_URL SPACE[,SPACE]``:
syncs those spaces of the ``docs`` index and exits 0, or 1 listing the spaces that failed.
Used by tests that kill a sync mid-run or run two at once."""

from __future__ import annotations

import sys

from confluence_pipeline.state import StateStore
from confluence_pipeline.sync.run import sync_spaces
from confluence_pipeline_tests.resilience import SECRET, fast_client, fast_sink


def main(argv: list[str]) -> int:
    state_url, wiki_url, cloud_url, spaces = argv
    store = StateStore.open(state_url, SECRET)
    try:
        index = store.registry.get_index("docs")
        with fast_client(wiki_url) as client, fast_sink(cloud_url, target=index.target) as sink:
            results = sync_spaces(store, client, sink, index, spaces.split(","))
    finally:
        store.close()
    failed = {key: result for key, result in results.items() if isinstance(result, Exception)}
    for key, error in failed.items():
        print(f"{key}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
