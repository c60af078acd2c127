"""Token refresh of OAuth connections: once per connection across threads and processes, on
SQLite and PostgreSQL; a refused refresh token marks the connection for re-consent."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from confluence_pipeline.confluence.oauth import NeedsReconsent, OAuthApp
from confluence_pipeline.state import Connection, SecretKeyMismatch, StateStore
from confluence_pipeline.sync.connections import check_health, open_client
from confluence_pipeline_tests.oauth_world import (
    OAuthSandbox,
    store_oauth_connection,
)

WORKERS = 8
KEY = "test-secret-key"
_barrier: Any = None
_OPEN_LOCK = threading.Lock()


def _expire_in_state(store: StateStore, name: str) -> None:
    table = Connection.__table__
    past = datetime.now(UTC) - timedelta(minutes=1)
    with store.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.name == name).values(access_expires_at=past))


def _init_worker(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _worker(state_url: str, name: str, app: OAuthApp, barrier: Any = None) -> str:
    """One worker of a sync: opens the state database, builds the connection's client and
    makes one authenticated API call. Returns the access token it ended up using."""
    with _OPEN_LOCK:  # Alembic's upgrade uses module globals: one thread at a time
        store = StateStore.open(state_url, KEY)
    try:
        connection = store.registry.get_connection(name)
        (barrier or _barrier).wait(timeout=60)
        with open_client(store, connection, oauth=app) as client:
            client.check_access()
        return store.tokens.current(connection.id).access_token
    finally:
        store.close()


def _run_workers(mode: str, state_url: str, name: str, app: OAuthApp) -> list[str]:
    threads = WORKERS if mode == "threads" else WORKERS // 2 if mode == "mixed" else 0
    processes = WORKERS - threads
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS) if processes else threading.Barrier(WORKERS)
    futures: list[Future[str]] = []
    with (
        ThreadPoolExecutor(max_workers=max(threads, 1)) as thread_pool,
        ProcessPoolExecutor(
            max_workers=max(processes, 1),
            mp_context=context,
            initializer=_init_worker,
            initargs=(barrier,),
        ) as process_pool,
    ):
        for _ in range(processes):
            futures.append(process_pool.submit(_worker, state_url, name, app))
        for _ in range(threads):
            futures.append(thread_pool.submit(_worker, state_url, name, app, barrier))
        return [future.result(timeout=180) for future in futures]


@pytest.mark.parametrize(
    "mode",
    [
        "threads",
        pytest.param("processes", marks=pytest.mark.slow),
        pytest.param("mixed", marks=pytest.mark.slow),
    ],
)
def test_eight_workers_on_an_expired_token_refresh_exactly_once(
    mode: str, state_url: str, store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    oauth_sandbox.expire_access_tokens()
    _expire_in_state(store, connection.name)
    oauth_sandbox.admin("POST", token_delay_ms=300)  # a slow token endpoint widens any race
    before = oauth_sandbox.refreshes()

    tokens = _run_workers(mode, state_url, connection.name, oauth_sandbox.oauth_app())

    assert oauth_sandbox.refreshes() - before == 1
    assert len(tokens) == WORKERS and len(set(tokens)) == 1  # all use the one refreshed token
    refreshed = store.registry.get_connection(connection.name)
    assert refreshed.last_refresh_at is not None and not refreshed.needs_reconsent
    assert oauth_sandbox.admin()["refused"] == {}


def test_workers_refused_with_401_refresh_once_and_retry(
    state_url: str, store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    """The stored expiry still looks fine, but the server has expired the token: every worker
    gets a 401, one refreshes, the others pick its tokens up from the state database."""
    connection = store_oauth_connection(store, oauth_sandbox)
    oauth_sandbox.expire_access_tokens()
    oauth_sandbox.admin("POST", token_delay_ms=200)
    before = oauth_sandbox.refreshes()

    tokens = _run_workers("threads", state_url, connection.name, oauth_sandbox.oauth_app())

    assert oauth_sandbox.refreshes() - before == 1 and len(set(tokens)) == 1


def test_token_is_refreshed_ahead_of_expiry_within_the_margin(
    store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    table = Connection.__table__
    soon = datetime.now(UTC) + timedelta(minutes=2)  # inside the 5-minute margin
    with store.engine.begin() as conn:
        conn.execute(sa.update(table).values(access_expires_at=soon))
    with open_client(store, connection, oauth=oauth_sandbox.oauth_app()) as client:
        client.check_access()
        client.check_access()
    assert oauth_sandbox.refreshes() == 1
    assert oauth_sandbox.admin()["token_requests"] == 2  # the code exchange and one refresh


def test_revoked_refresh_token_marks_the_connection_for_reconsent(
    store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    oauth_sandbox.revoke_refresh_tokens()
    oauth_sandbox.expire_access_tokens()
    app = oauth_sandbox.oauth_app()
    with (
        pytest.raises(NeedsReconsent, match="needs re-consent") as refused,
        open_client(store, connection, oauth=app) as client,
    ):
        client.check_access()
    assert "sbx-" not in str(refused.value)
    marked = store.registry.get_connection(connection.name)
    assert marked.needs_reconsent
    calls = oauth_sandbox.admin()["token_requests"]
    with pytest.raises(NeedsReconsent):  # refused at once, without calling Atlassian again
        open_client(store, marked, oauth=app)
    assert check_health(store, marked, oauth=app) == "needs re-consent"
    assert oauth_sandbox.admin()["token_requests"] == calls


def test_expired_refresh_token_after_reuse_marks_reconsent(
    store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    """Someone used the refresh token behind our back (it rotated): ours is now dead."""
    from confluence_pipeline.confluence.oauth import refresh_tokens

    connection = store_oauth_connection(store, oauth_sandbox)
    app = oauth_sandbox.oauth_app()
    stolen = store.tokens.current(connection.id).refresh_token or ""
    refresh_tokens(app, stolen)  # rotates; the stored refresh token is now stale
    _expire_in_state(store, connection.name)
    with pytest.raises(NeedsReconsent), open_client(store, connection, oauth=app) as client:
        client.check_access()
    assert store.registry.get_connection(connection.name).needs_reconsent


def test_wrong_secret_key_is_a_clear_error_not_garbage(
    state_url: str, store: StateStore, oauth_sandbox: OAuthSandbox
) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    other = StateStore.open(state_url, "another-key")
    try:
        with pytest.raises(SecretKeyMismatch, match="SECRET_KEY differs"):
            open_client(other, connection, oauth=oauth_sandbox.oauth_app())
        assert "SECRET_KEY differs" in check_health(other, connection)
    finally:
        other.close()


def test_tokens_redact_themselves(store: StateStore, oauth_sandbox: OAuthSandbox) -> None:
    connection = store_oauth_connection(store, oauth_sandbox)
    tokens = store.tokens.current(connection.id)
    app = oauth_sandbox.oauth_app()
    for text in (repr(tokens), str(tokens), repr(app), str(app)):
        assert tokens.access_token not in text and app.client_secret not in text
        assert tokens.refresh_token not in text  # type: ignore[operator]
    assert "<redacted>" in repr(tokens)
