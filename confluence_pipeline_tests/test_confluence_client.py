"""The Confluence client against the emulator over real HTTP (MockTransport only for shapes the
emulator cannot produce)."""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from confluence_pipeline.confluence import (
    DEFAULT_TIMEOUT,
    ConfluenceAuthError,
    ConfluenceClient,
    ConfluenceError,
    ConfluenceNotFound,
    ConfluenceResponseError,
    ConfluenceUnavailable,
    RetryPolicy,
    RetryTransport,
    basic_auth,
)
from confluence_pipeline.confluence.ratelimit import Clamp, wait_seconds
from confluence_pipeline.sandbox.confluence import create_app
from confluence_pipeline.sandbox.server import ServerThread, free_port
from confluence_pipeline_tests.resilience import FakeClock

AUTH = basic_auth("demo@example.com", "sandbox-token")
FAST = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01)


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@pytest.fixture
def client(confluence_sandbox: ServerThread) -> Iterator[ConfluenceClient]:
    with ConfluenceClient(confluence_sandbox.url, AUTH, retry=FAST) as confluence:
        yield confluence


@pytest.fixture
def big_sandbox() -> Iterator[ServerThread]:
    with ServerThread(create_app(spaces=2, pages_per_space=300, seed=1)) as server:
        yield server


