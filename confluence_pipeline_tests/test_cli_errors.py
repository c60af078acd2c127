"""Every documented CLI failure path ends in exactly one `error:` line on stderr, no traceback,
a non-zero exit, and no change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.sandbox import confluence, llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.test_cli import Cli, _assert_one_line_error


@pytest.fixture
def site() -> Iterator[tuple[str, str, ConfluenceAdmin]]:
    wiki_app = confluence.create_app(spaces=2, pages_per_space=6, seed=3)
    with ServerThread(wiki_app) as wiki, ServerThread(llamacloud.create_app()) as cloud:
        yield wiki.url, cloud.url, ConfluenceAdmin(wiki.url)


@pytest.fixture
def connected(tmp_path: Path, site: tuple[str, str, ConfluenceAdmin]) -> Cli:
    wiki, _, _ = site
    cli = Cli(tmp_path / "home")
    done = cli(
        "connect", "--site", wiki, "--email", "demo@example.com", "--api-token", "sandbox-token"
    )
    assert done.returncode == 0, done.stderr
    return cli


def _indexes(cli: Cli) -> list[dict[str, object]]:
    listed = cli("index", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


def test_unknown_space_is_refused_when_the_index_is_created(
    connected: Cli, site: tuple[str, str, ConfluenceAdmin]
) -> None:
    _, _, admin = site
    keys = [space["key"] for space in admin.spaces()]

    refused = connected("index", "create", "docs", "--spaces", f"{keys[0]},NOPE")

    _assert_one_line_error(refused, "unknown space NOPE", *keys, "--no-verify")
    assert _indexes(connected) == []
    offline = connected("index", "create", "docs", "--spaces", "NOPE", "--no-verify")
    assert offline.returncode == 0, offline.stderr
    _assert_one_line_error(
        connected("index", "update", "docs", "--spaces", "NOPE,ALSO"), "unknown space NOPE, ALSO"
    )
    assert [i["spaces"] for i in _indexes(connected)] == [["NOPE"]]


def test_unknown_space_in_a_yaml_file_changes_nothing(
    connected: Cli, site: tuple[str, str, ConfluenceAdmin], tmp_path: Path
) -> None:
    _, _, admin = site
    key = admin.spaces()[0]["key"]
    spec = tmp_path / "indexes.yaml"
    spec.write_text(
        f"indexes:\n  - name: good\n    spaces: [{key}]\n  - name: bad\n    spaces: [NOPE]\n"
    )

    _assert_one_line_error(connected("index", "apply", str(spec)), "unknown space NOPE")

    assert _indexes(connected) == []


def test_unknown_names(connected: Cli) -> None:
    _assert_one_line_error(connected("index", "show", "nope"), "unknown index 'nope'")
    _assert_one_line_error(connected("index", "delete", "nope"), "unknown index 'nope'")
    _assert_one_line_error(
        connected("index", "create", "x", "--spaces", "A", "--connection", "nope"),
        "connection",
        "nope",
    )
    _assert_one_line_error(connected("disconnect", "nope", "--yes"), "nope")


def test_unknown_commands_and_options_are_one_line(connected: Cli) -> None:
    for args in (("bogus",), ("index", "bogus"), ("sync", "--nope", "x"), ("history", "-n", "x")):
        result = connected(*args)
        _assert_one_line_error(result, "error:", "--help")
        assert result.returncode == 2


def test_missing_environment_and_bad_settings(connected: Cli) -> None:
    _assert_one_line_error(connected("sync", "docs"), "LLAMA_CLOUD_API_KEY")
    connected.env["CONFLUENCE_PIPELINE_DATABASE_URL"] = "nosuchdriver://x"
    _assert_one_line_error(connected("index", "list"), "database URL")


def test_unreachable_server_and_wrong_credentials(
    tmp_path: Path, site: tuple[str, str, ConfluenceAdmin]
) -> None:
    wiki, _, _ = site
    cli = Cli(tmp_path / "home")
    _assert_one_line_error(
        cli("connect", "--site", "http://127.0.0.1:9", "--email", "a@b.c", "--api-token", "t0k"),
        "error:",
    )
    wrong = cli("connect", "--site", wiki, "--email", "demo@example.com", "--api-token", "wr0ng")
    _assert_one_line_error(wrong, "error:")
    assert "wr0ng" not in wrong.stderr + wrong.stdout


def test_a_failed_sync_is_one_line_without_dagster_noise(
    connected: Cli, site: tuple[str, str, ConfluenceAdmin]
) -> None:
    _, cloud, _ = site
    assert connected("index", "create", "docs", "--spaces", "NOPE", "--no-verify").returncode == 0
    connected.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
    )

    failed = connected("sync", "docs")

    _assert_one_line_error(failed, "error: sync of docs / NOPE failed: space 'NOPE' not found")
    assert "dagster._core" not in failed.stderr + failed.stdout
    assert "Failure:" not in failed.stderr + failed.stdout
    assert "STEP_FAILURE" not in failed.stderr


def test_a_refused_mass_deletion_is_one_line(
    connected: Cli, site: tuple[str, str, ConfluenceAdmin]
) -> None:
    wiki, cloud, admin = site
    space = admin.spaces()[0]
    assert connected("index", "create", "docs", "--spaces", space["key"]).returncode == 0
    connected.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=cloud,
    )
    assert connected("sync", "docs").returncode == 0
    with ConfluenceClient(wiki, basic_auth("demo@example.com", "sandbox-token")) as client:
        page_ids = [page.id for page in client.iter_pages(space["id"])]
    for page_id in page_ids[:4]:
        admin.trash_page(page_id)

    refused = connected("sync", "docs")

    _assert_one_line_error(refused, "error: sync of docs", "refused to delete 4")
