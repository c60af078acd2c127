"""A sync of one (index, space) in four steps, each one asset: resolve the space
(:mod:`.spaces`), plan the pages (:mod:`.plan`: list without bodies, diff versions, fetch
changed bodies), convert them to Markdown (:mod:`.convert`), upload them and delete what is
gone (:mod:`.upload`). Work between steps travels through the state database, and a page's
version is recorded only once LlamaCloud accepted its document, so a crash at any point means
the next run redoes exactly the unfinished part. This module runs the steps without Dagster
(the CLI's tests, benchmarks, scripts)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.llamacloud.models import Sink
from confluence_pipeline.runtime.isolation import CircuitOpen
from confluence_pipeline.state import Index, RunStatus, StateStore
from confluence_pipeline.sync.convert import convert_pages
from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline.sync.plan import MAX_BODY_BYTES, plan_pages
from confluence_pipeline.sync.results import Log, SpaceSyncResult
from confluence_pipeline.sync.spaces import resolve_space
from confluence_pipeline.sync.upload import ensure_pipeline, upload_documents

PARALLEL_SPACES = 8
"""Spaces synced at once by ``sync_spaces``; the client caps requests in flight anyway."""


@contextlib.contextmanager
def recording_failure(store: StateStore, run_id: int) -> Iterator[None]:
    """Marks the sync run failed, with the error's message, if the block raises. A service
    that kept failing (:class:`CircuitOpen`) surfaces as a :class:`SyncError`."""
    try:
        yield
    except CircuitOpen as exc:
        message = f"{exc}; what was not done is retried by the next run"
        store.ledger.finish_run(run_id, status=RunStatus.FAILED, error=message[:2000])
        raise SyncError(message) from None
    except BaseException as exc:
        error = str(exc)[:2000] or repr(exc)
        store.ledger.finish_run(run_id, status=RunStatus.FAILED, error=error)
        raise


def sync_space(
    store: StateStore,
    client: ConfluenceClient,
    sink: Sink,
    index: Index,
    space_key: str,
    *,
    full: bool = False,
    allow_mass_delete: bool = False,
    dagster_run_id: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    log: Log = lambda _msg: None,
) -> SpaceSyncResult:
    """All four steps in one call."""
    run_id = store.ledger.start_run(index.id, space_key, dagster_run_id=dagster_run_id, full=full)
    with recording_failure(store, run_id):
        space = resolve_space(store, client, index, space_key)
        plan = plan_pages(
            store,
            client,
            index,
            space,
            run_id=run_id,
            full=full,
            max_body_bytes=max_body_bytes,
            log=log,
        )
        conversion = convert_pages(store, index, space_key, log=log)
        upload = upload_documents(
            store,
            sink,
            index,
            space_key,
            run_id=run_id,
            allow_mass_delete=allow_mass_delete or full,
            confluence=client,
            log=log,
        )
    return SpaceSyncResult(space, plan, conversion, upload)


def sync_spaces(
    store: StateStore,
    client: ConfluenceClient,
    sink: Sink,
    index: Index,
    space_keys: Sequence[str],
    *,
    parallel: int = PARALLEL_SPACES,
    full: bool = False,
    allow_mass_delete: bool = False,
    log: Log = lambda _msg: None,
) -> dict[str, SpaceSyncResult | Exception]:
    """Syncs several spaces of an index, ``parallel`` at a time (the client caps the requests
    in flight to the site; conversions share one process pool). A space that fails does not
    stop the others: its exception is returned in its place."""
    if index.target_id(sink.target) is None:
        ensure_pipeline(store, sink, index)
        index = store.registry.get_index(index.name)

    def one(space_key: str) -> SpaceSyncResult | Exception:
        try:
            return sync_space(
                store,
                client,
                sink,
                index,
                space_key,
                full=full,
                allow_mass_delete=allow_mass_delete,
                log=log,
            )
        except Exception as exc:  # reported per space; the others go on
            return exc

    with ThreadPoolExecutor(max(1, parallel), thread_name_prefix="space") as pool:
        return dict(zip(space_keys, pool.map(one, space_keys), strict=True))
