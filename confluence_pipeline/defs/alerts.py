"""A run-failure sensor that posts one JSON message per failed run to a webhook."""

from __future__ import annotations

from typing import Any

import dagster as dg
import httpx

from confluence_pipeline.defs.failures import first_line, step_failure
from confluence_pipeline.defs.tags import (
    DAGSTER_PARTITION_INDEX_TAG,
    DAGSTER_PARTITION_SPACE_TAG,
    INDEX_TAG,
    OWNERS_TAG,
    SPACE_TAG,
)
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime.redaction import mask
from confluence_pipeline.settings import Settings

WEBHOOK_ENV = "CONFLUENCE_PIPELINE_ALERT_WEBHOOK"
_MAX_ERROR_CHARS = 500


class AlertWebhookError(PipelineError):
    """The webhook refused or could not be reached; the message never contains its URL."""


class AlertWebhookResource(dg.ConfigurableResource):
    """Where failure alerts go: ``$CONFLUENCE_PIPELINE_ALERT_WEBHOOK`` (no URL: alerts are
    skipped), with run links on ``$CONFLUENCE_PIPELINE_DAGSTER_URL`` (default
    ``http://localhost:3000``). Neither is a field: run config must not redirect alerts."""

    timeout_seconds: float = 10.0

    def webhook_url(self) -> str | None:
        return Settings.from_env().alert_webhook

    def run_url(self, run_id: str) -> str:
        return f"{Settings.from_env().dagster_url.rstrip('/')}/runs/{run_id}"

    def post(self, message: dict[str, Any]) -> None:
        """Posts ``message`` as JSON; raises :class:`AlertWebhookError` unless answered 2xx."""
        url = self.webhook_url()
        if url is None:
            return
        try:
            response = httpx.post(url, json=message, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise AlertWebhookError(f"alert webhook unreachable ({type(exc).__name__})") from None
        if not response.is_success:
            raise AlertWebhookError(f"alert webhook answered HTTP {response.status_code}")


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret value (by default those of ``settings.SECRET_ENV``) masked."""
    return mask(text, secrets if secrets is not None else Settings.from_env().secret_values())


def run_partition(tags: dict[str, str]) -> tuple[str | None, str | None]:
    """``(index, space)`` of a run: the sensor's and CLI's own tags, else the partition tags
    Dagster adds to any partitioned run (UI launches, backfills); ``None`` when unpartitioned."""
    return (
        tags.get(INDEX_TAG) or tags.get(DAGSTER_PARTITION_INDEX_TAG),
        tags.get(SPACE_TAG) or tags.get(DAGSTER_PARTITION_SPACE_TAG),
    )


def failure_error(context: dg.RunFailureSensorContext) -> str:
    """The first failed step and what went wrong (see :func:`failures.step_failure`), else
    the run's failure message."""
    found = step_failure(context.get_step_failure_events())
    return found or first_line(context.failure_event.message or "run failed")


def failure_message(
    context: dg.RunFailureSensorContext, webhook: AlertWebhookResource
) -> dict[str, Any]:
    """The JSON body posted for a failed run; ``text`` makes it readable in Slack-style hooks."""
    run = context.dagster_run
    index, space = run_partition(dict(run.tags))
    error = redact(failure_error(context))[:_MAX_ERROR_CHARS]  # masked before it is cut
    run_url = webhook.run_url(run.run_id)
    where = f"{index} / {space}" if index and space else run.job_name
    owners = [o for o in run.tags.get(OWNERS_TAG, "").split(",") if o]
    notify = f" (owners: {', '.join(owners)})" if owners else ""
    return {
        "index": index,
        "space": space,
        "owners": owners,
        "run_id": run.run_id,
        "run_url": run_url,
        "job": run.job_name,
        "error": error,
        "text": f"Confluence sync failed: {where}{notify}: {error} ({run_url})",
    }


@dg.run_failure_sensor(
    name="sync_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Posts {index, space, run_url, error} as JSON to $CONFLUENCE_PIPELINE_ALERT_WEBHOOK for "
        "every failed run of this code location; skips when the variable is unset."
    ),
)
def sync_failure_alert(
    context: dg.RunFailureSensorContext, alert_webhook: AlertWebhookResource
) -> dg.SkipReason | None:
    if alert_webhook.webhook_url() is None:
        return dg.SkipReason(f"{WEBHOOK_ENV} is not set")
    message = failure_message(context, alert_webhook)
    alert_webhook.post(message)
    context.log.info(f"posted failure alert for run {message['run_id']}")
    return None
