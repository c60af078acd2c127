"""The scope flags of `index create/update` and their YAML twins in `index apply`, and the
`connections` warning about restriction scopes, run as a user would: the console script in a
subprocess against both sandboxes. (What each filter does to a sync is `test_scope.py`'s.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from confluence_pipeline.sandbox import llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.oauth_world import OAuthSandbox
from confluence_pipeline_tests.test_cli import Cli, _assert_one_line_error
from confluence_pipeline_tests.test_oauth_cli import OAuthCli
from confluence_pipeline_tests.world import World

pytestmark = [pytest.mark.slow, pytest.mark.sandbox(spaces=1, pages_per_space=6)]

SCOPE_KEYS = ("include_restricted", "labels", "exclude_labels", "under", "cql", "owners")
BAD_CQL = "label === nonsense ("


@pytest.fixture
def cli(world: World, tmp_path: Path) -> Cli:
    """The console script on ``world``'s state database (connection ``sandbox``, index
    ``docs``) and sandboxes."""
    return Cli(tmp_path / "home", world.environment())


def _show(cli: Cli, name: str) -> dict[str, Any]:
    shown = cli("index", "show", name, "--json")
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


def _scope(cli: Cli, name: str) -> dict[str, Any]:
    shown = _show(cli, name)
    return {key: shown[key] for key in SCOPE_KEYS}


def _names(cli: Cli) -> list[str]:
    return [i["name"] for i in json.loads(cli("index", "list", "--json").stdout)]


def _ok(result: Any) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def _tree(world: World) -> tuple[str, str, str]:
    """A parent page, its child, and an unrelated page, all new."""
    space = world.space_keys[0]
    parent = world.wiki.create_page(space, "Runbooks", "<p>parent</p>")
    child = world.wiki.create_page(space, "Restart", "<p>child</p>", parent_id=parent)
    other = world.wiki.create_page(space, "Elsewhere", "<p>other</p>")
    return parent, child, other


def test_create_sets_every_scope_flag_and_show_reports_them(cli: Cli, world: World) -> None:
    parent, _child, _other = _tree(world)
    created = cli(
        "index", "create", "ops", "--spaces", world.space_keys[0],
        "--labels", "Runbook, how-to,runbook", "--exclude-labels", "draft",
        "--under", parent, "--cql", 'type = page and title != "Old"',
        "--include-restricted", "--owner", "ann@example.com", "--owner", "bob@example.com",
    )  # fmt: skip
    _ok(created)
    assert "created index ops" in created.stdout
    assert _scope(cli, "ops") == {
        "include_restricted": True,
        "labels": ["runbook", "how-to"],  # lower-cased, once each
        "exclude_labels": ["draft"],
        "under": [parent],
        "cql": 'type = page and title != "Old"',
        "owners": ["ann@example.com", "bob@example.com"],
    }
    text = cli("index", "show", "ops").stdout
    for line in (
        "include_restricted: True",
        "labels: ['runbook', 'how-to']",
        f"under: ['{parent}']",
        "owners: ['ann@example.com', 'bob@example.com']",
    ):
        assert line in text.splitlines(), text
    listed = json.loads(cli("index", "list", "--json").stdout)
    assert next(i for i in listed if i["name"] == "ops")["owners"] == [
        "ann@example.com",
        "bob@example.com",
    ]


def test_create_defaults_leave_restricted_pages_out_and_no_filters(cli: Cli, world: World) -> None:
    _ok(cli("index", "create", "plain", "--spaces", world.space_keys[0]))
    assert _scope(cli, "plain") == {
        "include_restricted": False,
        "labels": [],
        "exclude_labels": [],
        "under": [],
        "cql": None,
        "owners": [],
    }


def test_update_changes_only_the_flags_given_and_empty_values_clear(cli: Cli, world: World) -> None:
    parent, child, _other = _tree(world)
    _ok(
        cli(
            "index",
            "create",
            "ops",
            "--spaces",
            world.space_keys[0],
            "--labels",
            "runbook",
            "--under",
            parent,
            "--cql",
            "type = page",
            "--owner",
            "ann@example.com",
        )
    )
    _ok(cli("index", "update", "ops", "--exclude-labels", "draft,old", "--include-restricted"))
    scope = _scope(cli, "ops")
    assert scope["labels"] == ["runbook"] and scope["exclude_labels"] == ["draft", "old"]
    assert scope["include_restricted"] is True and scope["under"] == [parent]

    _ok(cli("index", "update", "ops", "--exclude-restricted", "--under", f"{parent},{child}"))
    scope = _scope(cli, "ops")
    assert scope["include_restricted"] is False and scope["under"] == [parent, child]

    _ok(cli("index", "update", "ops", "--owner", "cy@example.com", "--owner", "di@example.com"))
    assert _scope(cli, "ops")["owners"] == ["cy@example.com", "di@example.com"]  # replaced

    _ok(cli("index", "update", "ops", "--labels", "", "--under", "", "--cql", ""))
    assert _scope(cli, "ops") == {
        "include_restricted": False,
        "labels": [],
        "exclude_labels": ["draft", "old"],
        "under": [],
        "cql": None,
        "owners": ["cy@example.com", "di@example.com"],
    }


def test_a_bad_cql_clause_is_one_line_and_changes_nothing(cli: Cli, world: World) -> None:
    space = world.space_keys[0]
    _assert_one_line_error(
        cli("index", "create", "ops", "--spaces", space, "--cql", BAD_CQL), "CQL clause"
    )
    assert "ops" not in _names(cli)

    _ok(cli("index", "create", "ops", "--spaces", space, "--cql", 'label = "runbook"'))
    before = _show(cli, "ops")
    refused = cli("index", "update", "ops", "--cql", BAD_CQL, "--labels", "x", "--interval", "5")
    _assert_one_line_error(refused, "CQL clause")
    assert _show(cli, "ops") == before
    stats = world.wiki.stats()["requests_by_route"]
    assert any("content/search" in route for route in stats), stats  # it was really tested


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--under", "12,abc"), "invalid page id(s) for under: abc"),
        (("--owner", "not-an-email"), "invalid owner email(s): not-an-email"),
        (("--labels", "ok,two words"), "invalid label(s): two words"),
    ],
    ids=["under", "owner", "labels"],
)
def test_bad_scope_values_are_one_line_and_change_nothing(
    cli: Cli, world: World, flags: tuple[str, ...], message: str
) -> None:
    space = world.space_keys[0]
    _assert_one_line_error(cli("index", "create", "ops", "--spaces", space, *flags), message)
    assert "ops" not in _names(cli)
    before = _show(cli, "docs")
    _assert_one_line_error(cli("index", "update", "docs", "--interval", "7", *flags), message)
    assert _show(cli, "docs") == before


def _yaml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "indexes.yaml"
    path.write_text(text)
    return str(path)


def _apply(cli: Cli, tmp_path: Path, entries: str) -> Any:
    """`index apply` of a file whose ``indexes:`` list holds ``entries``; must succeed."""
    applied = cli("index", "apply", _yaml(tmp_path, f"indexes:\n{entries}"))
    _ok(applied)
    return applied


def test_yaml_apply_sets_the_same_scope_as_the_flags(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    parent, _child, _other = _tree(world)
    space = world.space_keys[0]
    _ok(
        cli(
            "index",
            "create",
            "flags",
            "--spaces",
            space,
            "--labels",
            "runbook",
            "--exclude-labels",
            "draft",
            "--under",
            parent,
            "--cql",
            "type = page",
            "--include-restricted",
            "--owner",
            "ann@example.com",
            "--owner",
            "bob@example.com",
        )
    )
    applied = _apply(
        cli,
        tmp_path,
        f"""  - name: declared
    spaces: [{space}]
    labels: [Runbook]
    exclude_labels: [draft]
    under: ["{parent}"]
    cql: type = page
    include_restricted: true
    owners: [ann@example.com, bob@example.com]
