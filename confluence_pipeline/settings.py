"""Everything the product reads from the operator's environment, read in one place.

Endpoints and secrets come from here only: no Dagster resource field, run config or CLI flag
can point a credential at another host. Sandboxes are reached the same way, through
``LLAMA_CLOUD_BASE_URL``, ``ATLASSIAN_API_URL`` and the others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from confluence_pipeline.confluence.oauth import OAuthApp
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime.urls import require_https

DEFAULT_SECRET = "change-this-in-production"
MIN_SECRET_KEY_CHARS = 32
GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
DEFAULT_LLAMA_CLOUD_URL = "https://api.cloud.llamaindex.ai"  # as llamacloud.sink
DEFAULT_DAGSTER_URL = "http://localhost:3000"
LLAMA_CLOUD_ENV = ("LLAMA_CLOUD_API_KEY", "LLAMA_CLOUD_PROJECT_ID")
SECRET_ENV = (
    "LLAMA_CLOUD_API_KEY",
    "SECRET_KEY",
    "CONFLUENCE_API_TOKEN",
    "CONFLUENCE_CLIENT_SECRET",
    "DAGSTER_POSTGRES_PASSWORD",
    "CONFLUENCE_PIPELINE_ALERT_WEBHOOK",
    "CONFLUENCE_PIPELINE_MCP_TOKEN",
)
"""Variables whose values are masked wherever they could appear in a message."""


class SettingsError(PipelineError):
    """A setting is missing or invalid; the message says which and how to fix it."""


@dataclass(frozen=True)
class LlamaCloudSettings:
    api_key: str = field(repr=False)
    project_id: str
    base_url: str


@dataclass(frozen=True)
class Settings:
    """The environment, read once: call :meth:`from_env` where a command or a run starts."""

    env: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls(dict(os.environ if env is None else env))

    def _get(self, name: str) -> str | None:
        return self.env.get(name) or None

    @property
    def home(self) -> Path:
        """``$CONFLUENCE_PIPELINE_HOME``, else ``~/.confluence_pipeline``; created on first
        use, private to its owner (0700): it holds the key file and the state database. An
        existing folder keeps its mode (the files in it are 0600 anyway)."""
        raw = self._get("CONFLUENCE_PIPELINE_HOME") or str(Path.home() / ".confluence_pipeline")
        path = Path(raw).expanduser().resolve()
        if not path.is_dir():
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)  # whatever the umask
        return path

    @property
    def database_url(self) -> str:
        """``$CONFLUENCE_PIPELINE_DATABASE_URL``, else a SQLite file in the home folder."""
        return (
            self._get("CONFLUENCE_PIPELINE_DATABASE_URL") or f"sqlite:///{self.home / 'state.db'}"
        )

    @property
    def dagster_home(self) -> Path:
        """``$DAGSTER_HOME``, else ``<home>/dagster``, created on first use with a
        ``dagster.yaml`` that keeps the defaults (local SQLite storage), telemetry off."""
        explicit = self._get("DAGSTER_HOME")
        if explicit:
            return Path(explicit).expanduser().resolve()
        path = self.home / "dagster"
        path.mkdir(parents=True, exist_ok=True)
        config = path / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        return path

    def secret_key(self) -> str:
        """``$SECRET_KEY``; without it, a random key kept in ``<home>/secret.key`` (0600).

        The seed's placeholder ``change-this-in-production`` and keys shorter than
        :data:`MIN_SECRET_KEY_CHARS` are refused. A shared (non-SQLite) database needs
        ``SECRET_KEY`` set: every worker and host must decrypt the same tokens, which a key file
        per home folder cannot guarantee.
        """
        value = self._get("SECRET_KEY")
        if value:
            if value == DEFAULT_SECRET:
                raise SettingsError(
                    "SECRET_KEY is the placeholder 'change-this-in-production'; set a real secret"
                    f" (generate one with: {GENERATE_KEY})"
                )
            if len(value) < MIN_SECRET_KEY_CHARS:
                raise SettingsError(
                    f"SECRET_KEY is too short ({len(value)} characters, at least "
                    f"{MIN_SECRET_KEY_CHARS} needed); generate one with: {GENERATE_KEY} "
                    "(re-encrypt stored tokens with `confluence-pipeline secret rotate "
                    "--old-key-env VAR`, VAR holding the old key)"
                )
            return value
        if not self.database_url.startswith("sqlite"):
            raise SettingsError(
                "SECRET_KEY is not set: a shared state database (CONFLUENCE_PIPELINE_DATABASE_URL)"
                " needs the same SECRET_KEY on every worker"
            )
        return _key_file(self.home / "secret.key")

    def key_from(self, variable: str) -> str:
        """A key kept in another variable (``secret rotate --old-key-env VAR``); any length,
        since replacing a short old key is a reason to rotate."""
        value = self._get(variable)
        if value is None:
            raise SettingsError(f"{variable} is not set: put the old SECRET_KEY in it")
        return value

    def llamacloud(self) -> LlamaCloudSettings:
        """The LlamaCloud project to write to; refuses when its variables are missing."""
        missing = [name for name in LLAMA_CLOUD_ENV if not self._get(name)]
        if missing:
            raise SettingsError(
                f"{', '.join(missing)} not set (see README: Configuration); for the sandbox: "
                "LLAMA_CLOUD_API_KEY=sandbox-key LLAMA_CLOUD_PROJECT_ID=sandbox-project"
            )
        return LlamaCloudSettings(
            api_key=self.env["LLAMA_CLOUD_API_KEY"],
            project_id=self.env["LLAMA_CLOUD_PROJECT_ID"],
            base_url=require_https(
                self._get("LLAMA_CLOUD_BASE_URL") or DEFAULT_LLAMA_CLOUD_URL,
                "LLAMA_CLOUD_BASE_URL",
            ),
        )

    def oauth_app(self) -> OAuthApp:
        """The Atlassian OAuth app (``CONFLUENCE_CLIENT_ID``/``_SECRET``, ``ATLASSIAN_*_URL``,
        which must be https unless on a loopback host)."""
        return OAuthApp.from_env(self.env)

    @property
    def alert_webhook(self) -> str | None:
        """``$CONFLUENCE_PIPELINE_ALERT_WEBHOOK``: where failure alerts go (none: skipped)."""
        return self._get("CONFLUENCE_PIPELINE_ALERT_WEBHOOK")

    @property
    def dagster_url(self) -> str:
        """``$CONFLUENCE_PIPELINE_DAGSTER_URL``: the UI's base URL for run links."""
        return self._get("CONFLUENCE_PIPELINE_DAGSTER_URL") or DEFAULT_DAGSTER_URL

    @property
    def mcp_token(self) -> str | None:
        """``$CONFLUENCE_PIPELINE_MCP_TOKEN``: the bearer token MCP clients must send over
        HTTP (required to serve beyond loopback)."""
        return self._get("CONFLUENCE_PIPELINE_MCP_TOKEN")

    @property
    def jira_url(self) -> str:
        """``$CONFLUENCE_PIPELINE_JIRA_URL``: the base URL of the Jira site that pages' Jira
        macros refer to (``https://acme.atlassian.net``), so issue keys become links to it;
        ``""`` when unset (keys stay plain text)."""
        value = (self._get("CONFLUENCE_PIPELINE_JIRA_URL") or "").strip()
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise SettingsError(
                "CONFLUENCE_PIPELINE_JIRA_URL must be the Jira site's base URL, such as "
                f"https://acme.atlassian.net (got {value!r})"
            )
        return value.rstrip("/")

    def secret_values(self) -> list[str]:
        """The values of :data:`SECRET_ENV` that are set."""
        return [value for name in SECRET_ENV if (value := self.env.get(name, ""))]


def _key_file(path: Path) -> str:
    """The key kept in ``path``, generated on first use.

    A new key is written whole to a private (0600) temp file in the same folder and then
    hard-linked into place, which is atomic and never replaces an existing file: a reader sees
    no file or the whole key, and when two processes start at once the first key linked wins
    and both use it (``os.replace`` is the fallback where hard links are unsupported).
    """
    if not path.exists():
        fd, temp = tempfile.mkstemp(prefix=".secret.key.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process was first: use its key
            except OSError:
                if not path.exists():
                    os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_KEY_CHARS:
        state = "empty" if not key else f"too short ({len(key)} characters)"
        raise SettingsError(
            f"the key file {path} is {state}: delete it to have a new key generated (tokens "
            "saved with the old key then need `confluence-pipeline connect --replace`), or set "
            f"SECRET_KEY to a key of at least {MIN_SECRET_KEY_CHARS} characters"
        )
    return key
