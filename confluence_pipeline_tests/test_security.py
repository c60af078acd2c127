"""The security review's findings, each pinned by a test: key handling, https only, the OAuth
callback's state check, file modes, masking before truncation, CQL escaping, body bounds."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from confluence_pipeline import settings as settings_module
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.settings import Settings, SettingsError
from confluence_pipeline.state.crypto import TokenCipher
from confluence_pipeline_tests.test_cli import Cli, _assert_one_line_error
from confluence_pipeline_tests.world import EMAIL, TOKEN

LONG_KEY = "k" * 32
DIFFERS = "cannot decrypt credentials: SECRET_KEY differs"

# -- 1. the secret key ---------------------------------------------------------------------------


def _local(home: Path, **env: str) -> Settings:
    return Settings.from_env({"CONFLUENCE_PIPELINE_HOME": str(home), **env})


def test_generated_key_file_appears_whole_and_first_writer_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    key_file = home / "secret.key"
    generate = settings_module.secrets.token_urlsafe
    seen_meanwhile: list[str] = []

    def racing_generate(nbytes: int) -> str:
        # another process asks for the key while this one is still writing it
        if not seen_meanwhile:
            seen_meanwhile.append(key_file.read_text() if key_file.exists() else "<absent>")
            seen_meanwhile.append(_local(home).secret_key())
        return generate(nbytes)

    monkeypatch.setattr(settings_module.secrets, "token_urlsafe", racing_generate)
    key = _local(home).secret_key()

    absent_or_whole, other_process_key = seen_meanwhile
    assert absent_or_whole == "<absent>" or len(absent_or_whole) >= 32
    assert len(key) >= 32 and other_process_key == key == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in home.iterdir()] == ["secret.key"]  # no temp file left behind
    assert _local(home).secret_key() == key


@pytest.mark.parametrize("content", ["", "\n", "too-short"])
def test_empty_or_short_key_file_is_refused_naming_it(tmp_path: Path, content: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.key").write_text(content)
    with pytest.raises(SettingsError) as refused:
        _local(home).secret_key()
    message = str(refused.value)
    assert str(home / "secret.key") in message and "delete it" in message
    assert (home / "secret.key").read_text() == content  # left for the operator to inspect


def test_short_secret_key_is_refused_with_how_to_generate_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        _local(tmp_path, SECRET_KEY="only-twenty-chars-xx").secret_key()
    message = str(refused.value)
    assert "SECRET_KEY" in message and "at least 32" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert "only-twenty-chars-xx" not in message
    assert _local(tmp_path, SECRET_KEY=LONG_KEY).secret_key() == LONG_KEY


def test_empty_cipher_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        TokenCipher("")


def _connect(cli: Cli, wiki: str, name: str) -> None:
    connected = cli(
        "connect", "--site", wiki, "--name", name, "--email", EMAIL, "--api-token", TOKEN
    )
    assert connected.returncode == 0, connected.stderr


def _health(cli: Cli, key: str) -> dict[str, str]:
    cli.env["SECRET_KEY"] = key
    listing = cli("connections", "--json")
    assert listing.returncode == 0, listing.stderr
    return {c["name"]: c["health"] for c in json.loads(listing.stdout)}


def test_secret_rotate_reencrypts_every_connection_in_one_transaction(
    tmp_path: Path, confluence_sandbox: ServerThread
) -> None:
    old, new, stray = "old-key-" + "o" * 32, "new-key-" + "n" * 32, "stray-key-" + "s" * 32
    cli = Cli(tmp_path / "home")
    cli.env["SECRET_KEY"] = old
    _connect(cli, confluence_sandbox.url, "first")
    _connect(cli, confluence_sandbox.url, "second")
    cli.env["SECRET_KEY"] = stray
    _connect(cli, confluence_sandbox.url, "stray")  # saved under another key

    cli.env.update(SECRET_KEY=new, OLD_SECRET_KEY=old)
    refused = cli("secret", "rotate", "--old-key-env", "OLD_SECRET_KEY")
    _assert_one_line_error(refused, "error:", "stray", "OLD_SECRET_KEY")
    assert old not in refused.stderr and new not in refused.stderr
    assert _health(cli, old) == {"first": "ok", "second": "ok", "stray": DIFFERS}  # untouched

    cli.env["SECRET_KEY"] = stray
    assert cli("disconnect", "stray").returncode == 0
    cli.env["SECRET_KEY"] = new
    _assert_one_line_error(cli("secret", "rotate", "--old-key-env", "UNSET_KEY"), "UNSET_KEY")

    rotated = cli("secret", "rotate", "--old-key-env", "OLD_SECRET_KEY")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 2 connection secrets" in rotated.stdout
    assert old not in rotated.stdout + rotated.stderr and new not in rotated.stdout
    assert _health(cli, new) == {"first": "ok", "second": "ok"}
