"""Run config cannot point credentials at another host: endpoints and secrets are not resource
fields, so Dagster refuses such a config before a step (or a request) starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from confluence_pipeline.definitions import defs
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.world import World


@contextlib.contextmanager
def listener() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An attacker's server: records the headers of every request it gets."""
    seen: list[dict[str, str]] = []

    async def record(request: Request) -> JSONResponse:
        seen.append(dict(request.headers))
        return JSONResponse({})

    app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST", "PUT"])])
    with ServerThread(app) as server:
        yield server.url, seen


pytestmark = pytest.mark.sandbox(spaces=1, pages_per_space=3)


def _redirects(evil: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("llamacloud", {"base_url": evil, "api_key": {"env": "LLAMA_CLOUD_API_KEY"}}),
        ("llamacloud", {"project_id": "attacker-project"}),
        ("confluence", {"atlassian_api_url": evil}),
        ("confluence", {"atlassian_auth_url": evil, "client_secret": "x"}),
        ("state", {"database_url": f"sqlite:///{evil}"}),
        ("state", {"secret_key": "0" * 32}),
    ]


def test_run_config_that_redirects_credentials_is_refused_before_any_request(
    world: World,
) -> None:
    job = defs.resolve_job_def("confluence_sync")
    with listener() as (evil, seen), dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        for resource, config in _redirects(evil):
            with pytest.raises(dg.DagsterInvalidConfigError, match="unexpected config entr"):
                job.execute_in_process(
                    run_config={"resources": {resource: {"config": config}}},
                    partition_key=f"docs|{world.space_keys[0]}",
                    instance=instance,
                )
        assert seen == []
        assert instance.get_runs() == []


def test_alert_webhook_url_is_not_run_config(world: World) -> None:
    job = defs.resolve_job_def("confluence_sync")
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        with pytest.raises(dg.DagsterInvalidConfigError):
            job.execute_in_process(
                run_config={"resources": {"alert_webhook": {"config": {"url": "http://x"}}}},
                partition_key=f"docs|{world.space_keys[0]}",
                instance=instance,
            )


def test_the_same_job_syncs_from_the_environment(world: World) -> None:
    job = defs.resolve_job_def("confluence_sync")
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        result = job.execute_in_process(
            partition_key=f"docs|{world.space_keys[0]}", instance=instance
        )
    assert result.success
    assert len(world.documents()) == 3
