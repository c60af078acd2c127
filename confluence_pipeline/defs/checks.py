"""``index_matches_space``: every index reconciled against its Confluence spaces.

It lists every space and every document of every index, so it runs on demand (Execute on the
check in the UI, or the ``confluence_reconcile`` job), not in each sync run; one result
covers all (index, space) pairs, with a table of them in its metadata.
"""

import dagster as dg
import pandas as pd

from confluence_pipeline.defs.assets import RECONCILE
from confluence_pipeline.defs.resources import ConfluenceResource, LlamaCloudResource, StateResource
from confluence_pipeline.sync import reconcile
from confluence_pipeline.sync.errors import SyncError


@dg.asset_check(
    asset="llamacloud_uploads",
    name=RECONCILE,
    description=(
        "Every current page of each indexed space has exactly one document in its index, at "
        "the page's version, and no index holds a document of a space whose page is gone "
        "(counts and ids reconciled against LlamaCloud, not against the state database)."
    ),
)
def index_matches_space(
    context: dg.AssetCheckExecutionContext,
    state: StateResource,
    confluence: ConfluenceResource,
    llamacloud: LlamaCloudResource,
) -> dg.AssetCheckResult:
    rows = []
    with state.open() as store:
        for index in store.registry.list_indexes():
            if not index.enabled or index.target_id() is None:
                continue  # never synced: nothing to compare yet
            try:
                with (
                    confluence.client_for(store, index) as client,
                    llamacloud.sink(index.target) as sink,
                ):
                    found = reconcile.reconcile_index(store, client, sink, index)
            except SyncError as exc:
                raise dg.Failure(str(exc)) from None
            for space_key, result in found.items():
                context.log.info(f"{index.name}|{space_key}: {result.summary()}")
                rows.append((f"{index.name}|{space_key}", result))
    bad = [(key, result) for key, result in rows if not result.matches]
    table = pd.DataFrame(
        [
            {
                "partition": key,
                "pages": r.pages,
                "documents": r.documents,
                "missing": len(r.missing),
                "unexpected": len(r.unexpected),
                "stale": len(r.stale),
            }
            for key, r in rows
        ]
    )
    return dg.AssetCheckResult(
        passed=not bad,
        description="; ".join(f"{key}: {r.summary()}" for key, r in bad[:3]) or None,
        metadata={
            "partitions": len(rows),
            "partitions_not_matching": len(bad),
            "missing": sum(len(r.missing) for _, r in rows),
            "unexpected": sum(len(r.unexpected) for _, r in rows),
            "stale": sum(len(r.stale) for _, r in rows),
            "by_partition": dg.MetadataValue.md(
                table.to_markdown(index=False) if rows else "_no synced index_"
            ),
        },
    )


reconcile_job = dg.define_asset_job(
    "confluence_reconcile",
    selection=dg.AssetSelection.checks(index_matches_space),
    description="Reconcile every index against its spaces (lists pages and documents).",
)
