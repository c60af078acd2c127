"""The README's LibreChat snippets name the real command, flags, variables and URL path (the
stdio one is also started as written: test_mcp_cli.py)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml

from confluence_pipeline.cli.mcp import mcp as mcp_command
from confluence_pipeline.mcp.http import MCP_PATH, TOKEN_ENV

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## LibreChat (MCP server)"
_VARIABLE = re.compile(r"^\$\{([A-Z0-9_]+)\}$")


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n{SECTION}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def librechat_configs() -> list[dict[str, Any]]:
    """The ``librechat.yaml`` snippets of the section, parsed, in order."""
    blocks = re.findall(r"```yaml\n(.*?)```", section(), flags=re.DOTALL)
    return [yaml.safe_load(block) for block in blocks]


def stdio_server() -> dict[str, Any]:
    return dict(librechat_configs()[0]["mcpServers"]["confluence"])


def resolve(value: str, environment: dict[str, str]) -> str:
    """A ``${VAR}`` value as LibreChat substitutes it."""
    match = _VARIABLE.match(value)
    assert match, f"{value!r} is not a ${{VAR}} reference"
    return environment[match.group(1)]


def _options(args: list[str]) -> dict[str, Any]:
    assert args[0] == "mcp", args
    context = mcp_command.make_context("mcp", list(args[1:]))
    return dict(context.params)


def test_the_stdio_snippet_runs_the_real_command_with_the_variables_it_reads() -> None:
    server = stdio_server()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert server["type"] == "stdio" and server["command"] in scripts
    assert _options(server["args"])["transport"] == "stdio"
    settings = (ROOT / "confluence_pipeline" / "settings.py").read_text()
    env = server["env"]
    required = {
        "CONFLUENCE_PIPELINE_DATABASE_URL",
        "SECRET_KEY",
        "LLAMA_CLOUD_API_KEY",
        "LLAMA_CLOUD_PROJECT_ID",
    }
    assert required <= set(env)
    for name, value in env.items():
        assert f'"{name}"' in settings, f"{name} is not read by Settings"
        assert resolve(value, {name: "x"}) == "x", f"{name} should be passed as ${{{name}}}"
    assert server["initTimeout"] >= 30000


def test_the_http_snippet_names_the_path_the_token_and_the_allowed_address() -> None:
    config = librechat_configs()[1]
    server = config["mcpServers"]["confluence"]
    assert server["type"] == "streamable-http"
    url = urlsplit(server["url"])
    assert url.scheme == "http" and url.path == MCP_PATH
    assert server["headers"] == {"Authorization": f"Bearer ${{{TOKEN_ENV}}}"}
    assert server["requiresOAuth"] is False
    assert f"{url.hostname}:{url.port}" in config["mcpSettings"]["allowedAddresses"]
    assert f"http://{url.hostname}:{url.port}" in " ".join(section().split())
    # the server command the section documents serves exactly there
    commands = re.findall(r"`(confluence-pipeline mcp[^`]*)`", " ".join(section().split()))
    served = [_options(shlex.split(c)[1:]) for c in commands if "streamable-http" in c]
    assert served and all(
        (o["transport"], o["host"], o["port"]) == ("streamable-http", "0.0.0.0", url.port)
        for o in served
    )


def test_the_documented_usage_is_the_commands() -> None:
    usage = "confluence-pipeline mcp [--transport stdio|streamable-http] [--host 127.0.0.1] "
    usage += "[--port 8002] [--index NAME ...]"
    assert usage in section()
    assert usage in (ROOT / "README.md").read_text().split(SECTION)[0]  # in the CLI block too
    defaults = {p.name: p.default for p in mcp_command.params if isinstance(p, click.Option)}
    assert (defaults["transport"], defaults["host"], defaults["port"]) == (
        "stdio",
        "127.0.0.1",
        8002,
    )
    transport = next(p for p in mcp_command.params if p.name == "transport")
    assert isinstance(transport.type, click.Choice)
    assert list(transport.type.choices) == ["stdio", "streamable-http"]
