"""What every command needs: settings, the state database, LlamaCloud, the Dagster instance."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from confluence_pipeline.settings import Settings
from confluence_pipeline.state import StateStore

if TYPE_CHECKING:  # imported where used: a command that needs neither never loads them
    import dagster as dg

    from confluence_pipeline.llamacloud import IndexSink, LlamaCloudSink


@contextlib.contextmanager
def open_state() -> Iterator[StateStore]:
    settings = Settings.from_env()
    with StateStore.open(settings.database_url, settings.secret_key()) as store:
        yield store


def llamacloud_sink(target: str = "pipeline") -> LlamaCloudSink | IndexSink:
    """The sink of ``target`` (``pipeline`` or ``index``) for the configured project."""
    from confluence_pipeline.llamacloud import open_sink

    cloud = Settings.from_env().llamacloud()
    return open_sink(target, cloud.api_key, cloud.project_id, base_url=cloud.base_url)


def dagster_instance() -> dg.DagsterInstance:
    """The instance of ``$DAGSTER_HOME`` (default ``<home>/dagster``), the one the UI shows."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(Settings.from_env().dagster_home)
    return dg.DagsterInstance.get()


class _NoInstanceConfigWarning(logging.Filter):
    """Dagster warns on every command when ``$DAGSTER_HOME`` has no ``dagster.yaml``; its
    defaults are what the CLI wants, so the warning is only noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No dagster instance configuration file")


logging.getLogger("dagster").addFilter(_NoInstanceConfigWarning())
