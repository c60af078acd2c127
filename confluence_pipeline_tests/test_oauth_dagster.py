"""The Dagster layer with OAuth connections: the resource builds gateway clients from the
index's connection, refreshes inside runs, fails runs that need re-consent, and no secret
reaches the event log, the Python logs or exception text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.llamacloud import pipeline_name
from confluence_pipeline.sandbox import llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin
from confluence_pipeline.sandbox.confluence import API_TOKEN, API_TOKEN_EMAIL, CLIENT_SECRET
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.state import Connection, StateStore
from confluence_pipeline_tests.oauth_world import (
    OAuthSandbox,
    consent_code,
    store_oauth_connection,
)

KEY = "test-secret-key-of-32-characters"


pytestmark = pytest.mark.sandbox(spaces=2, pages_per_space=8)


@pytest.fixture
def cloud() -> Iterator[str]:
    with ServerThread(llamacloud.create_app()) as server:
        yield server.url


def _expire_everywhere(store: StateStore, oauth_sandbox: OAuthSandbox) -> None:
    oauth_sandbox.expire_access_tokens()
    table = Connection.__table__
    past = datetime.now(UTC) - timedelta(minutes=1)
    with store.engine.begin() as conn:
        conn.execute(sa.update(table).values(access_expires_at=past))


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(
        event.step_failure_data.error.to_string()
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error
    )


@pytest.mark.slow
def test_runs_use_oauth_connections_and_leak_no_secret(
    tmp_path: Path,
    oauth_sandbox: OAuthSandbox,
    cloud: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    code = consent_code(oauth_sandbox)  # the browser's part; what follows is the product's
    caplog.set_level(logging.DEBUG)
    for name, value in oauth_sandbox.env().items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    environment = {
        "CONFLUENCE_PIPELINE_DATABASE_URL": url,
        "SECRET_KEY": KEY,
        "LLAMA_CLOUD_API_KEY": "sandbox-key",
        "LLAMA_CLOUD_PROJECT_ID": "sandbox-project",
        "LLAMA_CLOUD_BASE_URL": cloud,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    store = StateStore.open(url, KEY)
    first, second = [space["key"] for space in ConfluenceAdmin(oauth_sandbox.url).spaces()]
    store_oauth_connection(store, oauth_sandbox, "oauth", code)
    store.registry.add_connection(
        name="token",
        site_url=oauth_sandbox.url,
        cloud_id=None,
        auth_kind="api_token",
        email=API_TOKEN_EMAIL,
        secret=API_TOKEN,
    )
    for index, connection, space in (("viaoauth", "oauth", first), ("viatoken", "token", second)):
        store.registry.create_index(
            name=index, spaces=[space], pipeline_name=pipeline_name(index), connection=connection
        )
    resources: dict[str, Any] = {
        "state": StateResource(),
        "confluence": ConfluenceResource(),
        "llamacloud": LlamaCloudResource(),
    }
    failures: list[str] = []
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["viaoauth", "viatoken"], [first, second])

        def materialize(key: str) -> dg.ExecuteInProcessResult:
            result = dg.materialize(
                sync_assets,
                partition_key=key,
                resources=resources,
                instance=instance,
                raise_on_error=False,
            )
            failures.append(_failure_text(result))
            return result

        _expire_everywhere(store, oauth_sandbox)
        assert materialize(f"viaoauth|{first}").success, failures[-1]
        assert oauth_sandbox.refreshes() == 1  # one refresh served all four assets of the run
        assert materialize(f"viatoken|{second}").success, failures[-1]

        oauth_sandbox.revoke_refresh_tokens()
        _expire_everywhere(store, oauth_sandbox)
        refused = materialize(f"viaoauth|{first}")
        assert not refused.success
        assert "connection 'oauth' needs re-consent" in failures[-1]

        event_log = [
            dg.serialize_value(entry)
            for run in instance.get_runs()
            for entry in instance.all_logs(run.run_id)
        ]
        runs = [dg.serialize_value(run) for run in instance.get_runs()]
    store.close()

    assert len(event_log) > 50
    haystack = "\n".join([*event_log, *runs, *failures, caplog.text])
    assert "refreshed OAuth tokens of connection oauth" in caplog.text
    secrets = [*oauth_sandbox.issued_secrets(), CLIENT_SECRET, API_TOKEN]
    leaked = [secret for secret in secrets if secret in haystack]
    assert not leaked, f"{len(leaked)} secrets leaked"
