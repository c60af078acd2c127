"""Security review finding 5: secrets are masked before a message is cut to length, so a
secret straddling the cut never leaks its prefix."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from confluence_pipeline.confluence import ConfluenceClient, ConfluenceError, basic_auth
from confluence_pipeline.confluence.oauth import OAuthApp, OAuthError, refresh_tokens
from confluence_pipeline.llamacloud.errors import from_sdk
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.world import EMAIL


def test_llamacloud_errors_mask_a_secret_cut_by_the_length_limit() -> None:
    secret = "llx-" + "S" * 40
    for padding in range(240, 300):
        error = from_sdk(ValueError("x" * padding + secret + " rest"), "upsert", secrets=[secret])
        assert "llx-S" not in str(error), padding


class EchoingSite:
    """A stub that refuses every request with an error echoing the caller's secret after
    ``pad`` characters (the pad is the first path segment)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def app(self) -> Starlette:
        async def refuse(request: Request) -> JSONResponse:
            pad = int(request.url.path.split("/")[1].removeprefix("p"))
            echo = "x" * pad + self.secret + " is wrong"
            return JSONResponse({"message": echo, "error_description": echo}, status_code=400)

        return Starlette(routes=[Route("/{path:path}", refuse, methods=["GET", "POST"])])


def test_confluence_errors_mask_the_credentials_before_cutting_the_detail() -> None:
    token = "tok-" + "T" * 40
    with ServerThread(EchoingSite(token).app()) as site:
        for pad in range(120, 165, 3):
            client = ConfluenceClient(f"{site.url}/p{pad}", basic_auth(EMAIL, token))
            with client, pytest.raises(ConfluenceError) as failed:
                client.check_access()
            assert "tok-T" not in str(failed.value), pad


def test_oauth_errors_mask_the_refresh_token_before_cutting_the_detail() -> None:
    refresh = "rt-" + "R" * 40
    with ServerThread(EchoingSite(refresh).app()) as site:
        for pad in range(120, 165, 3):
            app = OAuthApp("cid", "client-secret-value", auth_url=f"{site.url}/p{pad}")
            with pytest.raises(OAuthError) as failed:
                refresh_tokens(app, refresh)
            assert "rt-R" not in str(failed.value), pad
