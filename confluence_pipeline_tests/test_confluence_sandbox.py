"""The Confluence Cloud emulator speaks the real API shapes over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from lxml import etree

from confluence_pipeline.sandbox.confluence import SandboxState, create_app, model
from confluence_pipeline.sandbox.confluence.storage import render_storage
from confluence_pipeline.sandbox.server import ServerThread

AUTH = ("demo@example.com", "sandbox-token")
NS = 'xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource"'


@pytest.fixture
def api(confluence_sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=confluence_sandbox.url, auth=AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def admin(confluence_sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=confluence_sandbox.url, timeout=10) as client:
        yield client


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., ServerThread]]:
    servers: list[ServerThread] = []

    def start(**kwargs: Any) -> ServerThread:
        server = ServerThread(create_app(**kwargs)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _space_id(api: httpx.Client, key: str) -> str:
    return api.get("/wiki/api/v2/spaces", params={"keys": key}).json()["results"][0]["id"]


def _all_pages(api: httpx.Client, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, Any] | None = params
    while next_url:
        response = api.get(next_url, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["results"]
        next_url, query = body["_links"].get("next"), None
        if next_url:
            assert response.headers["Link"] == f'<{next_url}>; rel="next"'
        else:
            assert "Link" not in response.headers
    return items


def test_spaces_have_keys_string_ids_and_homepages(api: httpx.Client, confluence_sandbox) -> None:
    body = api.get("/wiki/api/v2/spaces").json()
    assert [s["key"] for s in body["results"]] == ["ENG", "OPS", "HR"]
    space = body["results"][0]
    assert set(space) >= {"id", "key", "name", "type", "status", "authorId", "createdAt"}
    assert isinstance(space["id"], str) and space["id"].isdigit()
    assert space["authorId"].startswith("557058:")
    assert space["createdAt"].endswith("Z") and len(space["createdAt"]) == 24
    assert body["_links"] == {"base": f"{confluence_sandbox.url}/wiki"}
    one = api.get(f"/wiki/api/v2/spaces/{space['id']}").json()
    assert one["homepageId"] == space["homepageId"]


def test_space_pages_page_through_link_header_and_next(api: httpx.Client) -> None:
    space_id = _space_id(api, "OPS")
    first = api.get(f"/wiki/api/v2/spaces/{space_id}/pages", params={"limit": 20})
    assert first.json()["_links"]["next"].startswith(f"/wiki/api/v2/spaces/{space_id}/pages?")
    pages = _all_pages(api, f"/wiki/api/v2/spaces/{space_id}/pages", {"limit": 20})
    ids = [p["id"] for p in pages]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert ids == sorted(ids, key=int)
    page = pages[1]
    assert page["body"] == {} and page["spaceId"] == space_id
    assert page["parentType"] == "page" and page["version"]["number"] >= 1
    assert page["_links"]["webui"].startswith(f"/spaces/OPS/pages/{page['id']}/")
    assert set(page["_links"]) == {"webui", "editui", "tinyui"}
    assert pages[0]["parentId"] is None  # the homepage is the root


def test_list_bodies_only_with_supported_body_format(api: httpx.Client) -> None:
    space_id = _space_id(api, "ENG")
    url = f"/wiki/api/v2/spaces/{space_id}/pages"
    with_body = api.get(url, params={"body-format": "storage", "limit": 3}).json()["results"]
    assert all(p["body"]["storage"]["representation"] == "storage" for p in with_body)
    adf = api.get(url, params={"body-format": "atlas_doc_format", "limit": 1}).json()
    assert adf["results"][0]["body"]["atlas_doc_format"]["value"].startswith('{"type": "doc"')
    assert api.get(url, params={"body-format": "view"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/wiki/api/v2/spaces", {"limit": "0"}),
        ("/wiki/api/v2/spaces", {"limit": "251"}),
        ("/wiki/api/v2/pages", {"limit": "ten"}),
        ("/wiki/api/v2/pages", {"id": ",".join(str(i) for i in range(1, 252))}),
        ("/wiki/api/v2/pages", {"id": "12,abc"}),
        ("/wiki/api/v2/pages/abc", {}),
        ("/wiki/api/v2/spaces/x1/pages", {}),
        ("/wiki/api/v2/pages", {"cursor": "not-a-cursor!"}),
        ("/wiki/api/v2/pages", {"status": "bogus"}),
    ],
)
def test_bad_parameters_are_400_with_error_body(
    api: httpx.Client, path: str, params: dict[str, str]
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["status"] == 400 and error["code"] == "BAD_REQUEST" and error["detail"]


def test_unknown_objects_are_404_with_error_body(api: httpx.Client) -> None:
    response = api.get("/wiki/api/v2/pages/1")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]
    }
    assert api.get("/wiki/api/v2/spaces/1").status_code == 404
    assert api.get("/wiki/api/v2/nothing-here").json()["errors"][0]["status"] == 404


def test_single_page_has_storage_body_and_base_link(api: httpx.Client, confluence_sandbox) -> None:
    space_id = _space_id(api, "HR")
    listed = api.get(f"/wiki/api/v2/spaces/{space_id}/pages", params={"limit": 5}).json()
    page_id = listed["results"][4]["id"]
    page = api.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}).json()
    assert page["_links"]["base"] == f"{confluence_sandbox.url}/wiki"
    assert set(page["_links"]) == {"webui", "editui", "tinyui", "base"}
    assert f"page-{page_id}" in page["body"]["storage"]["value"]


def test_every_generated_body_is_wellformed_and_mentions_its_page(api: httpx.Client) -> None:
    pages = _all_pages(api, "/wiki/api/v2/pages", {"body-format": "storage", "limit": 250})
    assert len(pages) == 150
    seen_features: set[str] = set()
    features = {
        "code": 'ac:name="code"',
        "cdata": "<![CDATA[",
        "panel": "<ac:rich-text-body>",
        "expand": 'ac:name="expand"',
        "status": 'ac:name="status"',
        "page link": "<ri:page ri:content-title=",
        "mention": "<ri:user ri:account-id=",
        "task": "<ac:task-status>",
        "image": "<ri:attachment ri:filename=",
        "time": "<time datetime=",
        "emoticon": "<ac:emoticon",
        "table header": "<th>",
        "colspan": "colspan=",
        "nested list": "<li><p>",
        "layout": "<ac:layout>",
        "external link": '<a href="https://',
    }
    for page in pages:
        storage = page["body"]["storage"]["value"]
        assert 1000 <= len(storage.encode()) <= 10_500
        root = etree.fromstring(f"<root {NS}>{storage}</root>".encode())
        assert page["title"] in "".join(root.itertext())
        assert f"page-{page['id']}" in storage
        seen_features |= {name for name, marker in features.items() if marker in storage}
    assert seen_features == set(features)


def test_same_seed_gives_same_site(sandbox_factory: Callable[..., ServerThread]) -> None:
    first, second = sandbox_factory(seed=7), sandbox_factory(seed=7)
    other = sandbox_factory(seed=8)

    def snapshot(server: ServerThread) -> list[Any]:
        with httpx.Client(base_url=server.url, auth=AUTH) as client:
            pages = _all_pages(client, "/wiki/api/v2/pages", {"body-format": "storage"})
            cloud = client.get("/_edge/tenant_info").json()["cloudId"]
        for page in pages:
            page["_links"].pop("base", None)
        return [cloud, pages]

    assert snapshot(first) == snapshot(second)
    assert snapshot(first) != snapshot(other)


def test_trashed_pages_leave_lists_but_stay_readable(api: httpx.Client, admin) -> None:
    space_id = _space_id(api, "ENG")
    listing = api.get(f"/wiki/api/v2/spaces/{space_id}/pages", params={"limit": 10}).json()
    page_id = listing["results"][3]["id"]
    assert admin.delete(f"/_sandbox/pages/{page_id}").json()["status"] == "trashed"

    pages = _all_pages(api, f"/wiki/api/v2/spaces/{space_id}/pages", {"limit": 250})
    assert page_id not in {p["id"] for p in pages}
    assert api.get("/wiki/api/v2/pages", params={"id": page_id}).json()["results"] == []
    single = api.get(f"/wiki/api/v2/pages/{page_id}").json()
    assert single["status"] == "trashed"
    trash = api.get(f"/wiki/api/v2/spaces/{space_id}/pages", params={"status": "trashed"})
    assert [p["id"] for p in trash.json()["results"]] == [page_id]

    assert admin.post(f"/_sandbox/pages/{page_id}/purge").status_code == 200
    assert api.get(f"/wiki/api/v2/pages/{page_id}").status_code == 404
    assert api.get(f"/wiki/api/v2/pages/{page_id}/labels").status_code == 404
    assert admin.get(f"/_sandbox/pages/{page_id}").status_code == 404


def test_homepage_can_be_trashed_and_purged(api: httpx.Client, admin: httpx.Client) -> None:
    space = api.get("/wiki/api/v2/spaces", params={"keys": "OPS"}).json()["results"][0]
    home = space["homepageId"]
    assert admin.delete(f"/_sandbox/pages/{home}").status_code == 200
    assert admin.post(f"/_sandbox/pages/{home}/purge").status_code == 200
    assert api.get(f"/wiki/api/v2/spaces/{space['id']}").json()["homepageId"] is None
    url = f"/wiki/api/v2/spaces/{space['id']}/pages"
    roots = api.get(url, params={"depth": "root", "limit": 250}).json()["results"]
    assert len(roots) > 1 and all(p["parentId"] is None for p in roots)
    created = admin.post(
        "/_sandbox/pages", json={"space_key": "OPS", "title": "Orphan", "storage": "<p/>"}
    ).json()
    assert api.get(f"/wiki/api/v2/pages/{created['id']}").json()["parentId"] is None


def test_admin_create_edit_and_move(api: httpx.Client, admin: httpx.Client) -> None:
    spaces = {s["key"]: s for s in admin.get("/_sandbox/spaces").json()}
    assert spaces["ENG"]["pages"] == 50
    created = admin.post(
        "/_sandbox/pages",
        json={"space_key": "ENG", "title": "Fresh page", "storage": "<p>hello zebra</p>"},
    ).json()
    assert created["version"] == 1
    page = api.get(f"/wiki/api/v2/pages/{created['id']}", params={"body-format": "storage"})
    assert page.json()["body"]["storage"]["value"] == "<p>hello zebra</p>"
    homepage = api.get(f"/wiki/api/v2/spaces/{spaces['ENG']['id']}").json()["homepageId"]
    assert page.json()["parentId"] == homepage
    assert admin.get("/_sandbox/spaces").json()[0]["pages"] == 51

    before = page.json()["version"]["createdAt"]
    edited = admin.put(f"/_sandbox/pages/{created['id']}", json={"storage": "<p>v2</p>"}).json()
    assert edited == {"id": created["id"], "version": 2}
    after = api.get(f"/wiki/api/v2/pages/{created['id']}").json()["version"]
    assert after["number"] == 2 and after["createdAt"] > before

    moved = admin.post(f"/_sandbox/pages/{created['id']}/move", json={"space_key": "OPS"}).json()
    assert moved["version"] == 3
    record = admin.get(f"/_sandbox/pages/{created['id']}").json()
    assert (record["space_key"], record["version"], record["storage"]) == ("OPS", 3, "<p>v2</p>")
    assert api.get(f"/wiki/api/v2/pages/{created['id']}").json()["spaceId"] == spaces["OPS"]["id"]


def test_admin_edit_of_generated_page_regenerates_body(api: httpx.Client, admin) -> None:
    page_id = api.get("/wiki/api/v2/pages", params={"limit": 2}).json()["results"][1]["id"]
    old = admin.get(f"/_sandbox/pages/{page_id}").json()
    admin.put(f"/_sandbox/pages/{page_id}", json={"title": "Renamed & improved"})
    new = admin.get(f"/_sandbox/pages/{page_id}").json()
    assert new["version"] == old["version"] + 1
    assert "Renamed &amp; improved" in new["storage"] and new["storage"] != old["storage"]


def test_admin_rejects_bad_input(admin: httpx.Client) -> None:
    missing_space = {"space_key": "NOPE", "title": "t", "storage": ""}
    assert admin.post("/_sandbox/pages", json=missing_space).status_code == 404
    assert admin.post("/_sandbox/pages", json={"title": "t"}).status_code == 400
    assert admin.put("/_sandbox/pages/1", json={}).status_code == 404
    assert admin.post("/_sandbox/faults", json={"rate": 2}).status_code == 400
    assert admin.post("/_sandbox/faults", json={"kinds": ["teapot"]}).status_code == 400


def test_ancestors_children_and_labels(api: httpx.Client) -> None:
    pages = _all_pages(api, "/wiki/api/v2/pages", {"limit": 250})
    by_id = {p["id"]: p for p in pages}
    deepest = max(pages, key=lambda p: _depth(p, by_id))
    ancestors = api.get(f"/wiki/api/v2/pages/{deepest['id']}/ancestors").json()["results"]
    expected = []
    parent = deepest["parentId"]
    while parent:
        expected.insert(0, {"id": parent, "type": "page"})
        parent = by_id[parent]["parentId"]
    assert ancestors == expected and len(ancestors) >= 2
    parent_id = deepest["parentId"]
    children = api.get(f"/wiki/api/v2/pages/{parent_id}/children").json()["results"]
    assert deepest["id"] in {c["id"] for c in children}
    labels = api.get(f"/wiki/api/v2/pages/{deepest['id']}/labels").json()["results"]
    assert labels and all(set(label) == {"id", "name", "prefix"} for label in labels)


def _depth(page: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> int:
    depth = 0
    while page["parentId"]:
        page, depth = by_id[page["parentId"]], depth + 1
    return depth


def test_filters_sort_depth_and_title(api: httpx.Client) -> None:
    space_id = _space_id(api, "ENG")
    url = f"/wiki/api/v2/spaces/{space_id}/pages"
    roots = api.get(url, params={"depth": "root"}).json()["results"]
    assert len(roots) == 1 and roots[0]["parentId"] is None
    titled = api.get(url, params={"title": roots[0]["title"]}).json()["results"]
    assert [p["id"] for p in titled] == [roots[0]["id"]]
    by_title = _all_pages(api, url, {"sort": "-title", "limit": 7})
    titles = [p["title"] for p in by_title]
    assert titles == sorted(titles, reverse=True) and len(titles) == 50
    in_space = _all_pages(api, "/wiki/api/v2/pages", {"space-id": space_id, "limit": 30})
    assert {p["spaceId"] for p in in_space} == {space_id} and len(in_space) == 50


def test_both_url_shapes_route_to_the_same_handlers() -> None:
    app = create_app(spaces=1, pages_per_space=30)
    with ServerThread(app) as server:
        _check_url_shapes(server, app.state.sandbox)


def _check_url_shapes(server: ServerThread, state: SandboxState) -> None:
    cloud_id = httpx.get(f"{server.url}/_edge/tenant_info").json()["cloudId"]
    gateway = f"{server.url}/ex/confluence/{cloud_id}"
    assert httpx.get(f"{gateway}/wiki/api/v2/spaces").status_code == 401
    bearer = {"Authorization": "Bearer not-issued"}
    assert httpx.get(f"{gateway}/wiki/api/v2/spaces", headers=bearer).status_code == 401
    assert httpx.get(f"{server.url}/wiki/api/v2/spaces", headers=bearer).status_code == 401

    state.auth.bearer_tokens.add("issued-token")
    headers = {"Authorization": "Bearer issued-token"}
    response = httpx.get(f"{gateway}/wiki/api/v2/pages", params={"limit": 10}, headers=headers)
    body = response.json()
    assert body["_links"]["base"] == f"{gateway}/wiki"
    assert body["_links"]["next"].startswith("/wiki/api/v2/pages?")
    follow = httpx.get(gateway + body["_links"]["next"], headers=headers)
    assert follow.status_code == 200 and len(follow.json()["results"]) == 10
    basic = httpx.get(f"{gateway}/wiki/api/v2/spaces", auth=AUTH)
    assert basic.status_code == 200  # scoped API tokens use Basic on the gateway
    wrong = httpx.get(f"{server.url}/ex/confluence/0000/wiki/api/v2/spaces", headers=headers)
    assert wrong.status_code == 404
    stats = httpx.get(f"{server.url}/_sandbox/stats").json()["requests_by_route"]
    assert stats["GET /wiki/api/v2/pages"] == 2


def test_bad_credentials_are_401_with_json_body(confluence_sandbox: ServerThread) -> None:
    url = f"{confluence_sandbox.url}/wiki/api/v2/spaces"
    for auth in [None, ("demo@example.com", "wrong"), ("other@example.com", "sandbox-token")]:
        response = httpx.get(url, auth=auth)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert httpx.get(f"{confluence_sandbox.url}/_edge/tenant_info").status_code == 200


def test_cql_search_filters_orders_and_pages(api: httpx.Client) -> None:
    cql = 'space in ("ENG","OPS") and type=page and lastmodified >= "2023-01-01 00:00" '
    cql += "order by lastmodified desc"
    body = api.get("/wiki/rest/api/search", params={"cql": cql, "limit": 10}).json()
    assert body["_links"]["next"].startswith("/rest/api/search?")
    assert body["_links"]["context"] == "/wiki" and body["cqlQuery"] == cql
    results = list(body["results"])
    while "next" in body["_links"]:
        body = api.get(body["_links"]["base"] + body["_links"]["next"]).json()
        results += body["results"]
    stamps = [r["lastModified"] for r in results]
    assert stamps == sorted(stamps, reverse=True) and stamps[-1] >= "2023-01-01"
    assert len(results) == body["totalSize"] > 10
    assert {r["resultGlobalContainer"]["displayUrl"] for r in results} <= {
        "/spaces/ENG",
        "/spaces/OPS",
    }
    first = results[0]
    assert (
        first["content"]["type"] == "page" and first["url"] == first["content"]["_links"]["webui"]
    )


def test_cql_content_search_expands_version(api: httpx.Client, admin: httpx.Client) -> None:
    cql = 'space = "HR" and lastmodified >= "2000-01-01" order by lastmodified asc'
    body = api.get(
        "/wiki/rest/api/content/search", params={"cql": cql, "limit": 250, "expand": "version"}
    ).json()
    assert body["size"] == 50 and "next" not in body["_links"]
    whens = [item["version"]["when"] for item in body["results"]]
    assert whens == sorted(whens)
    ids = [item["id"] for item in body["results"]]
    trashed = next(i for i in ids if admin.get(f"/_sandbox/pages/{i}").json()["parent_id"])
    assert admin.delete(f"/_sandbox/pages/{trashed}").status_code == 200
    again = api.get("/wiki/rest/api/content/search", params={"cql": 'space = "HR"', "limit": 100})
    assert trashed not in {item["id"] for item in again.json()["results"]}
    assert "version" not in again.json()["results"][0]


@pytest.mark.parametrize(
    "cql",
    [
        'space = "ENG" or space = "OPS"',
        "lastmodified >= startOfDay()",
        'lastmodified >= now("1 day")',
        '(space = "ENG"',
        'space = "ENG" order by popularity',
        'lastmodified >= "yesterday"',
        'creator = "someone"',
        "",
    ],
)
def test_unsupported_cql_is_400_with_clear_message(api: httpx.Client, cql: str) -> None:
    response = api.get("/wiki/rest/api/search", params={"cql": cql})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400 and "cql" in response.json()["message"].lower()


def test_faults_can_be_switched_on_and_off(api: httpx.Client, admin: httpx.Client) -> None:
    settings = admin.post("/_sandbox/faults", json={"rate": 1.0, "kinds": ["429_retry_after"]})
    assert settings.json() == {"rate": 1.0, "kinds": ["429_retry_after"], "latency_ms": 0}
    response = api.get("/wiki/api/v2/spaces")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1" and "RateLimit-Reason" in response.headers
    assert admin.get("/_sandbox/spaces").status_code == 200  # admin is never faulted
    admin.post("/_sandbox/faults", json={"kinds": ["500"]})
    assert api.get("/wiki/api/v2/spaces").status_code == 500
    admin.post("/_sandbox/faults", json={"rate": 0})
    assert api.get("/wiki/api/v2/spaces").status_code == 200
    assert admin.get("/_sandbox/stats").json()["responses_429"] == 1


def test_latency_is_added_to_public_requests(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/faults", json={"latency_ms": 150})
    started = time.perf_counter()
    api.get("/wiki/api/v2/spaces")
    assert time.perf_counter() - started >= 0.15


def test_stats_count_public_requests_only(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/stats/reset")
    space_id = _space_id(api, "ENG")
    api.get(f"/wiki/api/v2/spaces/{space_id}/pages")
    api.get(f"/wiki/api/v2/spaces/{space_id}/pages", params={"limit": 1})
    admin.get("/_sandbox/spaces")
    admin.get("/_sandbox/pages/1")
    stats = admin.get("/_sandbox/stats").json()
    assert stats["requests_total"] == 3
    assert stats["requests_by_route"] == {
        "GET /wiki/api/v2/spaces": 1,
        "GET /wiki/api/v2/spaces/{id}/pages": 2,
    }
    assert stats["bytes_sent"] > 1000 and stats["responses_429"] == 0
    assert admin.post("/_sandbox/stats/reset").json()["requests_total"] == 0


def test_large_sites_render_page_bodies_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """What lets a large site start fast: records only; a body is rendered on its first read."""
    rendered: list[int] = []

    def counting(**kwargs: Any) -> str:
        rendered.append(kwargs["page_id"])
        return render_storage(**kwargs)

    monkeypatch.setattr(model, "render_storage", counting)
    site = create_app(spaces=5, pages_per_space=2000, seed=3).state.sandbox.site
    assert len(site.pages) == 10_000 and rendered == []
    page = site.pages[site.order[1234]]
    assert site.storage(page) == site.storage(page) and rendered == [page.id]  # then cached
