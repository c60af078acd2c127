"""The conversion step (asset ``markdown_documents``): staged storage bodies become citable
Markdown documents (see :mod:`confluence_pipeline.sync.converter`)."""

from __future__ import annotations

from confluence_pipeline.state import Action, ConvertedPage, Index, Stage, StateStore
from confluence_pipeline.sync.converter import ConversionJob, Converter
from confluence_pipeline.sync.results import ConvertResult, Log

CONVERT_BATCH = 400
"""Staged rows read, converted and saved at a time."""


def convert_pages(
    store: StateStore, index: Index, space_key: str, *, log: Log = lambda _msg: None
) -> ConvertResult:
    """Converts every fetched page of the space to a Markdown document."""
    ledger = store.ledger
    expected = ledger.count_staged(index.id, space_key).get((Action.UPSERT, Stage.FETCHED), 0)
    result = ConvertResult()
    fetched = ledger.iter_staged(
        index.id, space_key, action=Action.UPSERT, stage=Stage.FETCHED, batch_size=CONVERT_BATCH
    )
    with Converter(expected) as converter:
        for batch in fetched:
            jobs = [ConversionJob(row.id, row.storage or "", row.page_metadata) for row in batch]
            updates = [
                ConvertedPage(done.key, done.markdown, done.content_hash, done.error)
                for done in converter.map(jobs)
            ]
            ledger.save_converted(updates)
            for update in updates:
                if update.error is None:
                    result.converted += 1
                else:
                    result.failed += 1
                    result.errors.append(update.error)
            log(f"{space_key}: converted {result.converted + result.failed}/{expected} pages")
    return result
