"""`connect` in OAuth mode, `connections`, `disconnect` and `sync`, run as a user would: the
console script in a subprocess against the emulators, the consent page in a real browser."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from confluence_pipeline.sandbox import llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.confluence import API_TOKEN, CLIENT_SECRET
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.oauth_world import (
    CALLBACK_PATH,
    OAuthSandbox,
    read_consent_url,
)
from confluence_pipeline_tests.test_cli import BIN, Cli

pytestmark = pytest.mark.slow


class OAuthCli(Cli):
    """The CLI with the OAuth environment of ``oauth_sandbox``; remembers everything it printed."""

    def __init__(self, home: Path, oauth_sandbox: OAuthSandbox) -> None:
        super().__init__(home, {**oauth_sandbox.env(), "PYTHONUNBUFFERED": "1"})
        self.sandbox = oauth_sandbox
        self.transcript: list[str] = []

    def __call__(self, *args: str, program: str = "confluence-pipeline") -> Any:
        result = subprocess.run(
            [str(BIN / program), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        self.transcript += [result.stdout, result.stderr]
        return result

    def start_connect(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "confluence-pipeline"), "connect", "--no-browser", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str]) -> tuple[int, str, str]:
        out, err = process.communicate(timeout=120)
        self.transcript += [out, err]
        return process.returncode, out, err

    def connect(self, *args: str, accept: bool = True) -> tuple[int, str, str]:
        """`connect --no-browser`, with the consent page answered over plain HTTP."""
        process = self.start_connect(*args)
        url = read_consent_url(process)
        httpx.get(self.sandbox.decide(url, accept=accept), timeout=60)
        return self.finish(process)

    def assert_no_secrets(self) -> None:
        text = "\n".join(self.transcript)
        secrets = [*self.sandbox.issued_secrets(), CLIENT_SECRET, API_TOKEN]
        assert len(secrets) > 2
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"secrets in CLI output: {len(leaked)}"


@pytest.fixture
def cli(tmp_path: Path, oauth_sandbox: OAuthSandbox) -> OAuthCli:
    return OAuthCli(tmp_path / "home", oauth_sandbox)


@pytest.fixture
def cloud() -> Iterator[str]:
    with ServerThread(llamacloud.create_app()) as server:
        yield server.url


def _sync_env(cli: OAuthCli, cloud: str) -> None:
    cli.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
        DAGSTER_HOME=str(Path(cli.env["CONFLUENCE_PIPELINE_HOME"]) / "dagster"),
    )


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def _connections(cli: OAuthCli) -> list[dict[str, Any]]:
    return list(json.loads(cli("connections", "--json").stdout))


@pytest.mark.browser
def test_browser_consent_connects_and_the_connection_syncs_an_index(
    cli: OAuthCli, oauth_sandbox: OAuthSandbox, cloud: str, browser_page: Any
) -> None:
    process = cli.start_connect("--timeout", "120")
    url = read_consent_url(process)
    browser_page.goto(url)
    browser_page.click("#accept")
    browser_page.wait_for_url(f"**{CALLBACK_PATH}?**")
    assert browser_page.locator("h1").inner_text() == "Connected"
    assert "Connected sandbox to" in browser_page.locator("#message").inner_text()
    code, out, err = cli.finish(process)
    assert code == 0, err
    assert "connected sandbox" in out

    [connection] = _connections(cli)
    assert connection["auth"] == "oauth" and connection["health"] == "ok"
    assert connection["site"] == oauth_sandbox.url and connection["cloud_id"]
    assert {"read:page:confluence", "offline_access"} <= set(connection["scopes"])
    assert connection["access_expires_at"] and connection["last_refresh_at"] is None

    keys = [space["key"] for space in ConfluenceAdmin(oauth_sandbox.url).spaces()]
    assert cli("index", "create", "docs", "--spaces", ",".join(keys)).returncode == 0
    _sync_env(cli, cloud)
    synced = cli("sync", "docs")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert _document_count(cloud) == 20

    oauth_sandbox.expire_access_tokens()  # the next sync refreshes once and goes on
    resynced = cli("sync", "docs")
    assert resynced.returncode == 0, resynced.stdout + resynced.stderr
    assert oauth_sandbox.refreshes() == 1
    assert _connections(cli)[0]["last_refresh_at"] is not None
    cli.assert_no_secrets()


def test_callback_with_a_foreign_state_is_refused(cli: OAuthCli) -> None:
    process = cli.start_connect()
    url = read_consent_url(process)
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    page = httpx.get(redirect, params={"code": "forged", "state": "not-ours"}, timeout=30)
    assert page.status_code == 400 and "state mismatch" in page.text
    httpx.get(cli.sandbox.decide(url, accept=False), timeout=30)  # the real answer still counts
    code, _, err = cli.finish(process)
    assert code == 1 and "consent was denied" in _one_error_line(err)
    assert _connections(cli) == []


def test_denied_consent_saves_nothing(cli: OAuthCli, oauth_sandbox: OAuthSandbox) -> None:
    process = cli.start_connect()
    location = oauth_sandbox.decide(read_consent_url(process), accept=False)
    assert "error=access_denied" in location
    page = httpx.get(location, timeout=30)
    assert page.status_code == 400 and "access was denied" in page.text
    code, _, err = cli.finish(process)
    assert code == 1
    assert "consent was denied in the browser (access_denied)" in _one_error_line(err)
    assert _connections(cli) == []


def test_waiting_for_the_browser_times_out_with_a_clear_message(cli: OAuthCli) -> None:
    code, _, err = cli.finish(cli.start_connect("--timeout", "1"))
    assert code == 1 and "no answer from the browser within 1 s" in _one_error_line(err)


def test_missing_client_credentials_and_placeholder_secret_are_refused(cli: OAuthCli) -> None:
    del cli.env["CONFLUENCE_CLIENT_SECRET"]
    result = cli("connect", "--no-browser")
    assert "CONFLUENCE_CLIENT_SECRET not set" in _one_error_line(result.stderr)
    cli.env.update(CONFLUENCE_CLIENT_SECRET=CLIENT_SECRET, SECRET_KEY="change-this-in-production")
    result = cli("connect", "--no-browser")
    assert "placeholder" in _one_error_line(result.stderr)


@pytest.mark.sandbox(oauth_extra_sites=1)
def test_several_sites_need_a_choice(cli: OAuthCli, oauth_sandbox: OAuthSandbox) -> None:
    code, _, err = cli.connect()
    assert code == 1 and "choose one with --site" in _one_error_line(err)
    assert "sandbox-1" in err
    code, _, err = cli.connect("--site", oauth_sandbox.url, "--name", "main")
    assert code == 0, err
    assert [c["name"] for c in _connections(cli)] == ["main"]
    cli.assert_no_secrets()


def test_revoked_refresh_token_fails_the_sync_with_the_reconsent_message(
    cli: OAuthCli, oauth_sandbox: OAuthSandbox, cloud: str
) -> None:
    assert cli.connect()[0] == 0
    key = ConfluenceAdmin(oauth_sandbox.url).spaces()[0]["key"]
    assert cli("index", "create", "docs", "--spaces", key).returncode == 0
    oauth_sandbox.revoke_refresh_tokens()
    oauth_sandbox.expire_access_tokens()
    _sync_env(cli, cloud)

    synced = cli("sync", "docs")
    assert synced.returncode == 1
    assert "connection 'sandbox' needs re-consent" in synced.stdout
    [connection] = _connections(cli)
    assert connection["needs_reconsent"] and connection["health"] == "needs re-consent"
    history = json.loads(cli("history", "docs", "--json").stdout)
    assert history[0]["status"] == "failed" and "needs re-consent" in history[0]["error"]

    assert cli.connect("--name", "sandbox", "--replace")[0] == 0  # re-consent heals it
    assert cli("sync", "docs").returncode == 0
    cli.assert_no_secrets()


def test_wrong_secret_key_is_one_clear_line(
    cli: OAuthCli, oauth_sandbox: OAuthSandbox, cloud: str
) -> None:
    assert cli.connect()[0] == 0
    key = ConfluenceAdmin(oauth_sandbox.url).spaces()[0]["key"]
    assert cli("index", "create", "docs", "--spaces", key).returncode == 0
    cli.env["SECRET_KEY"] = "a-different-secret-of-32-characters"
    [connection] = _connections(cli)
    assert connection["health"] == "cannot decrypt credentials: SECRET_KEY differs"
    _sync_env(cli, cloud)
    synced = cli("sync", "docs")
    assert synced.returncode == 1 and "SECRET_KEY differs" in synced.stdout
    assert "Traceback" not in synced.stdout + synced.stderr
    cli.assert_no_secrets()


def test_disconnect_deletes_tokens_and_unlinks_indexes_only_with_yes(
    cli: OAuthCli, oauth_sandbox: OAuthSandbox
) -> None:
    assert cli.connect()[0] == 0
    key = ConfluenceAdmin(oauth_sandbox.url).spaces()[0]["key"]
    assert cli("index", "create", "docs", "--spaces", key).returncode == 0

    kept = cli("disconnect", "sandbox")
    assert kept.returncode == 0 and "still use it" in kept.stdout
    [connection] = _connections(cli)
    assert connection["needs_reconsent"] and connection["health"] == "needs re-consent"
    assert json.loads(cli("index", "show", "docs", "--json").stdout)["connection"] == "sandbox"

    gone = cli("disconnect", "sandbox", "--yes")
    assert gone.returncode == 0 and "unlinked docs" in gone.stdout
    assert _connections(cli) == []
    cli.assert_no_secrets()


def _document_count(cloud: str) -> int:
    admin = LlamaCloudAdmin(cloud)
    return sum(len(admin.documents(p["id"])) for p in admin.pipelines())
