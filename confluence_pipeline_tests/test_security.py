"""Security review findings 1 and 2: the secret key (key file, length, rotation) and https-only
endpoints (settings, sites, clients, paging links). The others: ``test_security_*.py``."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from confluence_pipeline import settings as settings_module
from confluence_pipeline.confluence import ConfluenceClient, ConfluenceError, basic_auth
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.llamacloud import LlamaCloudSink
from confluence_pipeline.runtime.urls import InsecureURLError, require_https
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


# -- 2. https only -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.atlassian.net",
        "https://api.atlassian.com/ex/confluence/abc",
        "http://127.0.0.1:8790",
        "http://127.12.0.3",
        "http://localhost:8791/",
        "http://LOCALHOST",
        "http://[::1]:8790",
    ],
)
def test_https_or_loopback_urls_pass(url: str) -> None:
    assert require_https(url, "SOME_URL") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.atlassian.net",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "http://10.0.0.8:8790",
        "ftp://acme.example",
        "acme.atlassian.net",
        "https://",
    ],
)
def test_plain_http_elsewhere_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(InsecureURLError) as refused:
        require_https(url, "SOME_URL")
    assert "SOME_URL must be an https:// URL" in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "read"),
    [
        ("LLAMA_CLOUD_BASE_URL", lambda s: s.llamacloud()),
        ("ATLASSIAN_API_URL", lambda s: s.oauth_app()),
        ("ATLASSIAN_AUTH_URL", lambda s: s.oauth_app()),
    ],
)
def test_settings_refuse_plain_http_endpoints(variable: str, read: Any) -> None:
    env = {"LLAMA_CLOUD_API_KEY": "k", "LLAMA_CLOUD_PROJECT_ID": "p"}
    read(Settings.from_env({**env, variable: "https://api.example.com"}))
    read(Settings.from_env({**env, variable: "http://127.0.0.1:8791"}))
    with pytest.raises(PipelineError, match=f"{variable} must be an https:// URL"):
        read(Settings.from_env({**env, variable: "http://api.example.com"}))


def test_connect_refuses_a_plain_http_site(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    result = cli("connect", "--site", "http://acme.invalid", "--email", EMAIL, "--api-token", "t")
    _assert_one_line_error(result, "--site must be an https:// URL")


def test_clients_refuse_plain_http_endpoints() -> None:
    with pytest.raises(InsecureURLError, match="Confluence base URL"):
        ConfluenceClient("http://acme.invalid", basic_auth(EMAIL, TOKEN))
    with pytest.raises(InsecureURLError, match="LLAMA_CLOUD_BASE_URL"):
        LlamaCloudSink("key", "project", base_url="http://cloud.invalid")


class StubSite:
    """A stub Confluence on loopback whose first space list points ``next`` wherever a test
    wants; every other request is recorded (path, Authorization) and gets an empty list."""

    def __init__(self, next_url: Callable[[str], str], *, header: bool = False) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self._next_url = next_url
        self._header = header

    def app(self) -> Starlette:
        async def anything(request: Request) -> JSONResponse:
            root = str(request.base_url).rstrip("/")
            if request.url.path == "/site/wiki/api/v2/spaces" and "c" not in request.query_params:
                target = self._next_url(root)
                links = {"base": f"{root}/site/wiki"} | ({} if self._header else {"next": target})
                headers = {"Link": f'<{target}>; rel="next"'} if self._header else {}
                return JSONResponse({"results": [], "_links": links}, headers=headers)
            self.requests.append((request.url.path, request.headers.get("authorization")))
            return JSONResponse({"results": [], "_links": {"base": f"{root}/wiki"}})

        return Starlette(routes=[Route("/{path:path}", anything)])


def _follow(site: StubSite, base_path: str = "/site") -> ConfluenceError:
    with ServerThread(site.app()) as wiki:
        client = ConfluenceClient(f"{wiki.url}{base_path}", basic_auth(EMAIL, TOKEN))
        with client, pytest.raises(ConfluenceError) as refused:
            client.get_spaces(["ENG"])
    assert TOKEN not in str(refused.value) and "paging link" in str(refused.value)
    return refused.value


@pytest.mark.parametrize("header", [False, True], ids=["links-next", "link-header"])
def test_paging_never_follows_a_link_to_another_origin(header: bool) -> None:
    elsewhere = StubSite(lambda _root: "")
    with ServerThread(elsewhere.app()) as listener:
        site = StubSite(lambda _root: f"{listener.url}/site/wiki/api/v2/spaces?c=1", header=header)
        error = _follow(site)
    assert listener.url.removeprefix("http://") in str(error)
    assert elsewhere.requests == []  # the credentials never went there


@pytest.mark.parametrize(
    "next_url",
    [
        lambda root: f"{root}/other-cloud/wiki/api/v2/spaces?c=1",
        lambda root: f"{root}/site/../other-cloud/wiki/api/v2/spaces?c=1",
        lambda root: "/../other-cloud/wiki/api/v2/spaces?c=1",
        lambda root: "/%2e%2e/other-cloud/wiki/api/v2/spaces?c=1",
        lambda root: "https:" + root.removeprefix("http:") + "/site/wiki/api/v2/spaces?c=1",
    ],
    ids=["other-prefix", "dot-segments", "relative-dots", "encoded-dots", "other-scheme"],
)
def test_paging_never_leaves_the_base_path_or_scheme(next_url: Callable[[str], str]) -> None:
    site = StubSite(next_url)
    _follow(site)
    assert site.requests == []
