"""The state database on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import threading

import pytest

from confluence_pipeline.state import (
    AcceptedPage,
    Action,
    PageFailure,
    RegistryError,
    SecretKeyMismatch,
    Stage,
    StagedWork,
    StateStore,
)


def _connection(store: StateStore, name: str = "acme") -> int:
    return store.registry.add_connection(
        name=name,
        site_url="https://acme.atlassian.net/",
        cloud_id="1324a887",
        auth_kind="api_token",
        email="ops@acme.test",
        secret="token-123",
    ).id


def test_connection_secret_is_encrypted_at_rest(store: StateStore) -> None:
    _connection(store)
    connection = store.registry.get_connection("acme")
    assert b"token-123" not in connection.secret
    assert store.registry.connection_secret(connection) == "token-123"
    assert connection.site_url == "https://acme.atlassian.net"


def test_wrong_secret_key_is_a_clear_error(store: StateStore, state_url: str) -> None:
    _connection(store)
    other = StateStore.open(state_url, "another-key")
    try:
        with pytest.raises(SecretKeyMismatch, match="SECRET_KEY differs"):
            other.registry.connection_secret(other.registry.get_connection("acme"))
    finally:
        other.close()


def test_migrations_are_idempotent(store: StateStore, state_url: str) -> None:
    _connection(store)
    again = StateStore.open(state_url, "test-secret-key")
    try:
        assert [c.name for c in again.registry.list_connections()] == ["acme"]
    finally:
        again.close()


def test_index_crud_and_validation(store: StateStore) -> None:
    _connection(store)
    index = store.registry.create_index(
        name="eng-docs", spaces=["ENG", " OPS", "ENG"], pipeline_name="confluence-eng-docs"
    )
    assert index.spaces == ["ENG", "OPS"]
    assert index.connection_id is not None  # the only connection is picked
    with pytest.raises(RegistryError, match="already exists"):
        store.registry.create_index(name="eng-docs", spaces=["ENG"], pipeline_name="x")
    with pytest.raises(RegistryError, match="at least one space"):
        store.registry.create_index(name="empty", spaces=[" "], pipeline_name="x")
    with pytest.raises(RegistryError, match="invalid index name"):
        store.registry.create_index(name="bad name!", spaces=["ENG"], pipeline_name="x")
    updated = store.registry.update_index("eng-docs", interval_minutes=15, enabled=False)
    assert (updated.interval_minutes, updated.enabled) == (15, False)
    with pytest.raises(RegistryError, match="interval"):
        store.registry.update_index("eng-docs", interval_minutes=0)
    with pytest.raises(RegistryError, match="unknown index"):
        store.registry.get_index("nope")
    store.registry.delete_index("eng-docs")
    assert store.registry.list_indexes() == []


def test_several_connections_require_a_choice(store: StateStore) -> None:
    _connection(store, "one")
    _connection(store, "two")
    with pytest.raises(RegistryError, match="choose one with --connection"):
        store.registry.create_index(name="x", spaces=["ENG"], pipeline_name="x")
    index = store.registry.create_index(
        name="x", spaces=["ENG"], pipeline_name="x", connection="two"
    )
    assert index.connection_id == store.registry.get_connection("two").id


def test_ledger_records_versions_only_when_accepted(store: StateStore) -> None:
    _connection(store)
    index = store.registry.create_index(name="docs", spaces=["ENG"], pipeline_name="p")
    ledger = store.ledger
    ledger.stage(
        index.id,
        [
            StagedWork("1", "ENG", Action.UPSERT, Stage.FETCHED, version=3, storage="<p>a</p>"),
            StagedWork("2", "ENG", Action.UPSERT, Stage.FETCHED, version=1, storage="<p>b</p>"),
        ],
    )
    assert ledger.known_pages(index.id, "ENG") == {}
    assert ledger.count_staged(index.id, "ENG") == {("upsert", "fetched"): 2}

    ledger.record_accepted(index.id, [AcceptedPage("1", "ENG", "A", 3, "h1", "cf-x-1")])
    ledger.record_failed(index.id, [PageFailure("2", "ENG", "cf-x-2", "boom")])
    known = ledger.known_pages(index.id, "ENG")
    assert (known["1"].version, known["1"].status) == (3, "synced")
    assert (known["2"].version, known["2"].status) == (0, "failed")
    assert ledger.count_staged(index.id, "ENG") == {}

    ledger.record_accepted(index.id, [AcceptedPage("1", "ENG", "A", 4, "h2", "cf-x-1")])
    assert ledger.known_pages(index.id, "ENG")["1"].version == 4
    # what the change sensor asks: these ids, in any space, with version and status
    assert ledger.recorded_pages(index.id, ["1", "2", "3"]) == {
        "1": ("ENG", 4, "synced"),
        "2": ("ENG", 0, "failed"),
    }
    ledger.record_deleted(index.id, ["1"])
    assert set(ledger.known_pages(index.id, "ENG")) == {"2"}


def test_run_history_and_last_success(store: StateStore) -> None:
    _connection(store)
    index = store.registry.create_index(name="docs", spaces=["ENG", "OPS"], pipeline_name="p")
    first = store.ledger.start_run(index.id, "ENG", dagster_run_id="r1", full=False)
    assert store.ledger.start_run(index.id, "ENG", dagster_run_id="r1", full=False) == first
    store.ledger.update_run(first, pages_listed=10, documents_uploaded=10)
    store.ledger.finish_run(first, status="success")
    failed = store.ledger.start_run(index.id, "OPS", dagster_run_id="r2", full=False)
    store.ledger.finish_run(failed, status="failed", error="space not found")
    runs = store.ledger.history(index.id)
    assert [r.status for r in runs] == ["failed", "success"]
    assert set(store.ledger.last_success()) == {(index.id, "ENG")}
    assert store.ledger.run_for("r1").pages_listed == 10


def test_concurrent_opens_migrate_once_without_errors(state_url: str) -> None:
    errors: list[str] = []

    def open_and_close() -> None:
        try:
            StateStore.open(state_url, "test-secret-key").close()
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_and_close) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = StateStore.open(state_url, "test-secret-key")
    try:
        assert store.registry.list_indexes() == []
    finally:
        store.close()
