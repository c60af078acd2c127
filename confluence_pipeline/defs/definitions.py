"""Assets, job, sensor and resources of the Confluence -> LlamaCloud sync."""

import dagster as dg

from confluence_pipeline.defs.alerts import AlertWebhookResource, sync_failure_alert
from confluence_pipeline.defs.assets import sync_assets, sync_job
from confluence_pipeline.defs.checks import index_matches_space, reconcile_job
from confluence_pipeline.defs.resources import ConfluenceResource, LlamaCloudResource, StateResource
from confluence_pipeline.defs.sensors import confluence_changes_sensor, sync_due_sensor

defs = dg.Definitions(
    assets=sync_assets,
    asset_checks=[index_matches_space],
    jobs=[sync_job, reconcile_job],
    sensors=[sync_due_sensor, confluence_changes_sensor, sync_failure_alert],
    resources={
        "state": StateResource(),
        "confluence": ConfluenceResource(),
        "llamacloud": LlamaCloudResource(),
        "alert_webhook": AlertWebhookResource(),
    },
)
