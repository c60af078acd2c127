"""The `confluence-pipeline` console script, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster._core.instance.ref import InstanceRef

from confluence_pipeline.sandbox import confluence, llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import ServerThread

pytestmark = pytest.mark.slow  # each test runs the console script in subprocesses

BIN = Path(sys.executable).parent


class Cli:
    def __init__(self, home: Path, extra_env: dict[str, str] | None = None) -> None:
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("LLAMA_CLOUD_", "CONFLUENCE_", "DAGSTER_"))
        }
        self.env.update(
            CONFLUENCE_PIPELINE_HOME=str(home), SECRET_KEY="cli-test-secret-of-32-characters"
        )
        self.env.update(extra_env or {})

    def __call__(
        self, *args: str, program: str = "confluence-pipeline"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / program), *args], env=self.env, capture_output=True, text=True, timeout=300
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def sandboxes() -> Iterator[tuple[str, str]]:
    wiki_app = confluence.create_app(spaces=2, pages_per_space=20, seed=1)
    with ServerThread(wiki_app) as wiki, ServerThread(llamacloud.create_app()) as cloud:
        yield wiki.url, cloud.url


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_unknown_index_is_one_clear_line(cli: Cli) -> None:
    _assert_one_line_error(cli("index", "show", "nope"), "error: unknown index 'nope'")
    _assert_one_line_error(cli("sync", "nope"), "LLAMA_CLOUD_API_KEY")
    _assert_one_line_error(cli("history", "nope"), "unknown index 'nope'")


def test_index_create_needs_a_connection(cli: Cli) -> None:
    _assert_one_line_error(
        cli("index", "create", "docs", "--spaces", "ENG"), "run `confluence-pipeline connect`"
    )


def test_bad_flags_and_bad_values(cli: Cli) -> None:
    result = cli("index", "create", "docs")
    assert result.returncode == 2 and "Missing option '--spaces'" in result.stderr
    result = cli("history", "--limit", "zero")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    _assert_one_line_error(
        cli("connect", "--site", "not a url", "--email", "a@b.c", "--api-token", "t"),
        "--site must be a URL",
    )


def test_unreachable_site_is_one_line_and_saves_nothing(cli: Cli) -> None:
    result = cli(
        "connect", "--site", "http://127.0.0.1:9", "--email", "a@b.c", "--api-token", "secret-tok"
    )
    _assert_one_line_error(result, "error:")
    assert "secret-tok" not in result.stderr + result.stdout
    assert json.loads(cli("connections", "--json").stdout) == []


def test_wrong_api_token_is_refused_without_echoing_it(
    cli: Cli, sandboxes: tuple[str, str]
) -> None:
    wiki, _ = sandboxes
    result = cli(
        "connect", "--site", wiki, "--email", "demo@example.com", "--api-token", "wr0ng-tok"
    )
    _assert_one_line_error(result, "error:")
    assert "wr0ng-tok" not in result.stderr + result.stdout


def test_malformed_yaml_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("indexes: [name: x\n")
    _assert_one_line_error(cli("index", "apply", str(bad)), "not valid YAML")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("indexes:\n  - name: x\n    spaces: ENG\n")
    _assert_one_line_error(cli("index", "apply", str(wrong)), "needs `name` and a list `spaces`")


def test_connect_create_materialize_sync_history(cli: Cli, sandboxes: tuple[str, str]) -> None:
    wiki, cloud = sandboxes
    keys = [space["key"] for space in ConfluenceAdmin(wiki).spaces()]
    connected = cli(
        "connect", "--site", wiki, "--email", "demo@example.com", "--api-token", "sandbox-token"
    )
    assert connected.returncode == 0, connected.stderr
    listing = json.loads(cli("connections", "--json").stdout)
    assert [c["auth"] for c in listing] == ["api_token"]
    assert "sandbox-token" not in json.dumps(listing)

    created = cli("index", "create", "docs", "--spaces", ",".join(keys), "--interval", "30")
    assert created.returncode == 0, created.stderr
    _assert_one_line_error(cli("index", "create", "docs", "--spaces", keys[0]), "already exists")

    cli.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
        DAGSTER_HOME=str(Path(cli.env["CONFLUENCE_PIPELINE_HOME"]) / "dagster"),
    )
    materialized = cli(
        "asset",
        "materialize",
        "-m",
        "confluence_pipeline.definitions",
        "--select",
        "*",
        "--partition",
        f"docs|{keys[0]}",
        program="dagster",
    )
    assert materialized.returncode == 0, materialized.stderr[-2000:]
    assert len(_documents(cloud)) == 20

    synced = cli("sync", "docs")
    assert synced.returncode == 0, synced.stderr
    assert len(_documents(cloud)) == 40
    _assert_one_line_error(cli("sync", "docs", "--space", "NOPE"), "space NOPE is not in index")

    history = json.loads(cli("history", "docs", "--json").stdout)
    assert [h["status"] for h in history] == ["success"] * 3
    assert sorted(h["uploaded"] for h in history) == [0, 20, 20]

    shown = json.loads(cli("index", "show", "docs", "--json").stdout)
    assert shown["spaces"] == keys and shown["interval_minutes"] == 30


def _documents(cloud: str) -> list[str]:
    admin = LlamaCloudAdmin(cloud)
    return [doc for p in admin.pipelines() for doc in admin.documents(p["id"])]


def _dagster_runs(home: str) -> int:
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(Path(home) / "dagster")))
    with instance:
        return instance.get_runs_count()


def test_sync_runs_only_the_spaces_that_changed(cli: Cli, sandboxes: tuple[str, str]) -> None:
    wiki, cloud = sandboxes
    admin = ConfluenceAdmin(wiki)
    keys = [space["key"] for space in admin.spaces()]
    home = cli.env["CONFLUENCE_PIPELINE_HOME"]
    cli.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
    )
    login = {"--email": "demo@example.com", "--api-token": "sandbox-token"}
    assert cli("connect", "--site", wiki, *(a for kv in login.items() for a in kv)).returncode == 0
    assert cli("index", "create", "docs", "--spaces", ",".join(keys)).returncode == 0
    assert cli("sync", "docs").returncode == 0
    assert _dagster_runs(home) == 2

    before = admin.stats()["requests_total"]
    quiet = cli("sync", "docs")
    assert quiet.returncode == 0, quiet.stderr
    for key in keys:
        assert f"docs / {key}: ok, unchanged (20 pages), no run" in quiet.stdout
    assert _dagster_runs(home) == 2  # no Dagster run at all, nor its imports
    assert admin.stats()["requests_total"] - before == 2 * len(keys)  # the probe's 2 reads
    history = json.loads(cli("history", "docs", "--json").stdout)
    assert [(h["status"], h["unchanged"]) for h in history[:2]] == [("success", 20)] * 2

    space_id = next(space["id"] for space in admin.spaces() if space["key"] == keys[1])
    listed = httpx.get(f"{wiki}/wiki/api/v2/spaces/{space_id}/pages", auth=tuple(login.values()))
    admin.edit_page(listed.json()["results"][0]["id"], "<p>edited for the change probe</p>")
    edited = cli("sync", "docs")
    assert edited.returncode == 0, edited.stderr
    assert f"docs / {keys[0]}: ok, unchanged (20 pages), no run" in edited.stdout
    assert f"docs / {keys[1]}: ok, 1 uploaded, 0 deleted, 0 failed" in edited.stdout
    assert _dagster_runs(home) == 3

    full = cli("sync", "docs", "--full")
    assert full.returncode == 0, full.stderr
    assert "no run" not in full.stdout
    assert _dagster_runs(home) == 5