def _admin(server: ServerThread, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{server.url}{path}", json=body)
    response.raise_for_status()
    return response.json()


def _routes(server: ServerThread) -> dict[str, int]:
    return _admin(server, "GET", "/_sandbox/stats")["requests_by_route"]


def _retrying(server: ServerThread, clock: FakeClock, policy: RetryPolicy) -> ConfluenceClient:
    transport = RetryTransport(
        httpx.HTTPTransport(),
        policy=policy,
        sleep=clock.sleep,
        clock=clock.monotonic,
        rng=random.Random(0),
    )
    return ConfluenceClient(server.url, AUTH, transport=transport)


def test_listing_a_large_space_returns_every_page_once_in_few_requests(big_sandbox) -> None:
    with ConfluenceClient(big_sandbox.url, AUTH) as client:
        spaces = client.get_spaces(["ENG", "OPS"])
        _admin(big_sandbox, "POST", "/_sandbox/stats/reset")
        summaries = list(client.iter_pages(spaces["OPS"].id))
    ids = [s.id for s in summaries]
    assert len(ids) == 300 and len(set(ids)) == 300
    assert _routes(big_sandbox) == {"GET /wiki/api/v2/spaces/{id}/pages": math.ceil(300 / 250)}
    homepage = next(s for s in summaries if s.id == spaces["OPS"].homepage_id)
    assert homepage.parent_id is None and homepage.space_id == spaces["OPS"].id
    page = summaries[7]
    assert page.url.startswith(f"{big_sandbox.url}/wiki/spaces/OPS/pages/{page.id}/")
    assert page.last_modified.endswith("Z") and page.version >= 1
    assert page.author_id and page.author_id.startswith("557058:")


@pytest.mark.slow
def test_two_spaces_of_2000_pages_list_and_fetch_in_33_requests() -> None:
    with ServerThread(create_app(spaces=2, pages_per_space=2000, seed=5)) as server:
        with ConfluenceClient(server.url, AUTH) as client:
            spaces = client.get_spaces(["ENG", "OPS"])
            pages = [
                page
                for space in spaces.values()
                for page in client.get_pages([s.id for s in client.iter_pages(space.id)])
            ]
        assert len({p.summary.id for p in pages}) == 4000
        assert _routes(server) == {  # pages of 250 and batches of 250 ids: nothing per page
            "GET /wiki/api/v2/spaces": 1,
            "GET /wiki/api/v2/spaces/{id}/pages": 16,
            "GET /wiki/api/v2/pages": 16,
        }


def test_get_pages_batches_250_ids_and_returns_bodies(big_sandbox) -> None:
    with ConfluenceClient(big_sandbox.url, AUTH) as client:
        space = client.get_spaces(["ENG"])["ENG"]
        ids = [s.id for s in client.iter_pages(space.id)]
        _admin(big_sandbox, "POST", "/_sandbox/stats/reset")
        pages = client.get_pages(list(reversed(ids)))
    assert [p.summary.id for p in pages] == list(reversed(ids))
    assert all(f"page-{p.summary.id}" in p.storage for p in pages)
    assert _routes(big_sandbox) == {"GET /wiki/api/v2/pages": 2}


def test_trashed_and_purged_pages(client: ConfluenceClient, confluence_sandbox) -> None:
    space = client.get_spaces(["ENG"])["ENG"]
    ids = [s.id for s in client.iter_pages(space.id)]
    trashed, purged = ids[5], ids[6]
    _admin(confluence_sandbox, "DELETE", f"/_sandbox/pages/{trashed}")
    _admin(confluence_sandbox, "POST", f"/_sandbox/pages/{purged}/purge")

    listed = {s.id for s in client.iter_pages(space.id)}
    assert trashed not in listed and purged not in listed and len(listed) == 48
    fetched = {p.summary.id for p in client.get_pages(ids)}
    assert fetched == set(ids) - {trashed, purged}
    page = client.get_page(trashed)
    assert page is not None and page.summary.status == "trashed"
    assert client.get_page(purged) is None
    assert client.get_labels(purged) == [] and client.get_ancestors(purged) == []


def test_admin_edit_shows_as_new_version(client: ConfluenceClient, confluence_sandbox) -> None:
    space = client.get_spaces(["OPS"])["OPS"]
    before = list(client.iter_pages(space.id))[3]
    _admin(confluence_sandbox, "PUT", f"/_sandbox/pages/{before.id}", {"storage": "<p>new</p>"})
    after = client.get_page(before.id)
    assert after is not None
    assert after.summary.version == before.version + 1
    assert after.summary.last_modified > before.last_modified
    assert after.storage == "<p>new</p>"


def test_labels_ancestors_and_cloud_id(client: ConfluenceClient, confluence_sandbox) -> None:
    space = client.get_spaces(["HR"])["HR"]
    summaries = {s.id: s for s in client.iter_pages(space.id)}
    deep = next(s for s in summaries.values() if s.parent_id and s.parent_id != space.homepage_id)
    ancestors = client.get_ancestors(deep.id)
    assert ancestors[0] == space.homepage_id and ancestors[-1] == deep.parent_id
    assert client.get_labels(deep.id)
    tenant = httpx.get(f"{confluence_sandbox.url}/_edge/tenant_info").json()
    assert client.get_cloud_id() == tenant["cloudId"]
    assert client.get_spaces(["HR", "NOPE"]).keys() == {"HR"}


def test_unknown_space_is_not_found(client: ConfluenceClient) -> None:
    with pytest.raises(ConfluenceNotFound, match=r"GET /wiki/api/v2/spaces/1/pages -> 404"):
        list(client.iter_pages("1"))


def test_bad_credentials_raise_auth_error_without_secrets(confluence_sandbox) -> None:
    secret = "wrong-secret-token"
    with (
        ConfluenceClient(confluence_sandbox.url, basic_auth("demo@example.com", secret)) as client,
        pytest.raises(ConfluenceAuthError) as caught,
    ):
        client.get_spaces(["ENG"])
    message = str(caught.value)
    assert message.startswith("GET /wiki/api/v2/spaces -> 401")
    encoded = base64.b64encode(f"demo@example.com:{secret}".encode()).decode()
    assert secret not in message and encoded not in message and "\n" not in message
    assert "keys=" not in message and caught.value.status_code == 401


def test_gateway_url_shape_with_bearer_token() -> None:
    app = create_app(spaces=1, pages_per_space=260)
    state = app.state.sandbox
    with ServerThread(app) as server:
        gateway = f"{server.url}/ex/confluence/{state.site.cloud_id}"
        with (
            ConfluenceClient(gateway, Bearer("t-1")) as client,
            pytest.raises(ConfluenceAuthError),
        ):
            client.get_spaces(["ENG"])
        state.auth.bearer_tokens.add("t-1")
        with ConfluenceClient(gateway, Bearer("t-1")) as client:
            assert client.get_cloud_id() == state.site.cloud_id
            space = client.get_spaces(["ENG"])["ENG"]
            summaries = list(client.iter_pages(space.id))
            assert len(summaries) == 260
            assert summaries[0].url.startswith(f"{gateway}/wiki/spaces/ENG/pages/")
            assert len(client.get_pages([s.id for s in summaries])) == 260


def test_faults_are_retried_until_results_are_complete(big_sandbox) -> None:
    with ConfluenceClient(big_sandbox.url, AUTH) as client:
        spaces = client.get_spaces(["ENG", "OPS"])
        expected = {k: [s.id for s in client.iter_pages(v.id)] for k, v in spaces.items()}
        bodies = {p.summary.id: p.storage for p in client.get_pages(expected["ENG"])}
    _admin(big_sandbox, "POST", "/_sandbox/faults", {"rate": 0.5})
    clock = FakeClock()
    with _retrying(big_sandbox, clock, RetryPolicy(max_attempts=30)) as client:
        flaky = {k: [s.id for s in client.iter_pages(v.id)] for k, v in spaces.items()}
        flaky_bodies = {p.summary.id: p.storage for p in client.get_pages(expected["ENG"])}
        assert client.get_page(expected["OPS"][3]) is not None
    assert flaky == expected and flaky_bodies == bodies
    stats = _admin(big_sandbox, "GET", "/_sandbox/stats")
    assert stats["responses_429"] > 0 and len(clock.delays) > 3


def test_retry_after_is_a_floor_and_exhaustion_names_the_path(confluence_sandbox) -> None:
    _admin(
        confluence_sandbox, "POST", "/_sandbox/faults", {"rate": 1, "kinds": ["429_retry_after"]}
    )
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=4, base_delay=0.01)
    with (
        _retrying(confluence_sandbox, clock, policy) as client,
        pytest.raises(ConfluenceUnavailable) as caught,
    ):
        list(client.iter_pages("123"))
    assert len(clock.delays) == 3 and all(delay >= 1.0 for delay in clock.delays)
    message = str(caught.value)
    assert message.startswith("GET /wiki/api/v2/spaces/123/pages -> 429 Too Many Requests")
    assert "after 4 attempts" in message and caught.value.response is not None


