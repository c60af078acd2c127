"""The run-failure sensor posts {index, space, run link, error} to a local webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from confluence_pipeline.defs.alerts import (
    AlertWebhookError,
    AlertWebhookResource,
    redact,
    sync_failure_alert,
)
from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.defs.tags import run_tags
from confluence_pipeline_tests.webhook import Receiver, webhook_receiver
from confluence_pipeline_tests.world import API_KEY, SECRET, World

UI = "https://dagster.example.com/"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def failed_run(world: World) -> Iterator[tuple[dg.DagsterInstance, dg.ExecuteInProcessResult]]:
    """A real failed run: the pair docs|OTHER is not configured, launched with the sensor's
    tags, as an operator's UI launch of a wrong cell in the partition grid would be."""
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], [*world.space_keys, "OTHER"])
        result = dg.materialize(
            sync_assets,
            partition_key="docs|OTHER",
            instance=instance,
            tags=run_tags("docs", "OTHER"),
            raise_on_error=False,
            resources={
                "state": StateResource(),
                "confluence": ConfluenceResource(),
                "llamacloud": LlamaCloudResource(),
            },
        )
        assert not result.success
        yield instance, result


def _evaluate(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, webhook: AlertWebhookResource
) -> object:
    context = dg.build_run_status_sensor_context(
        sensor_name=sync_failure_alert.name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"alert_webhook": webhook},
    ).for_run_failure()
    return sync_failure_alert(context)


def test_failed_run_posts_index_space_link_and_error(
    failed_run: tuple[dg.DagsterInstance, dg.ExecuteInProcessResult],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", receiver.url)
    monkeypatch.setenv("CONFLUENCE_PIPELINE_DAGSTER_URL", UI)
    instance, result = failed_run

    outcome = _evaluate(instance, result, AlertWebhookResource())

    assert outcome is None
    [body] = receiver.bodies
    assert body["index"] == "docs" and body["space"] == "OTHER"
    assert body["run_url"] == f"https://dagster.example.com/runs/{result.run_id}"
    assert body["error"].startswith(
        "confluence_spaces: space 'OTHER' is not configured for index 'docs'"
    )
    assert body["run_url"] in body["text"]
    assert API_KEY not in str(body) and SECRET not in str(body)


def test_without_a_webhook_the_sensor_skips_and_posts_nothing(
    failed_run: tuple[dg.DagsterInstance, dg.ExecuteInProcessResult],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", raising=False)
    instance, result = failed_run

    outcome = _evaluate(instance, result, AlertWebhookResource())

    assert isinstance(outcome, dg.SkipReason)
    assert "CONFLUENCE_PIPELINE_ALERT_WEBHOOK" in (outcome.skip_message or "")
    assert receiver.bodies == []


def test_webhook_url_from_the_environment_and_run_tags_from_a_ui_launch(
    failed_run: tuple[dg.DagsterInstance, dg.ExecuteInProcessResult],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", receiver.url)
    monkeypatch.setenv("CONFLUENCE_PIPELINE_DAGSTER_URL", "http://dagster.internal:3000")
    instance, result = failed_run
    # a UI launch or backfill carries only Dagster's own partition tags
    run = result.dagster_run
    ui_tags = {k: v for k, v in run.tags.items() if not k.startswith("confluence_pipeline/")}
    ui_run = run.with_tags(ui_tags)

    context = dg.build_run_status_sensor_context(
        sensor_name=sync_failure_alert.name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=ui_run,
        resources={"alert_webhook": AlertWebhookResource()},
    ).for_run_failure()
    sync_failure_alert(context)

    [body] = receiver.bodies
    assert (body["index"], body["space"]) == ("docs", "OTHER")
    assert body["run_url"] == f"http://dagster.internal:3000/runs/{run.run_id}"


def test_a_refusing_webhook_fails_the_tick_without_revealing_its_url(
    failed_run: tuple[dg.DagsterInstance, dg.ExecuteInProcessResult],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", receiver.url)
    receiver.status_code = 500
    instance, result = failed_run

    with pytest.raises(AlertWebhookError) as raised:
        _evaluate(instance, result, AlertWebhookResource())

    assert "HTTP 500" in str(raised.value)
    assert "not-a-real-token" not in str(raised.value)


def test_an_unexpected_exception_is_named_by_class_with_secrets_masked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "llx-very-secret")
    monkeypatch.setenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", receiver.url)

    @dg.op
    def explode() -> None:
        raise ValueError("LlamaCloud refused key llx-very-secret")

    job = dg.GraphDefinition(name="exploding", node_defs=[explode]).to_job()
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        _evaluate(instance, result, AlertWebhookResource())

    [body] = receiver.bodies
    assert body["error"] == "explode: ValueError: LlamaCloud refused key ***"
    assert (body["index"], body["space"], body["job"]) == (None, None, "exploding")


def test_secret_values_are_masked_in_error_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "llx-very-secret")
    monkeypatch.setenv("SECRET_KEY", "s3cr3t-key")

    masked = redact("auth llx-very-secret rejected; key s3cr3t-key; short ab")

    assert masked == "auth *** rejected; key ***; short ab"


def test_the_alert_names_the_index_owners(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFLUENCE_PIPELINE_ALERT_WEBHOOK", receiver.url)
    world.store.registry.update_index("docs", owners=["ana@example.com", "bo@example.com"])
    index = world.store.registry.get_index("docs")
    tags = run_tags("docs", "OTHER", index.owners)
    assert tags["confluence_pipeline/owners"] == "ana@example.com,bo@example.com"
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], ["OTHER"])
        result = dg.materialize(
            sync_assets,
            partition_key="docs|OTHER",
            instance=instance,
            tags=tags,
            raise_on_error=False,
            resources={
                "state": StateResource(),
                "confluence": ConfluenceResource(),
                "llamacloud": LlamaCloudResource(),
            },
        )
        _evaluate(instance, result, AlertWebhookResource())

    [body] = receiver.bodies
    assert body["owners"] == ["ana@example.com", "bo@example.com"]
    assert "(owners: ana@example.com, bo@example.com)" in body["text"]