""",
    )
    assert "created index declared" in applied.stdout
    assert _scope(cli, "declared") == _scope(cli, "flags")

    applied = _apply(
        cli,
        tmp_path,
        f"""  - name: declared
    spaces: [{space}]
    labels: []
    include_restricted: false
    owners: [cy@example.com]
""",
    )
    assert "updated index declared" in applied.stdout
    scope = _scope(cli, "declared")
    assert scope["labels"] == [] and scope["include_restricted"] is False
    assert scope["owners"] == ["cy@example.com"] and scope["under"] == [parent]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (f"cql: '{BAD_CQL}'", "CQL clause"),
        ("labels: runbook", "labels must be a list"),
        ("under: [abc]", "invalid page id(s) for under: abc"),
        ("owners: [not-an-email]", "invalid owner email(s)"),
        ("include_restricted: 'no'", "include_restricted must be true or false"),
    ],
    ids=["cql", "labels-not-a-list", "under", "owners", "include-restricted-not-a-boolean"],
)
def test_a_bad_yaml_scope_is_one_line_and_changes_nothing(
    cli: Cli, world: World, tmp_path: Path, entry: str, message: str
) -> None:
    """The bad entry comes second: the good one before it must not be applied either."""
    space = world.space_keys[0]
    before = _show(cli, "docs")
    path = _yaml(
        tmp_path,
        f"""indexes:
  - name: docs
    spaces: [{space}]
    labels: [changed]
  - name: fresh
    spaces: [{space}]
    {entry}