def test_server_errors_exhaust_into_unavailable(confluence_sandbox) -> None:
    _admin(confluence_sandbox, "POST", "/_sandbox/faults", {"rate": 1, "kinds": ["500"]})
    clock = FakeClock()
    with (
        _retrying(confluence_sandbox, clock, RetryPolicy(max_attempts=3)) as client,
        pytest.raises(ConfluenceUnavailable, match=r"/wiki/api/v2/pages/42 -> 500 .*3 attempts"),
    ):
        client.get_page("42")


def test_connection_refused_is_unavailable_after_retries() -> None:
    clock = FakeClock()
    transport = RetryTransport(
        policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, clock=clock.monotonic
    )
    url = f"http://127.0.0.1:{free_port()}"
    with (
        ConfluenceClient(url, AUTH, transport=transport) as client,
        pytest.raises(ConfluenceUnavailable, match=r"GET /wiki/api/v2/spaces failed after 3"),
    ):
        client.get_spaces(["ENG"])
    assert len(clock.delays) == 2


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def _page_item(page_id: str, **overrides: Any) -> dict[str, Any]:
    item = {
        "id": page_id,
        "status": "current",
        "title": f"Page {page_id}",
        "spaceId": "9",
        "parentId": None,
        "authorId": "557058:x",
        "version": {"number": 2, "createdAt": "2024-01-01T00:00:00.000Z"},
        "body": {},
        "_links": {"webui": f"/spaces/X/pages/{page_id}/P"},
    }
    item.update(overrides)
    return item


