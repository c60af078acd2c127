"""The deployment's Dagster instance (deploy/dagster.yaml) on the PostgreSQL server at
127.0.0.1:5432, in a database of each test's own: its limits as loaded, and the local deployment
of ``make deploy-local`` (deploy/local.sh: webserver + daemon) running the sensor and a backfill,
and the pipeline's least-privilege role of deploy/postgres-init.sql."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy

from confluence_pipeline.sandbox import confluence, llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.state import StateStore
from confluence_pipeline_tests.conftest import POSTGRES_URL
from confluence_pipeline_tests.dagster_processes import ROOT, Webserver, wait_until
from confluence_pipeline_tests.test_cli import Cli

DEPLOY = ROOT / "deploy"
PAGES_PER_SPACE = 6
RUNS_TIMEOUT_S = 420
SECRET = "deploy-test-secret"
STATE_SCHEMA = "confluence_state"


@dataclass
class Postgres:
    """A database of this test's own on the test server, and the env that points at it."""

    name: str
    env: dict[str, str]
    state_url: str


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    server = sqlalchemy.engine.make_url(POSTGRES_URL)
    name = f"cp_deploy_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    env = {
        "DAGSTER_POSTGRES_HOSTNAME": server.host or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(server.port or 5432),
        "DAGSTER_POSTGRES_USER": server.username or "postgres",
        "DAGSTER_POSTGRES_PASSWORD": server.password or "",
        "DAGSTER_POSTGRES_DB": name,
    }
    state = server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    database = sqlalchemy.create_engine(state, isolation_level="AUTOCOMMIT")
    with database.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{STATE_SCHEMA}"'))
    database.dispose()
    try:
        yield Postgres(name, env, f"{state}?options=-csearch_path%3D{STATE_SCHEMA}")
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _instance(
    home: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> dg.DagsterInstance:
    """The instance of deploy/dagster.yaml, unchanged, in ``home``; credentials from env."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    for key, value in postgres.env.items():
        monkeypatch.setenv(key, value)
    return dg.DagsterInstance.from_config(str(home))


def test_deploy_instance_keeps_everything_in_postgres_with_partition_and_pool_limits(
    tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _instance(tmp_path / "dagster", postgres, monkeypatch) as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        assert [type(s).__name__ for s in storages] == [
            "PostgresRunStorage",
            "PostgresEventLogStorage",
            "PostgresScheduleStorage",
        ]
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        limits = queue.tag_concurrency_limits
        per_partition = {"value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        assert {"key": "dagster/partition", **per_partition} in limits
        assert {"key": "confluence_pipeline/partition", **per_partition} in limits
        pool = instance.event_log_storage.get_concurrency_info("confluence")
        assert (pool.limit, pool.using_default_limit) == (4, True)

        instance.add_dynamic_partitions("index", ["docs"])
        assert instance.get_dynamic_partitions("index") == ["docs"]
    engine = sqlalchemy.create_engine(postgres.state_url.split("?")[0])
    with engine.connect() as connection:
        tables = connection.execute(sqlalchemy.text("SELECT tablename FROM pg_tables")).scalars()
        assert {"runs", "event_logs", "dynamic_partitions"} <= set(tables)
    engine.dispose()


_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
_ASSETS = ["confluence_spaces", "confluence_pages", "markdown_documents", "llamacloud_uploads"]
SENSOR = {"dagster/sensor_name": "sync_due_sensor"}


def _declare_index(cli: Cli, wiki_url: str) -> list[str]:
    """Connects the sandbox site and creates index ``docs`` over all its spaces, with the CLI."""
    spaces = [space["key"] for space in ConfluenceAdmin(wiki_url).spaces()]
    connect = ["connect", "--site", wiki_url, "--email", "demo@example.com"]
    for args in (
        [*connect, "--api-token", "sandbox-token"],
        # a week: no new interval slot (a new run key) begins while the test runs
        ["index", "create", "docs", "--spaces", ",".join(spaces), "--interval", "10080"],
    ):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
    return spaces


def _backfill(web: Webserver, partition: str) -> dict[str, str]:
    """Launches a backfill of the four assets for ``partition`` as the UI does; returns the tag
    its runs carry."""
    params = {"partitionNames": [partition], "assetSelection": [{"path": [a]} for a in _ASSETS]}
    launched = web.graphql(_BACKFILL, params=params)["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return {"dagster/backfill": launched["backfillId"]}


def _finished(
    instance: dg.DagsterInstance, tags: dict[str, str], count: int
) -> list[dg.RunRecord] | None:
    """The runs with ``tags`` once there are ``count`` of them and all have finished."""
    records = list(instance.get_run_records(dg.RunsFilter(tags=tags)))
    done = [r for r in records if r.dagster_run.is_finished]
    return records if len(records) >= count and len(done) == len(records) else None


def test_local_deployment_runs_the_sensor_and_a_backfill_one_run_per_partition(
    tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiki_app = confluence.create_app(spaces=2, pages_per_space=PAGES_PER_SPACE, seed=5)
    with ServerThread(wiki_app) as wiki, ServerThread(llamacloud.create_app()) as cloud:
        home = tmp_path / "dagster"
        cli = Cli(
            tmp_path / "home",
            {
                **postgres.env,
                "DAGSTER_HOME": str(home),
                "SECRET_KEY": SECRET,
                "CONFLUENCE_PIPELINE_DATABASE_URL": postgres.state_url,
                "LLAMA_CLOUD_API_KEY": "sandbox-key",
                "LLAMA_CLOUD_PROJECT_ID": "sandbox-project",
                "LLAMA_CLOUD_BASE_URL": cloud.url,
            },
        )
        # the operator's order: database ready, index declared, deployment started; the
        # sensor's first tick then already sees the index
        instance = _instance(home, postgres, monkeypatch)
        spaces = _declare_index(cli, wiki.url)
        deployment = Webserver(cli.env, tmp_path / "deploy.log", command=[str(DEPLOY / "local.sh")])
        with deployment, instance:
            deployment.wait_ready()
            wait_until(
                lambda: len(instance.get_run_records(dg.RunsFilter(tags=SENSOR))) == 2,
                timeout=RUNS_TIMEOUT_S,
                what="the sensor's two runs",
            )
            # one space backfilled while the sensor's run of it may still be queued or running
            first = f"docs|{spaces[0]}"
            backfill = _backfill(deployment, first)
            sensor_runs = wait_until(
                lambda: _finished(instance, SENSOR, 2), timeout=RUNS_TIMEOUT_S, what="sensor runs"
            )
            [backfill_run] = wait_until(
                lambda: _finished(instance, backfill, 1), timeout=RUNS_TIMEOUT_S, what="backfill"
            )

        runs = [*sensor_runs, backfill_run]
        assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 3
        assert {r.dagster_run.tags["confluence_pipeline/space"] for r in sensor_runs} == set(spaces)
        assert backfill_run.dagster_run.tags["dagster/partition"] == first
        earlier, later = sorted(
            (r for r in runs if r.dagster_run.tags["dagster/partition"] == first),
            key=lambda r: r.start_time or 0,
        )
        assert earlier.end_time is not None and later.start_time is not None
        assert later.start_time >= earlier.end_time  # one run per partition at a time

        documents = LlamaCloudAdmin(cloud.url)
        [pipeline] = documents.pipelines()
        assert len(documents.documents(pipeline["id"])) == 2 * PAGES_PER_SPACE
        store = StateStore.open(postgres.state_url, SECRET)
        try:
            history = store.ledger.history(None, limit=10)
        finally:
            store.close()
        assert [run.status for run in history] == ["success"] * 3
        assert sorted(run.documents_uploaded for run in history) == [0, 6, 6]


@pytest.mark.postgres
def test_postgres_init_gives_the_pipeline_a_least_privilege_role_that_runs_its_state() -> None:
    """deploy/postgres-init.sql, run twice by psql as the server's superuser, in a database of
    this test's own with a role of its own (roles are server-wide: unique names)."""
    server = sqlalchemy.engine.make_url(POSTGRES_URL)
    suffix = uuid.uuid4().hex[:12]
    name, role = f"cp_role_db_{suffix}", f"cp_role_{suffix}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    database = server.set(database=name)
    owner = sqlalchemy.create_engine(database, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as connection:  # stands for Dagster's tables beside the state
            connection.execute(sqlalchemy.text("CREATE TABLE public.runs (id int)"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.pop("CONFLUENCE_PIPELINE_POSTGRES_PASSWORD", None)
        if server.password:
            env["PGPASSWORD"] = server.password
        for _ in range(2):  # idempotent
            done = subprocess.run(
                [
                    *("psql", "-X", "-q", "-h", server.host or "127.0.0.1"),
                    *("-p", str(server.port or 5432), "-U", server.username or "postgres"),
                    *("-d", name, "-v", f"role={role}", "-f", str(DEPLOY / "postgres-init.sql")),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr

        with owner.connect() as connection:
            attributes = connection.execute(
                sqlalchemy.text(
                    "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,"
                    " rolcanlogin FROM pg_roles WHERE rolname = :role"
                ),
                {"role": role},
            ).one()
            assert tuple(attributes) == (False, False, False, False, False, True)
            owned = connection.execute(
                sqlalchemy.text(
                    "SELECT nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
                    " WHERE r.rolname = :role"
                ),
                {"role": role},
            ).scalars()
            assert list(owned) == [STATE_SCHEMA]
            databases = connection.execute(
                sqlalchemy.text(
                    "SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
                    " WHERE r.rolname = :role"
                ),
                {"role": role},
            ).scalar()
            assert databases == 0

        # the pipeline's migrations and state, as that role
        as_role = database.set(username=role, password=None)
        url = as_role.render_as_string(hide_password=False)
        store = StateStore.open(f"{url}?options=-csearch_path%3D{STATE_SCHEMA}", "x" * 32)
        store.close()
        with owner.connect() as connection:
            tables = connection.execute(
                sqlalchemy.text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": STATE_SCHEMA},
            ).scalars()
            assert "alembic_version" in set(tables)

        # and nothing else: not Dagster's tables, not the public schema, no databases or roles
        engine = sqlalchemy.create_engine(as_role, isolation_level="AUTOCOMMIT")
        refused = (
            "SELECT * FROM public.runs",
            "CREATE TABLE public.elsewhere (id int)",
            f'CREATE DATABASE "{name}_more"',
            f'CREATE ROLE "{role}_more"',
        )
        for statement in refused:
            with engine.connect() as connection, pytest.raises(sqlalchemy.exc.DBAPIError) as error:
                connection.execute(sqlalchemy.text(statement))
            assert getattr(error.value.orig, "sqlstate", None) == "42501", statement  # no right
        engine.dispose()
    finally:
        owner.dispose()
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sqlalchemy.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