""",
    )
    _assert_one_line_error(cli("index", "apply", path), message)
    assert _show(cli, "docs") == before
    assert "fresh" not in _names(cli)


def test_scope_flags_decide_what_the_synced_index_holds(cli: Cli, world: World) -> None:
    parent, child, other = _tree(world)
    for page in (parent, child, other):
        world.wiki.set_labels(page, ["zz-runbook"])  # no generated page has it
    world.wiki.restrict(child, groups=["sre"])
    space = world.space_keys[0]
    _ok(cli("index", "create", "ops", "--spaces", space, "--labels", "zz-runbook"))
    _ok(cli("sync", "ops"))
    held = {doc["metadata"]["page_id"] for doc in world.documents("ops").values()}
    assert held == {parent, other}  # child: restricted

    _ok(cli("index", "update", "ops", "--include-restricted", "--under", parent))
    _ok(cli("sync", "ops", "--full"))
    docs = {doc["metadata"]["page_id"]: doc for doc in world.documents("ops").values()}
    assert set(docs) == {parent, child}
    assert docs[child]["metadata"]["read_groups"] == ["sre"]


LIMITED_SCOPES = "read:page:confluence read:space:confluence offline_access"


@pytest.mark.sandbox(spaces=1, pages_per_space=4)
def test_connections_warns_when_scopes_cannot_read_restrictions(
    tmp_path: Path, oauth_sandbox: OAuthSandbox
) -> None:
    cli = OAuthCli(tmp_path / "home", oauth_sandbox)
    cli.env["CONFLUENCE_SCOPES"] = LIMITED_SCOPES
    code, _, err = cli.connect("--name", "narrow")
    assert code == 0, err
    del cli.env["CONFLUENCE_SCOPES"]
    code, _, err = cli.connect("--name", "full")
    assert code == 0, err

    listed = {c["name"]: c for c in json.loads(cli("connections", "--json").stdout)}
    assert listed["narrow"]["reads_restrictions"] is False
    assert listed["narrow"]["scopes"] == LIMITED_SCOPES.split()
    assert listed["full"]["reads_restrictions"] is True

    text = cli("connections")
    assert text.returncode == 0, text.stderr
    warnings = [line for line in text.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, text.stdout
    assert "connection narrow cannot read page restrictions" in warnings[0]
    assert "--include-restricted" in warnings[0]

    key = ConfluenceAdmin(oauth_sandbox.url).spaces()[0]["key"]
    _ok(cli("index", "create", "docs", "--spaces", key, "--connection", "narrow"))
    with ServerThread(llamacloud.create_app()) as cloud:
        cli.env.update(
            LLAMA_CLOUD_API_KEY="sandbox-key",
            LLAMA_CLOUD_PROJECT_ID="sandbox-project",
            LLAMA_CLOUD_BASE_URL=cloud.url,
        )
        refused = cli("sync", "docs")
        assert refused.returncode != 0
        assert "cannot read page restrictions" in refused.stdout + refused.stderr
        assert LlamaCloudAdmin(cloud.url).stats()["documents_upserted"] == 0
    cli.assert_no_secrets()


def test_connect_owner_is_repeatable_shown_and_checked(cli: Cli, world: World) -> None:
    login = ["--site", world.wiki_url, "--email", "demo@example.com", "--api-token"]
    connected = cli(
        "connect", *login, "sandbox-token", "--name", "second",
        "--owner", "ann@example.com", "--owner", "bob@example.com",
    )  # fmt: skip
    _ok(connected)
    listed = {c["name"]: c for c in json.loads(cli("connections", "--json").stdout)}
    assert listed["second"]["owners"] == ["ann@example.com", "bob@example.com"]
    assert listed["second"]["reads_restrictions"] is True  # an API token acts as its user
    text = cli("connections").stdout
    assert "ann@example.com" in text and "warning:" not in text

    refused = cli("connect", *login, "sandbox-token", "--name", "third", "--owner", "nobody")
    _assert_one_line_error(refused, "invalid owner email(s): nobody")
    names = [c["name"] for c in json.loads(cli("connections", "--json").stdout)]
    assert names == ["sandbox", "second"]