def test_backoff_is_exponential_and_capped_without_jitter() -> None:
    answers = iter([503, 502, 429, 504, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        body = {"results": [], "_links": {"base": "https://x/wiki"}}
        return httpx.Response(status, json=body)

    clock = FakeClock()
    policy = RetryPolicy(base_delay=0.5, max_delay=2.0, jitter=False)
    transport = RetryTransport(_mock(handler), policy=policy, sleep=clock.sleep)
    with ConfluenceClient("https://x", AUTH, transport=transport) as client:
        assert client.get_spaces(["A"]) == {}
    assert clock.delays == [0.5, 1.0, 2.0, 2.0]


def test_retry_after_beyond_the_budget_gives_up_at_once() -> None:
    clock = FakeClock()
    handler = lambda request: httpx.Response(429, headers={"Retry-After": "3600"})  # noqa: E731
    policy = RetryPolicy(total_budget=120)  # the 300 s the clamp leaves do not fit
    transport = RetryTransport(
        _mock(handler), policy=policy, sleep=clock.sleep, clock=clock.monotonic
    )
    with (
        ConfluenceClient("https://x", AUTH, transport=transport) as client,
        pytest.raises(ConfluenceUnavailable, match="429"),
    ):
        client.get_page("1")
    assert clock.delays == []


def test_retry_after_accepts_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    clamp = Clamp(0.0, 3600.0)
    assert wait_seconds("Thu, 01 Jan 2026 12:00:07 GMT", now=now, clamp=clamp) == 7.0
    assert wait_seconds("2", now=now, clamp=clamp) == 2.0
    assert wait_seconds("soon", now=now, clamp=clamp) is None


def test_writes_are_not_retried() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503)

    clock = FakeClock()
    transport = RetryTransport(_mock(handler), sleep=clock.sleep)
    with httpx.Client(transport=transport) as http:
        assert http.post("https://x/y").status_code == 503
    assert calls == ["POST"]


def test_malformed_json_and_missing_fields_name_the_problem() -> None:
    bad_json = _mock(lambda request: httpx.Response(200, text="<html>oops</html>"))
    with (
        ConfluenceClient("https://x", AUTH, transport=bad_json) as client,
        pytest.raises(ConfluenceResponseError, match=r"GET /wiki/api/v2/pages/1 -> 200: .*JSON"),
    ):
        client.get_page("1")

    item = _page_item("5", version={"createdAt": "2024-01-01T00:00:00.000Z"})
    body = {"results": [item], "_links": {"base": "https://x/wiki"}}
    missing = _mock(lambda request: httpx.Response(200, json=body))
    with (
        ConfluenceClient("https://x", AUTH, transport=missing) as client,
        pytest.raises(ConfluenceResponseError, match=r"'version\.number'"),
    ):
        list(client.iter_pages("9"))


def test_link_header_is_followed_and_a_repeated_cursor_is_an_error() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        cursor = request.url.params.get("cursor")
        page_id = "1" if cursor is None else "2"
        body = {"results": [_page_item(page_id)], "_links": {"base": "https://x/wiki"}}
        link = '</wiki/api/v2/spaces/9/pages?cursor=same&limit=250>; rel="next"'
        return httpx.Response(200, json=body, headers={"Link": link})

    with ConfluenceClient("https://x/ex/confluence/abc", AUTH, transport=_mock(handler)) as client:
        pages = client.iter_pages("9")
        assert [next(pages).id, next(pages).id] == ["1", "2"]
        with pytest.raises(ConfluenceError, match="repeated a paging cursor"):
            next(pages)
        assert client.get_cloud_id() == "abc"
    assert seen[1] == "https://x/ex/confluence/abc/wiki/api/v2/spaces/9/pages?cursor=same&limit=250"


def test_defaults_and_error_details() -> None:
    assert httpx.Timeout(30.0, connect=5.0) == DEFAULT_TIMEOUT
    body = {"errors": [{"status": 400, "code": "BAD_REQUEST", "title": "Bad", "detail": "x" * 500}]}
    handler = lambda request: httpx.Response(400, content=json.dumps(body))  # noqa: E731
    with (
        ConfluenceClient("https://x", AUTH, transport=_mock(handler)) as client,
        pytest.raises(ConfluenceError) as caught,
    ):
        client.get_labels("7")
    assert type(caught.value) is ConfluenceError
    assert str(caught.value).startswith("GET /wiki/api/v2/pages/7/labels -> 400 Bad Request: xxx")
    assert len(str(caught.value)) < 250
    with pytest.raises(ValueError):
        basic_auth("", "token")
