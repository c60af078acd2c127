"""Security review finding 3: the OAuth loopback callback answers a foreign ``state`` with 400
and keeps waiting for the real callback, so no other web page can abort `connect`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from confluence_pipeline_tests.oauth_world import read_consent_url, serve_oauth_sandbox
from confluence_pipeline_tests.test_oauth_cli import OAuthCli


def test_foreign_callbacks_are_refused_and_the_real_one_still_connects(tmp_path: Path) -> None:
    with serve_oauth_sandbox(spaces=1, pages_per_space=2) as sandbox:
        cli = OAuthCli(tmp_path / "home", sandbox)
        process = cli.start_connect("--timeout", "120")
        url = read_consent_url(process)
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        for forged in (
            {"code": "forged", "state": "not-ours"},
            {"error": "access_denied", "state": "not-ours"},
            {"code": "forged"},
        ):
            page = httpx.get(redirect, params=forged, timeout=30)
            assert page.status_code == 400 and "state mismatch" in page.text
        page = httpx.get(sandbox.decide(url), timeout=60)
        assert page.status_code == 200 and "Connected sandbox" in page.text
        code, out, err = cli.finish(process)
        assert code == 0, err
        assert "connected sandbox" in out
