"""Where the project keeps its files, and the settings read from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from confluence_pipeline.errors import PipelineError

DEFAULT_SECRET = "change-this-in-production"


class SettingsError(PipelineError):
    """A setting is missing or invalid; the message says which and how to fix it."""


def home_dir() -> Path:
    """``$CONFLUENCE_PIPELINE_HOME``, else ``~/.confluence_pipeline``; created on first use."""
    raw = os.environ.get("CONFLUENCE_PIPELINE_HOME") or str(Path.home() / ".confluence_pipeline")
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """``$CONFLUENCE_PIPELINE_DATABASE_URL``, else a SQLite file in the home folder."""
    return os.environ.get("CONFLUENCE_PIPELINE_DATABASE_URL") or (
        f"sqlite:///{home_dir() / 'state.db'}"
    )


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, else ``<home>/dagster``, created on first use with a ``dagster.yaml``
    that keeps the defaults (local SQLite storage) and turns telemetry off."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"]).expanduser().resolve()
    path = home_dir() / "dagster"
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return path


def secret_key() -> str:
    """``$SECRET_KEY``; without it, a random key kept in ``<home>/secret.key`` (mode 0600).

    The seed's placeholder ``change-this-in-production`` is refused. A shared (non-SQLite)
    database needs ``SECRET_KEY`` set: every worker and host must decrypt the same tokens,
    which a key file per home folder cannot guarantee.
    """
    value = os.environ.get("SECRET_KEY")
    if value:
        if value == DEFAULT_SECRET:
            raise SettingsError(
                "SECRET_KEY is the placeholder 'change-this-in-production'; set a real secret"
            )
        return value
    if not database_url().startswith("sqlite"):
        raise SettingsError(
            "SECRET_KEY is not set: a shared state database (CONFLUENCE_PIPELINE_DATABASE_URL) "
            "needs the same SECRET_KEY on every worker"
        )
    path = home_dir() / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
