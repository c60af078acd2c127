"""The Dagster UI as the operator's console, driven in headless Chromium: a real
``dagster-webserver`` over a temp ``DAGSTER_HOME``, the sandboxes, and indexes made with the CLI.

Screenshots go to the test's temp folder; with ``CONFLUENCE_PIPELINE_SCREENSHOTS=docs`` (see
``make screenshots``) they are saved there too, for the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from confluence_pipeline.sandbox import confluence, llamacloud
from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.dagster_processes import Webserver
from confluence_pipeline_tests.test_cli import Cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES_PER_SPACE = 8
TOKEN = "sandbox-token"
ASSETS = ("confluence_spaces", "confluence_pages", "markdown_documents", "llamacloud_uploads")
LOCATION_NAME = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"
RUN_TIMEOUT_MS = 240_000
UI_TIMEOUT_MS = 60_000
LAUNCH_TIMEOUT_MS = 120_000  # the webserver asks the code server to start the run
# No daemon here: runs launched from the UI go straight to the default run launcher.
INSTANCE_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""


@dataclass
class Console:
    web: Webserver
    wiki_url: str
    cloud: LlamaCloudAdmin
    spaces: list[str]
    shots: Path


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """Indexes ``docs`` (both spaces) and ``team`` (the first only), so the partition grid holds
    one pair no index configures: ``team|<second space>``."""
    tmp = tmp_path_factory.mktemp("ui")
    wiki_app = confluence.create_app(spaces=2, pages_per_space=PAGES_PER_SPACE, seed=3)
    with ServerThread(wiki_app) as wiki, ServerThread(llamacloud.create_app()) as cloud:
        (tmp / "dagster").mkdir()
        (tmp / "dagster" / "dagster.yaml").write_text(INSTANCE_YAML)
        cli = Cli(
            tmp / "home",
            {
                "DAGSTER_HOME": str(tmp / "dagster"),
                "LLAMA_CLOUD_API_KEY": "sandbox-key",
                "LLAMA_CLOUD_PROJECT_ID": "sandbox-project",
                "LLAMA_CLOUD_BASE_URL": cloud.url,
            },
        )
        spaces = [space["key"] for space in ConfluenceAdmin(wiki.url).spaces()]
        for args in (
            ("connect", "--site", wiki.url, "--email", "demo@example.com", "--api-token", TOKEN),
            ("index", "create", "docs", "--spaces", ",".join(spaces)),
            ("index", "create", "team", "--spaces", spaces[0]),
        ):
            done = cli(*args)
            assert done.returncode == 0, done.stderr
        with Webserver(cli.env, tmp / "webserver.log") as web:
            assert isinstance(web, Webserver)
            web.wait_ready()
            yield Console(web, wiki.url, LlamaCloudAdmin(cloud.url), spaces, tmp)


@pytest.fixture
def page(browser_page: Any) -> Page:
    browser_page.set_viewport_size({"width": 1400, "height": 900})
    browser_page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)  # a loaded machine renders slowly
    return browser_page  # type: ignore[no-any-return]


def _screenshot(page: Page, console: Console, name: str) -> None:
    page.screenshot(path=console.shots / name)
    if folder := os.environ.get("CONFLUENCE_PIPELINE_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(folder) / name)


def _launch_from_the_ui(page: Page, console: Console, index: str, space: str) -> str:
    """Materialize all… on the asset graph, one (index, space) picked in the partition dialog;
    returns the launched run's path from the toast."""
    page.goto(f"{console.web.url}/asset-groups")
    page.get_by_role("button", name="Materialize all…").click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    for key in (index, space):
        dialog.get_by_text("Select a partition or create one").first.click()
        page.get_by_placeholder("Filter partitions").fill(key)
        page.locator("label").filter(has=page.get_by_text(key, exact=True)).first.click()
        page.keyboard.press("Escape")
    expect(dialog).to_contain_text("1 partition")
    dialog.get_by_role("button", name="Launch 1 run").click()
    view = page.get_by_role("link", name="View", exact=True)
    run_path = re.compile(r"^/runs/[0-9a-f-]{36}$")
    expect(view).to_have_attribute("href", run_path, timeout=LAUNCH_TIMEOUT_MS)
    return str(view.get_attribute("href"))


def _open_run(page: Page, console: Console, path: str, status: str) -> None:
    page.goto(f"{console.web.url}{path}")
    expect(page.get_by_text(status, exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)


def test_partitions_page_shows_the_index_and_space_keys(page: Page, console: Console) -> None:
    page.goto(f"{console.web.url}/assets/llamacloud_uploads?view=partitions")

    expect(page.get_by_placeholder("Filter by index…")).to_be_visible()
    expect(page.get_by_placeholder("Filter by space…")).to_be_visible()
    for key in ("docs", "team", *console.spaces):
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    expect(page.get_by_text("4 Partitions Selected")).to_be_visible()


def test_a_partition_materialized_from_the_ui_shows_its_metadata(
    page: Page, console: Console
) -> None:
    space = console.spaces[0]

    run = _launch_from_the_ui(page, console, "docs", space)
    _open_run(page, console, run, "Success")
    expect(page.get_by_text(f"partition: docs|{space}")).to_be_visible()

    page.goto(f"{console.web.url}/assets/llamacloud_uploads?view=partitions&partition=docs|{space}")
    uploaded = page.locator("tr").filter(has_text="documents_uploaded")
    expect(uploaded).to_contain_text(str(PAGES_PER_SPACE))
    expect(page.locator("tr").filter(has_text="pages_failed")).to_contain_text("0")
    _screenshot(page, console, "materialization.png")
    page.locator("tr").filter(has_text="uploaded_pages").get_by_text("[Show Markdown]").click()
    table = page.get_by_role("dialog").filter(has_text="uploaded_pages")
    links = table.locator(f'a[href^="{console.wiki_url}/wiki/spaces/{space}/pages/"]')
    expect(links).to_have_count(PAGES_PER_SPACE)
    _screenshot(page, console, "changed-pages.png")

    page.goto(f"{console.web.url}/assets/llamacloud_uploads?view=checks")
    page.get_by_text("uploads_succeeded", exact=True).first.click()
    expect(page.get_by_text("Passed").first).to_be_visible()
    expect(page.get_by_text(f"docs|{space}").first).to_be_visible()  # checks are per partition
    [pipeline] = [p for p in console.cloud.pipelines() if p["name"] == "confluence-docs"]
    assert len(console.cloud.documents(pipeline["id"])) == PAGES_PER_SPACE


def test_a_failing_run_shows_its_error(page: Page, console: Console) -> None:
    unconfigured = console.spaces[1]  # index team covers only the first space

    run = _launch_from_the_ui(page, console, "team", unconfigured)
    _open_run(page, console, run, "Failure")

    message = f"space '{unconfigured}' is not configured for index 'team'"
    expect(page.get_by_text(message).first).to_be_visible()
    expect(page.get_by_text(f"partition: team|{unconfigured}")).to_be_visible()
    _screenshot(page, console, "failed-run.png")


def test_asset_graph_shows_the_four_assets(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 1400, "height": 600})
    location = console.web.graphql(LOCATION_NAME)["workspaceOrError"]["locationEntries"][0]["name"]
    page.goto(f"{console.web.url}/locations/{location}/asset-groups/confluence_sync/lineage")

    nodes = page.locator("svg foreignObject")
    for asset in ASSETS:
        expect(nodes.filter(has_text=asset)).to_have_count(1)
    expect(nodes).to_have_count(len(ASSETS))
    _screenshot(page, console, "asset-graph.png")
