"""``index migrate``: move an index to its other LlamaCloud target (``pipeline`` <-> ``index``).

The new target is filled completely from the state database (the pages recorded as synced,
at their recorded versions) and the old target's texts where it can give them back (a v1
pipeline does); bodies are fetched from Confluence again only for pages it cannot. The copy
is checked (exactly one document per page on the new target) before the index switches, and
only then is the old target deleted (kept with ``keep_old``). Attachment files are not
moved: they go (or stay) with the old target, and the next ``sync --full`` uploads them anew.
While it runs the index carries ``migrating_to`` and a heartbeat, so the sensor and ``sync``
wait; a killed migration resumes when run again (what the new target already holds at the
recorded version is not sent twice), and a failed one leaves the index on its old target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.llamacloud import Document, IndexSink, Sink
from confluence_pipeline.runtime.parallel import batched
from confluence_pipeline.state import Index, StateStore, Target
from confluence_pipeline.state.models import StagedPage, utcnow
from confluence_pipeline.sync.convert import conversion_jobs
from confluence_pipeline.sync.converter import convert
from confluence_pipeline.sync.plan import Breadcrumbs, staged_body
from confluence_pipeline.sync.results import Log
from confluence_pipeline.sync.upload import ensure_pipeline
from confluence_pipeline.sync.upload_batches import document_metadata

BATCH = 100
_ID_FIELD = {Target.PIPELINE: "pipeline_id", Target.INDEX: "v2_index_id"}


class MigrationError(PipelineError):
    """A migration was refused or did not check out; the index stays on its old target."""


@dataclass
class MigrationResult:
    source: str
    target: str
    pages: int = 0
    reused: int = 0
    copied_from_source: int = 0
    fetched: int = 0
    removed: int = 0
    gone: int = 0
    old_deleted: bool = False


def migrate_index(
    store: StateStore,
    client: ConfluenceClient,
    source: Sink,
    dest: Sink,
    index: Index,
    *,
    keep_old: bool = False,
    log: Log = lambda _msg: None,
) -> MigrationResult:
    """Moves ``index`` from ``source`` (its current target's sink) to ``dest``."""
    to = Target(dest.target)
    if source.target != index.target:
        raise MigrationError(f"internal: source sink is {source.target}, index is {index.target}")
    if index.target == to:
        raise MigrationError(f"index {index.name!r} is already on the {to} target")
    if index.migrating() and index.migrating_to != to:
        raise MigrationError(f"index {index.name!r} is being migrated to {index.migrating_to}")
    dest.check_available()
    result = MigrationResult(index.target, to)
    _beat(store, index, to)
    try:
        _fill(store, client, source, dest, index, result, log)
    except Exception:
        store.registry.update_index(index.name, migrating_to=None, migration_heartbeat=None)
        raise
    old_id = index.target_id()
    store.registry.update_index(index.name, target=to, migrating_to=None, migration_heartbeat=None)
    attachment_files = store.attachments.stored_ids(index.id)
    if attachment_files:
        log(f"{index.name}: attachments are not moved; `sync {index.name} --full` uploads them")
    if old_id is not None and not keep_old:
        for stored_id in attachment_files:
            source.delete_file(old_id, stored_id)
        source.delete_target(old_id)
        store.registry.update_index(index.name, **{_ID_FIELD[Target(source.target)]: None})
        result.old_deleted = True
    store.attachments.forget_index(index.id)  # after the deletions: a failed one is retried
    log(f"{index.name}: now on the {to} target")
    return result


def _beat(store: StateStore, index: Index, to: Target) -> None:
    store.registry.update_index(index.name, migrating_to=to, migration_heartbeat=utcnow())


def _fill(
    store: StateStore,
    client: ConfluenceClient,
    source: Sink,
    dest: Sink,
    index: Index,
    result: MigrationResult,
    log: Log,
) -> None:
    to = Target(dest.target)
    dest_id = ensure_pipeline(store, dest, index)
    expected = store.ledger.synced_pages(index.id)
    result.pages = len(expected)
    by_doc = {doc_id: page_id for page_id, (_, _, doc_id) in expected.items()}
    present = _stored(dest, dest_id)
    # what the new target holds that it should not: other documents, extra copies, old versions
    keep: dict[str, str] = {}
    for doc_id, copies in present.items():
        page_id = by_doc.get(doc_id)
        good = [
            stored_id
            for stored_id, version in copies
            if page_id is not None and version == expected[page_id][1]
        ]
        if good:
            keep[doc_id] = good[0]
        extra = [stored_id for stored_id, _ in copies if stored_id != keep.get(doc_id)]
        if to == Target.INDEX:
            for stored_id in extra:
                dest.delete(dest_id, [doc_id], stored_ids={doc_id: stored_id})
            result.removed += len(extra)
        elif page_id is None:  # an old version in a pipeline is simply overwritten
            dest.delete(dest_id, [doc_id])
            result.removed += 1
    result.reused = len(keep)
    todo = [page_id for page_id, (_, _, doc_id) in expected.items() if doc_id not in keep]
    source_id = index.target_id()
    texts = source.list_texts(source_id) if source_id and todo else {}
    gone: set[str] = set()
    for batch in batched(todo, BATCH):
        documents = []
        refetch = []
        for page_id in batch:
            _, version, doc_id = expected[page_id]
            known = texts.get(doc_id)
            if known is not None and known.metadata.get("version") == version:
                documents.append(known)
            else:
                refetch.append(page_id)
        fetched = dict(_fetch(store, client, index, refetch, expected))
        gone |= set(refetch) - set(fetched)
        documents += fetched.values()
        stored = dest.upsert(dest_id, documents) if documents else {}
        keep.update(stored)
        result.copied_from_source += len(documents) - len(fetched)
        result.fetched += len(fetched)
        _beat(store, index, to)
        log(f"{index.name}: {len(keep)}/{len(expected)} pages on the {to} target")
    result.gone = len(gone)
    if result.copied_from_source or result.fetched or result.removed:
        dest.commit(dest_id)
    _check(dest, dest_id, expected, gone)
    files = {
        page_id: keep.get(doc_id) if to == Target.INDEX else None
        for page_id, (_, _, doc_id) in expected.items()
    }
    store.ledger.set_file_ids(index.id, files)


def _stored(dest: Sink, dest_id: str) -> dict[str, list[tuple[str, object]]]:
    """``{document id: [(stored id, version)]}`` of what the target holds."""
    held: dict[str, list[tuple[str, object]]] = {}
    if isinstance(dest, IndexSink):
        for unique_id, file_id, metadata in dest.list_files(dest_id):
            held.setdefault(unique_id, []).append((file_id, metadata.get("version")))
        return held
    for doc_id, metadata in dest.list_documents(dest_id).items():
        held[doc_id] = [(doc_id, metadata.get("version"))]
    return held


def _check(
    dest: Sink, dest_id: str, expected: dict[str, tuple[str, int, str]], gone: set[str]
) -> None:
    """Exactly one stored copy per page still in Confluence, nothing else; else the
    migration fails (and the index stays where it was)."""
    want = {doc_id for page_id, (_, _, doc_id) in expected.items() if page_id not in gone}
    copies = Counter(doc_id for doc_id, held in _stored(dest, dest_id).items() for _ in held)
    twice = sorted(doc_id for doc_id, n in copies.items() if n > 1)
    missing, extra = sorted(want - set(copies)), sorted(set(copies) - want)
    if twice or missing or extra:
        raise MigrationError(
            f"the new target does not match the index: {len(missing)} missing, {len(extra)} "
            f"unexpected, {len(twice)} twice (of {len(want)} pages); the index stays on its "
            "old target"
        )


def _fetch(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    page_ids: Sequence[str],
    expected: dict[str, tuple[str, int, str]],
) -> Iterator[tuple[str, Document]]:
    """Pages fetched from Confluence again and converted, as the sync would send them
    (pages no longer there are left out)."""
    if not page_ids:
        return
    spaces = client.get_spaces(sorted({expected[p][0] for p in page_ids}))
    listings = {
        key: {page.id: page for page in client.iter_pages(space.id)}
        for key, space in spaces.items()
    }
    found = [
        (page, spaces[expected[page.summary.id][0]])
        for page in client.get_pages(list(page_ids))
        if expected[page.summary.id][0] in spaces
    ]
    rows = [
        StagedPage(id=n, storage=staged.storage, page_metadata=staged.page_metadata)
        for n, staged in enumerate(
            staged_body(page, space, Breadcrumbs(listings[space.key], space))
            for page, space in found
        )
    ]
    for (page, _), job in zip(found, conversion_jobs(store, rows, set()), strict=True):
        converted = convert(job)
        if converted.markdown is None:
            raise MigrationError(f"page {page.summary.id}: {converted.error}")
        doc_id = expected[page.summary.id][2]
        yield page.summary.id, Document(doc_id, converted.markdown, document_metadata(job.metadata))
