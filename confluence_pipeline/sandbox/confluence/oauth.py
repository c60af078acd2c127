"""OAuth 2.0 (3LO) routes of the emulator: consent page, token endpoint, accessible resources.

``GET /authorize`` shows a consent page with Accept and Deny buttons (``POST /authorize``
redirects to the app's redirect URI with ``code`` and ``state``, or ``error=access_denied``);
``POST /oauth/token`` takes JSON or form bodies; ``GET /oauth/token/accessible-resources``
lists the emulated site (plus ``extra_sites`` listed-only sites whose API answers 404).

Admin (no auth, not counted): ``GET /_sandbox/oauth`` -> settings and token-endpoint counters,
``POST /_sandbox/oauth`` ``{"access_token_ttl"?, "refresh_leeway"?, "token_delay_ms"?}``,
``POST /_sandbox/oauth/expire`` (every access token expires now), ``POST
/_sandbox/oauth/revoke`` (every refresh token family dies).
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .oauth_grants import Grants, OAuthRefusal, extra_site_id
from .state import SandboxState

AUDIENCE = "api.atlassian.com"
_AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "scope", "state")


def oauth_routes(state: SandboxState, grants: Grants, *, extra_sites: int = 0) -> list[Route]:
    """The public OAuth routes and their admin routes, bound to ``grants``."""

    async def consent(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            _check_authorize(grants, params)
        except OAuthRefusal as refusal:
            return _page("Cannot authorize", refusal.description, status=400)
        sites = [state.site.cloud_id, *(f"extra site {n}" for n in range(1, extra_sites + 1))]
        return HTMLResponse(_consent_html(params, sites))

    async def decide(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        try:
            _check_authorize(grants, {**form, "response_type": "code", "audience": AUDIENCE})
        except OAuthRefusal as refusal:
            return _page("Cannot authorize", refusal.description, status=400)
        answer: dict[str, str]
        if form.get("decision") == "accept":
            scopes = tuple(form["scope"].split())
            answer = {"code": grants.issue_code(form["client_id"], form["redirect_uri"], scopes)}
        else:
            answer = {
                "error": "access_denied",
                "error_description": "User did not authorize the request",
            }
        if form.get("state"):
            answer["state"] = form["state"]
        separator = "&" if "?" in form["redirect_uri"] else "?"
        return RedirectResponse(form["redirect_uri"] + separator + urlencode(answer), 302)

    async def token(request: Request) -> Response:
        if grants.token_delay_ms:
            await asyncio.sleep(grants.token_delay_ms / 1000)
        try:
            return JSONResponse(grants.token(await _token_body(request)))
        except OAuthRefusal as refusal:
            return JSONResponse(refusal.body(), status_code=refusal.status)

    async def resources(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        scopes = grants.scopes_of(token.strip()) if scheme.lower() == "bearer" else None
        if scopes is None:
            return JSONResponse({"code": 401, "message": "Unauthorized"}, status_code=401)
        base = str(request.base_url).rstrip("/")
        sites = [_site(state.site.cloud_id, base, "sandbox", scopes)]
        for number in range(1, extra_sites + 1):
            cloud_id = extra_site_id(state.site.cloud_id, number)
            sites.append(_site(cloud_id, f"{base}/site-{number}", f"sandbox-{number}", scopes))
        return JSONResponse(sites)

    return [
        Route("/authorize", consent, methods=["GET"]),
        Route("/authorize", decide, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/token/accessible-resources", resources, methods=["GET"]),
        *_admin_routes(grants),
    ]


def _admin_routes(grants: Grants) -> list[Route]:
    def show() -> dict[str, Any]:
        return {**grants.settings(), **grants.stats()}

    async def get(request: Request) -> Response:
        return JSONResponse(show())

    async def configure(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            grants.configure(data)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(show())

    def action(fn: Callable[[], int], key: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return JSONResponse({key: fn()})

        return endpoint

    return [
        Route("/_sandbox/oauth", get, methods=["GET"]),
        Route("/_sandbox/oauth", configure, methods=["POST"]),
        Route(
            "/_sandbox/oauth/expire",
            action(grants.expire_access_tokens, "expired"),
            methods=["POST"],
        ),
        Route(
            "/_sandbox/oauth/revoke",
            action(grants.revoke_refresh_tokens, "revoked"),
            methods=["POST"],
        ),
    ]


def _check_authorize(grants: Grants, params: dict[str, str]) -> None:
    grants.check_client(params.get("client_id", ""))
    if params.get("response_type") != "code":
        raise OAuthRefusal(400, "unsupported_response_type", "response_type must be 'code'")
    if params.get("audience") != AUDIENCE:
        raise OAuthRefusal(400, "invalid_request", f"audience must be '{AUDIENCE}'")
    if not params.get("scope", "").split():
        raise OAuthRefusal(400, "invalid_scope", "scope is required")
    target = urlsplit(params.get("redirect_uri", ""))
    if target.scheme not in ("http", "https") or not target.hostname:
        raise OAuthRefusal(400, "invalid_request", "redirect_uri must be an absolute URL")


async def _token_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise OAuthRefusal(400, "invalid_request", "body must be JSON or a form") from None
    if not isinstance(data, dict):
        raise OAuthRefusal(400, "invalid_request", "body must be a JSON object")
    return data


def _site(cloud_id: str, url: str, name: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": cloud_id,
        "url": url,
        "name": name,
        "scopes": list(scopes),
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/a.png",
    }


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;color:#172b4d}"
    "button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem;border-radius:3px;"
    "border:1px solid #0052cc;cursor:pointer}#accept{background:#0052cc;color:#fff}"
    "#deny{background:#fff;color:#0052cc}code{background:#f4f5f7;padding:0 .2rem}"
)


def _consent_html(params: dict[str, str], sites: list[str]) -> str:
    scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in params["scope"].split())
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
        for name in _AUTHORIZE_FIELDS
    )
    site_list = ", ".join(html.escape(site) for site in sites)
    return (
        f"<!doctype html><html><head><title>Authorize app</title><style>{_STYLE}</style></head>"
        f"<body><h1>Authorize access to Confluence</h1>"
        f"<p>The app <code>{html.escape(params['client_id'])}</code> wants to access your "
        f"Atlassian account on: {site_list}.</p><p>It asks for these permissions:</p>"
        f'<ul>{scopes}</ul><form method="post" action="/authorize">{hidden}'
        '<button type="submit" id="accept" name="decision" value="accept">Accept</button>'
        '<button type="submit" id="deny" name="decision" value="deny">Deny</button>'
        "</form><p><small>Confluence Cloud emulator</small></p></body></html>"
    )


def _page(title: str, message: str, *, status: int) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)
