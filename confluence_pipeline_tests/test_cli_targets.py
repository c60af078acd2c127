"""`--target`, `sync --wait`, `history --json` and `index migrate` through the console script."""

from __future__ import annotations

import json
from pathlib import Path

from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline_tests import test_cli
from confluence_pipeline_tests.test_cli import Cli, _assert_one_line_error

cli = test_cli.cli  # the fixtures of test_cli
sandboxes = test_cli.sandboxes


def _ready(cli: Cli, sandboxes: tuple[str, str]) -> tuple[list[str], LlamaCloudAdmin]:
    wiki, cloud = sandboxes
    keys = [space["key"] for space in ConfluenceAdmin(wiki).spaces()]
    connected = cli(
        "connect", "--site", wiki, "--email", "demo@example.com", "--api-token", "sandbox-token"
    )
    assert connected.returncode == 0, connected.stderr
    cli.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
    )
    return keys, LlamaCloudAdmin(cloud)


def _indexes(cli: Cli) -> dict[str, dict[str, object]]:
    return {i["name"]: i for i in json.loads(cli("index", "list", "--json").stdout)}


def test_target_is_set_shown_and_bad_targets_change_nothing(
    cli: Cli, sandboxes: tuple[str, str], tmp_path: Path
) -> None:
    keys, cloud = _ready(cli, sandboxes)
    assert cli("index", "create", "old", "--spaces", keys[0]).returncode == 0
    assert cli("index", "create", "new", "--spaces", keys[0], "--target", "index").returncode == 0
    listed = _indexes(cli)
    assert (listed["old"]["target"], listed["new"]["target"]) == ("pipeline", "index")
    assert json.loads(cli("index", "show", "new", "--json").stdout)["target"] == "index"

    _assert_one_line_error(
        cli("index", "create", "bad", "--spaces", keys[0], "--target", "vectors"),
        "unknown target 'vectors'",
    )
    _assert_one_line_error(cli("index", "update", "old", "--target", "nope"), "unknown target")
    cloud.set_ingestion(v2_enabled=False)
    _assert_one_line_error(
        cli("index", "create", "v2", "--spaces", keys[0], "--target", "index"),
        "--target pipeline",
    )
    _assert_one_line_error(cli("index", "update", "old", "--target", "index"), "--target pipeline")
    manifest = tmp_path / "indexes.yaml"
    manifest.write_text(f"indexes:\n  - name: yaml\n    spaces: [{keys[0]}]\n    target: index\n")
    _assert_one_line_error(cli("index", "apply", str(manifest)), "--target pipeline")
    assert set(_indexes(cli)) == {"old", "new"} and _indexes(cli)["old"]["target"] == "pipeline"

    _assert_one_line_error(cli("index", "migrate", "old", "--to", "index"), "--target pipeline")
    _assert_one_line_error(
        cli("index", "migrate", "old", "--to", "pipeline"), "already on the pipeline target"
    )
    _assert_one_line_error(cli("index", "migrate", "old", "--to", "v3"), "unknown target 'v3'")
    assert _indexes(cli)["old"]["migrating_to"] is None

    cloud.set_ingestion(v2_enabled=True)
    assert cli("index", "apply", str(manifest)).returncode == 0
    assert _indexes(cli)["yaml"]["target"] == "index"


def test_sync_wait_reports_searchable_on_both_targets(cli: Cli, sandboxes: tuple[str, str]) -> None:
    keys, cloud = _ready(cli, sandboxes)
    for name, target in (("v1", "pipeline"), ("v2", "index")):
        created = cli("index", "create", name, "--spaces", keys[0], "--target", target)
        assert created.returncode == 0, created.stderr
        cloud.set_ingestion(delay_ms=200)
        synced = cli("sync", name, "--wait", "--timeout", "120")
        assert synced.returncode == 0, synced.stderr
        [run] = json.loads(cli("history", name, "--json").stdout)
        assert run["searchable_at"] and run["uploaded"] == 20

        cloud.set_ingestion(delay_ms=3_600_000)
        _assert_one_line_error(
            cli("sync", name, "--full", "--wait", "--timeout", "0.2"), "not searchable"
        )
        cloud.set_ingestion(delay_ms=0)
