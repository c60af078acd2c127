"""`confluence-pipeline mcp` as a client starts it: over stdio (the SDK's stdio client spawns
it) and over streamable HTTP (a child process on a free port), with its environment from
``world.environment()``; and the command's refusals, one `error:` line each."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from confluence_pipeline.sandbox.server import free_port
from confluence_pipeline_tests.mcp_harness import (
    BIN,
    http_session,
    stdio_session,
    structured,
    text_of,
    wait_for_port,
)
from confluence_pipeline_tests.test_cli import Cli, _assert_one_line_error
from confluence_pipeline_tests.test_mcp_readme import resolve, stdio_server
from confluence_pipeline_tests.world import API_KEY, PROJECT, World

TOKEN = "cli-mcp-token-0123456789abcdef"
PHRASE = "narwhal-cobalt-6620"


pytestmark = [pytest.mark.sandbox(pages_per_space=8), pytest.mark.slow]


@pytest.fixture
def world(world: World) -> World:
    """The shared world, with a second index over the second space."""
    world.create_index("other", spaces=world.space_keys[1:])
    return world


def _env(world: World, home: Path, **extra: str) -> dict[str, str]:
    return {**world.environment(), "CONFLUENCE_PIPELINE_HOME": str(home), **extra}


def test_the_readme_stdio_snippet_serves_the_tools(world: World, tmp_path: Path) -> None:
    space = world.space_keys[0]
    page_id = world.wiki.create_page(space, "Narwhal handbook", f"<p>{PHRASE} steps</p>")
    world.sync(space)
    version = world.wiki.edit_page(page_id, f"<p>{PHRASE} steps, edited-after-sync-17</p>")
    log = tmp_path / "server.log"

    # exactly as librechat.yaml says, ${VAR}s from this world's environment
    snippet = stdio_server()
    environment = world.environment()
    env = {name: resolve(value, environment) for name, value in snippet["env"].items()}
    env.update(
        LLAMA_CLOUD_BASE_URL=world.cloud_url, CONFLUENCE_PIPELINE_HOME=str(tmp_path / "home")
    )

    async def main() -> None:
        async with stdio_session(snippet["command"], snippet["args"], env, stderr=log) as session:
            tools = {tool.name for tool in (await session.list_tools()).tools}
            assert tools == {"search", "get_page", "list_indexes"}
            ambiguous = await session.call_tool("search", {"query": PHRASE})
            assert ambiguous.is_error and "pass `index`" in text_of(ambiguous)
            found = await session.call_tool("search", {"query": PHRASE, "index": "docs"})
            first = structured(found)["results"][0]
            assert (first["page_id"], first["space_key"]) == (page_id, space)
            assert text_of(found).splitlines()[2] == f"[1] Narwhal handbook — {first['url']}"
            bad = await session.call_tool("search", {"query": PHRASE, "top_k": -1, "index": "docs"})
            assert bad.is_error and "top_k" in text_of(bad)
            page = structured(await session.call_tool("get_page", {"page": first["url"]}))
            assert page["version"] == version and "edited-after-sync-17" in page["markdown"]
            listed = structured(await session.call_tool("list_indexes", {}))["indexes"]
            assert [index["name"] for index in listed] == ["docs", "other"]

    anyio.run(main)
    logged = log.read_text()
    assert "tools/call search: ok in" in logged and "tools/call search: tool error in" in logged
    assert "request=" in logged
    assert PHRASE not in logged and "narwhal" not in logged.lower()


def test_streamable_http_command_needs_the_bearer_token(world: World, tmp_path: Path) -> None:
    world.sync(world.space_keys[0])
    port = free_port()
    log = tmp_path / "server.log"
    env = _env(world, tmp_path / "home", CONFLUENCE_PIPELINE_MCP_TOKEN=TOKEN)
    command = [str(BIN / "confluence-pipeline"), "mcp", "--transport", "streamable-http"]
    with log.open("w") as errors:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--index", "docs,other"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            wait_for_port(port, lambda: server.poll() is None)
            url = f"http://127.0.0.1:{port}/mcp"

            async def main() -> None:
                statuses: list[int] = []
                refused = False
                try:
                    async with http_session(url, statuses=statuses):
                        pass
                except* MCPError:
                    refused = True
                assert refused and set(statuses) == {401}
                async with http_session(url, token=TOKEN) as session:
                    query = {"query": f"{PHRASE} page", "index": "docs"}
                    assert structured(await session.call_tool("search", query))["results"]
                    listed = structured(await session.call_tool("list_indexes", {}))
                    assert [index["name"] for index in listed["indexes"]] == ["docs", "other"]

            anyio.run(main)
        finally:
            server.terminate()
            server.wait()
    logged = log.read_text()
    assert f"at http://127.0.0.1:{port}/mcp (bearer token required)" in logged
    assert "POST /mcp -> 401" in logged and "POST /mcp -> 200" in logged
    assert "tools/call search: ok in" in logged
    assert TOKEN not in logged and PHRASE not in logged


def test_the_command_refuses_to_start_with_one_error_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    http = ("mcp", "--transport", "streamable-http")
    _assert_one_line_error(
        cli(*http, "--host", "0.0.0.0"),
        "error: --host 0.0.0.0 serves MCP beyond this machine: set CONFLUENCE_PIPELINE_MCP_TOKEN",
    )
    short = Cli(tmp_path / "home", {"CONFLUENCE_PIPELINE_MCP_TOKEN": "short"})
    _assert_one_line_error(
        short(*http, "--host", "0.0.0.0"), "CONFLUENCE_PIPELINE_MCP_TOKEN is too short"
    )
    cloud = {"LLAMA_CLOUD_API_KEY": API_KEY, "LLAMA_CLOUD_PROJECT_ID": PROJECT}
    _assert_one_line_error(
        Cli(tmp_path / "home", cloud)("mcp", "--index", "nope"), "error: unknown index 'nope'"
    )
    _assert_one_line_error(cli("mcp"), "LLAMA_CLOUD_API_KEY")
    result = cli("mcp", "--transport", "sse")
    assert result.returncode == 2 and "'sse' is not one of" in result.stderr
