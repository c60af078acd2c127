"""The conversion step (asset ``markdown_documents``): staged storage bodies become citable
Markdown documents (see :mod:`confluence_pipeline.sync.converter`)."""

from __future__ import annotations

from confluence_pipeline.settings import Settings
from confluence_pipeline.state import Action, ConvertedPage, Index, Stage, StateStore
from confluence_pipeline.state.models import StagedPage
from confluence_pipeline.sync import people
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
    unnamed: set[str] = set()
    with Converter(expected) as converter:
        for batch in fetched:
            jobs = conversion_jobs(store, batch, unnamed)
            updates = [
                ConvertedPage(done.key, job.metadata, done.markdown, done.content_hash, done.error)
                for job, done in zip(jobs, converter.map(jobs), strict=True)
            ]
            ledger.save_converted(updates)
            for update in updates:
                if update.error is None:
                    result.converted += 1
                else:
                    result.failed += 1
                    result.errors.append(update.error)
            log(f"{space_key}: converted {result.converted + result.failed}/{expected} pages")
    result.names_missing = len(unnamed)
    return result


def conversion_jobs(
    store: StateStore, rows: list[StagedPage], unnamed: set[str]
) -> list[ConversionJob]:
    """The rows as conversion jobs, their people named where the cache knows them (one query;
    the ids it does not know go to ``unnamed``); ``author`` and ``editor`` join the metadata,
    and Jira macros link to ``CONFLUENCE_PIPELINE_JIRA_URL`` when it is set."""
    jira_url = Settings.from_env().jira_url
    ids = {row.id: people.account_ids(row.page_metadata) for row in rows}
    names = people.known_names(store, (i for page_ids in ids.values() for i in page_ids))
    jobs = []
    for row in rows:
        unnamed.update(i for i in ids[row.id] if i not in names)
        metadata, page_names = people.named(row.page_metadata, names)
        jobs.append(ConversionJob(row.id, row.storage or "", metadata, page_names, jira_url))
    return jobs
