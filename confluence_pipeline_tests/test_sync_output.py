"""`sync` in a terminal shows live progress per space and a boxed summary table; in CI or in a
pipe it prints plain lines. The terminal is a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from confluence_pipeline.sandbox.admin import ConfluenceAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.test_cli import BIN, Cli

pytestmark = pytest.mark.slow

TIMEOUT_S = 300.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _in_terminal(cli: Cli, *args: str) -> tuple[int, str]:
    """Runs the CLI with stdin/stdout/stderr on a 160x50 pseudo-terminal; returns its exit code
    and everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**cli.env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
    process = subprocess.Popen(
        [str(BIN / "confluence-pipeline"), *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer has exited
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def cli(tmp_path: Path, confluence_sandbox: ServerThread, llamacloud_sandbox: ServerThread) -> Cli:
    cli = Cli(tmp_path / "home")
    keys = [space["key"] for space in ConfluenceAdmin(confluence_sandbox.url).spaces()][:2]
    assert (
        cli(
            "connect",
            "--site",
            confluence_sandbox.url,
            "--email",
            "demo@example.com",
            "--api-token",
            "sandbox-token",
        ).returncode
        == 0
    )
    assert cli("index", "create", "docs", "--spaces", ",".join(keys)).returncode == 0
    cli.env.update(
        LLAMA_CLOUD_API_KEY="sandbox-key",
        LLAMA_CLOUD_PROJECT_ID="sandbox-project",
        LLAMA_CLOUD_BASE_URL=llamacloud_sandbox.url,
    )
    cli.env.pop("CI", None)
    cli.keys = keys  # type: ignore[attr-defined]
    return cli


def test_sync_in_a_terminal_shows_progress_per_space_and_a_table(cli: Cli) -> None:
    first, second = cli.keys  # type: ignore[attr-defined]

    code, output = _in_terminal(cli, "sync", "docs")

    assert code == 0, output
    assert "\x1b[" in output  # styled, live output
    text = ANSI.sub("", output)
    for space in (first, second):
        assert f"✓ docs / {space}" in text
    assert "50 uploaded, 0 deleted, 0 failed" in text
    assert "┃ index" in text and "Sync of docs" in text  # a boxed summary table
    assert "syncing docs /" not in text


def test_sync_in_ci_or_a_pipe_prints_plain_lines(cli: Cli) -> None:
    first, _ = cli.keys  # type: ignore[attr-defined]
    cli.env["CI"] = "true"

    code, output = _in_terminal(cli, "sync", "docs", "--space", first)

    assert code == 0, output
    assert "✓" not in output and "┃" not in output
    assert f"syncing docs / {first} ...\n" in output
    assert f"docs / {first}: ok, 50 uploaded, 0 deleted, 0 failed\n" in output
    assert "index\tspace\tstatus" in output

    del cli.env["CI"]
    piped = cli("sync", "docs", "--space", first)
    assert piped.returncode == 0, piped.stderr
    assert f"docs / {first}: ok, unchanged (50 pages), no run" in piped.stdout
    assert "\x1b[" not in piped.stdout and "index\tspace\tstatus" in piped.stdout
