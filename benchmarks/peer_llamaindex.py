"""Contender (b): LlamaIndex's ``ConfluenceReader`` feeding a ``LlamaCloudIndex``, wired the
way their documentation shows. Runs in the bench venv (``make bench-peers``), which holds the
peers and not this project; ``benchmarks/peers.py`` starts it.

``full`` loads every page of the spaces and builds the index with ``from_documents``; ``resync``
loads them all again and calls ``refresh_ref_docs`` (the index's own re-sync: an upsert of
every document; neither the reader nor the index notices deleted pages).

Configuration is the peers' own: ``CONFLUENCE_USERNAME``/``CONFLUENCE_PASSWORD`` for the reader,
``LLAMA_CLOUD_API_KEY``/``LLAMA_CLOUD_BASE_URL`` for the index.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

# ``load_data(space_key=...)`` without ``max_num_results`` fails with atlassian-python-api 4.x
# (``len(results) <= None``); any bound above the space size loads the whole space.
MAX_NUM_RESULTS = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wiki", required=True, help="site URL, without /wiki")
    parser.add_argument("--spaces", required=True, help="comma-separated space keys")
    parser.add_argument("--index", required=True, help="LlamaCloud index (pipeline) name")
    parser.add_argument("--phase", choices=("full", "resync"), required=True)
    args = parser.parse_args()

    from llama_index.indices.managed.llama_cloud import LlamaCloudIndex
    from llama_index.readers.confluence import ConfluenceReader

    reader = ConfluenceReader(base_url=f"{args.wiki}/wiki")
    documents = []
    for key in args.spaces.split(","):
        documents += reader.load_data(space_key=key, max_num_results=MAX_NUM_RESULTS)
    # the index prints one progress line per document; keep the benchmark's output readable
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        if args.phase == "full":
            LlamaCloudIndex.from_documents(documents, name=args.index)
        else:
            LlamaCloudIndex(name=args.index).refresh_ref_docs(documents)
    print(f"{len(documents)} documents", file=sys.stderr)


if __name__ == "__main__":
    main()
