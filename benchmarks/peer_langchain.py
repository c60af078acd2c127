"""Contender (c): LangChain's ``ConfluenceLoader`` (documents only, no index). Runs in the bench
venv (``make bench-peers``); ``benchmarks/peers.py`` starts it. Every run is a full load, with
the loader's defaults (storage format as text, a restriction check per page); ``max_pages`` is
raised above its default of 1,000 so that large spaces load whole.

Writes ``{page id: text}`` as JSON to ``--out``: the documents a user would hand on.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings

MAX_PAGES = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wiki", required=True, help="site URL")
    parser.add_argument("--spaces", required=True, help="comma-separated space keys")
    parser.add_argument("--out", required=True, help="where to write {page id: text} as JSON")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from langchain_community.document_loaders import ConfluenceLoader

    documents = {}
    for key in args.spaces.split(","):
        loader = ConfluenceLoader(
            url=f"{args.wiki}/wiki",
            username=os.environ["CONFLUENCE_USERNAME"],
            api_key=os.environ["CONFLUENCE_PASSWORD"],
            space_key=key,
            max_pages=MAX_PAGES,
        )
        for document in loader.load():
            documents[document.metadata["id"]] = document.page_content
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(documents, out)


if __name__ == "__main__":
    main()
