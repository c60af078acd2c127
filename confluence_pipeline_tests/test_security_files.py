"""Security review finding 4: the home folder is private (0700); the key file and the SQLite
state database (with its WAL files) are 0600."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from confluence_pipeline.state import StateStore
from confluence_pipeline_tests.test_cli import BIN, Cli

LONG_KEY = "k" * 32


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_is_0700_and_key_and_state_files_are_0600(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    del cli.env["SECRET_KEY"]  # the key file is generated
    command = f"umask 022 && exec {BIN / 'confluence-pipeline'} connections --json"
    result = subprocess.run(
        ["sh", "-c", command], env=cli.env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    home = tmp_path / "home"
    assert _mode(home) == 0o700
    files = [home / name for name in ("secret.key", "state.db", "state.db-wal", "state.db-shm")]
    assert files[0].exists() and files[1].exists()
    assert {f.name: _mode(f) for f in files if f.exists()} == {
        f.name: 0o600 for f in files if f.exists()
    }


def test_an_existing_state_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    StateStore.open(f"sqlite:///{path}", LONG_KEY).close()
    assert _mode(path) == 0o600
