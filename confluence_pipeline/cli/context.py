"""What every command needs: settings, the state database, the Dagster instance."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import dagster as dg

from confluence_pipeline import settings
from confluence_pipeline.state import StateStore


@contextlib.contextmanager
def open_state() -> Iterator[StateStore]:
    store = StateStore.open(settings.database_url(), settings.secret_key())
    try:
        yield store
    finally:
        store.close()


def dagster_instance() -> dg.DagsterInstance:
    """The instance of ``$DAGSTER_HOME`` (default ``<home>/dagster``), the one the UI shows."""
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home())
    return dg.DagsterInstance.get()
