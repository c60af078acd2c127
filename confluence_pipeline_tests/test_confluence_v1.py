"""The emulator's REST v1 routes answer the way LlamaIndex's ConfluenceReader, LangChain's
ConfluenceLoader and atlassian-python-api expect (plain httpx here: the peers are not
installed in the test environment)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from confluence_pipeline.sandbox.server import ServerThread

AUTH = ("demo@example.com", "sandbox-token")
MARKUP = re.compile(r"</?(?:ac|ri):|\b(?:ac|ri):[a-z-]+=")


@pytest.fixture
def api(confluence_sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=confluence_sandbox.url, auth=AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def admin(confluence_sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=confluence_sandbox.url, timeout=10) as client:
        yield client


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def _v2_space(api: httpx.Client, key: str) -> dict[str, Any]:
    return _ok(api.get("/wiki/api/v2/spaces", params={"keys": key}))["results"][0]


def _v2_page_ids(api: httpx.Client, key: str) -> list[str]:
    url = f"/wiki/api/v2/spaces/{_v2_space(api, key)['id']}/pages?limit=250"
    return [page["id"] for page in _ok(api.get(url))["results"]]


def _follow(api: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every result of a v1 listing, following ``_links.base + _links.next``."""
    body = _ok(api.get(path, params=params))
    results = list(body["results"])
    while "next" in body["_links"]:
        nxt = body["_links"]["next"]
        assert nxt.startswith(path.removeprefix("/wiki") + "?")
        body = _ok(api.get(body["_links"]["base"] + nxt))
        results += body["results"]
    return results


def test_content_listing_pages_by_start_and_next_link(api: httpx.Client) -> None:
    params = {"spaceKey": "OPS", "type": "page", "limit": 20, "expand": "version"}
    first = _ok(api.get("/wiki/rest/api/content", params=params))
    assert (first["start"], first["limit"], first["size"]) == (0, 20, 20)
    assert first["_links"]["context"] == "/wiki"
    assert first["_links"]["base"].endswith("/wiki")
    nxt = first["_links"]["next"]
    assert "start=20" in nxt and "limit=20" in nxt and "spaceKey=OPS" in nxt
    assert "expand=version" in nxt
    pages = _follow(api, "/wiki/rest/api/content", params)
    assert [p["id"] for p in pages] == _v2_page_ids(api, "OPS")
    assert all(p["type"] == "page" and p["version"]["number"] >= 1 for p in pages)
    assert all(p["_links"]["webui"].startswith(f"/spaces/OPS/pages/{p['id']}/") for p in pages)
    after_end = _ok(api.get("/wiki/rest/api/content", params={**params, "start": 50}))
    assert after_end["results"] == [] and "next" not in after_end["_links"]


@pytest.mark.parametrize(("expand", "cap"), [("body.storage", 50), ("version", 200), (None, 1000)])
def test_limit_is_capped_silently_by_what_is_expanded(
    api: httpx.Client, expand: str | None, cap: int
) -> None:
    params: dict[str, Any] = {"limit": 5000}
    if expand:
        params["expand"] = expand
    body = _ok(api.get("/wiki/rest/api/content", params=params))
    assert body["limit"] == cap and body["size"] == min(cap, 150)


def test_expand_adds_exactly_what_was_asked(api: httpx.Client) -> None:
    page_id = _v2_page_ids(api, "ENG")[7]
    bare = _ok(api.get(f"/wiki/rest/api/content/{page_id}", params={"expand": ""}))
    assert "body" not in bare and "version" not in bare
    assert {"body", "version", "space", "ancestors"} <= set(bare["_expandable"])
    expand = "version,space,ancestors,body.storage,body.export_view.value,metadata.labels"
    full = _ok(api.get(f"/wiki/rest/api/content/{page_id}", params={"expand": expand}))
    v2 = _ok(api.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}))
    assert full["version"]["number"] == v2["version"]["number"]
    assert full["version"]["when"] == v2["version"]["createdAt"]
    assert full["version"]["by"]["accountId"] == v2["version"]["authorId"]
    assert full["version"]["by"]["displayName"]
    assert full["space"]["key"] == "ENG" and isinstance(full["space"]["id"], int)
    assert full["body"]["storage"]["value"] == v2["body"]["storage"]["value"]
    assert full["body"]["export_view"]["representation"] == "export_view"
    assert "view" in full["body"]["_expandable"]
    ancestors = _ok(api.get(f"/wiki/api/v2/pages/{page_id}/ancestors"))["results"]
    assert [a["id"] for a in full["ancestors"]] == [a["id"] for a in ancestors]
    v2_labels = _ok(api.get(f"/wiki/api/v2/pages/{page_id}/labels"))["results"]
    labels = full["metadata"]["labels"]["results"]
    assert sorted(label["name"] for label in labels) == sorted(lb["name"] for lb in v2_labels)
    assert full["_links"]["self"].endswith(f"/wiki/rest/api/content/{page_id}")
    assert not {"version", "space", "body"} & set(full["_expandable"])


def test_export_view_is_rendered_html_without_storage_markup(
    api: httpx.Client, confluence_sandbox: ServerThread
) -> None:
    params = {"spaceKey": "HR", "expand": "body.export_view,body.view,body.storage"}
    pages = _follow(api, "/wiki/rest/api/content", params)
    storage = " ".join(p["body"]["storage"]["value"] for p in pages)
    export = " ".join(p["body"]["export_view"]["value"] for p in pages)
    view = " ".join(p["body"]["view"]["value"] for p in pages)
    assert MARKUP.search(storage) and not MARKUP.search(export) and not MARKUP.search(view)
    assert 'ac:name="code"' in storage and '<pre class="syntaxhighlighter-pre"' in export
    assert 'ac:name="status"' in storage and 'class="status-macro aui-lozenge' in export
    assert "<ri:user" in storage and 'class="confluence-userlink user-mention"' in export
    assert "<ac:task-list>" in storage and '<ul class="inline-task-list"' in export
    base = f"{confluence_sandbox.url}/wiki"
    assert f'href="{base}/spaces/HR/pages/' in export  # export_view: absolute links
    assert 'href="/wiki/spaces/HR/pages/' in view and f'href="{base}/spaces' not in view
    visible = re.sub(r"<[^>]+>", " ", export)  # a status shows its title, not its colour
    assert re.search(r"\b(?:DONE|BLOCKED|AT RISK)\b", visible)
    assert not re.search(r"\b(?:Green|Yellow|Red|Blue|Grey)\s+(?:DONE|BLOCKED|AT RISK)", visible)


def test_content_by_id_defaults_statuses_and_errors(api: httpx.Client, admin: httpx.Client) -> None:
    page_id = _v2_page_ids(api, "ENG")[3]
    page = _ok(api.get(f"/wiki/rest/api/content/{page_id}"))
    assert {"space", "history", "version"} <= set(page) and "body" not in page
    assert page["history"]["createdBy"]["accountId"].startswith("557058:")
    missing = api.get("/wiki/rest/api/content/1")
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404 and missing.json()["reason"] == "Not Found"
    assert api.get("/wiki/rest/api/content/abc").status_code == 400
    admin.delete(f"/_sandbox/pages/{page_id}").raise_for_status()
    assert api.get(f"/wiki/rest/api/content/{page_id}").status_code == 404
    for status in ("trashed", "any"):
        trashed = api.get(f"/wiki/rest/api/content/{page_id}", params={"status": status})
        assert trashed.json()["status"] == "trashed"
    assert api.get("/wiki/rest/api/content", params={"status": "bogus"}).status_code == 400
    assert api.get("/wiki/rest/api/content", params={"start": 100_001}).status_code == 400


def test_listing_follows_edits_and_trash(api: httpx.Client, admin: httpx.Client) -> None:
    ids = _v2_page_ids(api, "OPS")
    edited, trashed = ids[10], ids[11]
    before = _ok(api.get(f"/wiki/rest/api/content/{edited}", params={"expand": "version"}))
    body = {"storage": "<p>rewritten <strong>now</strong></p>"}
    admin.put(f"/_sandbox/pages/{edited}", json=body).raise_for_status()
    admin.delete(f"/_sandbox/pages/{trashed}").raise_for_status()
    params = {"spaceKey": "OPS", "expand": "version,body.storage", "limit": 50}
    pages = {p["id"]: p for p in _follow(api, "/wiki/rest/api/content", params)}
    assert trashed not in pages and len(pages) == 49
    assert pages[edited]["version"]["number"] == before["version"]["number"] + 1
    assert pages[edited]["body"]["storage"]["value"] == body["storage"]
    everything = _follow(api, "/wiki/rest/api/content", {**params, "status": "any"})
    assert trashed in {p["id"] for p in everything}
    assert _ok(api.get("/wiki/rest/api/content", params={"spaceKey": "NOPE"}))["results"] == []


def test_child_pages_labels_and_restrictions(api: httpx.Client) -> None:
    homepage = _v2_space(api, "ENG")["homepageId"]
    v2_children = _ok(api.get(f"/wiki/api/v2/pages/{homepage}/children", params={"limit": 250}))
    children = _follow(api, f"/wiki/rest/api/content/{homepage}/child/page", {"limit": 7})
    assert [c["id"] for c in children] == [c["id"] for c in v2_children["results"]]
    for kind in ("attachment", "comment", "folder"):
        assert _ok(api.get(f"/wiki/rest/api/content/{homepage}/child/{kind}"))["results"] == []
    assert api.get(f"/wiki/rest/api/content/{homepage}/child/bogus").status_code == 400
    assert api.get("/wiki/rest/api/content/1/child/page").status_code == 404
    page_id = children[0]["id"]
    labels = _ok(api.get(f"/wiki/rest/api/content/{page_id}/label"))
    v2 = _ok(api.get(f"/wiki/api/v2/pages/{page_id}/labels"))["results"]
    assert [lb["name"] for lb in labels["results"]] == sorted(lb["name"] for lb in v2)
    assert labels["limit"] == 200 and all(lb["prefix"] == "global" for lb in labels["results"])
    restrictions = _ok(api.get(f"/wiki/rest/api/content/{page_id}/restriction/byOperation"))
    for operation in ("read", "update"):
        restricted = restrictions[operation]["restrictions"]
        assert restricted["user"]["results"] == [] and restricted["group"]["results"] == []


def test_spaces_list_and_single_space(api: httpx.Client) -> None:
    spaces = _ok(api.get("/wiki/rest/api/space"))["results"]
    assert sorted(s["key"] for s in spaces) == ["ENG", "HR", "OPS"]
    assert all(isinstance(s["id"], int) for s in spaces)
    two = _ok(api.get("/wiki/rest/api/space", params={"spaceKey": ["ENG", "HR"]}))
    assert sorted(s["key"] for s in two["results"]) == ["ENG", "HR"]
    params = {"expand": "description.plain,homepage"}
    eng = _ok(api.get("/wiki/rest/api/space/ENG", params=params))
    assert eng["homepage"]["id"] == _v2_space(api, "ENG")["homepageId"]
    assert eng["description"]["plain"]["representation"] == "plain"
    assert api.get("/wiki/rest/api/space/NOPE").status_code == 404


def test_content_search_expands_bodies_like_content(api: httpx.Client) -> None:
    params = {"cql": 'space = "ENG" and type = page', "expand": "body.export_view,version"}
    results = _ok(api.get("/wiki/rest/api/content/search", params=params))["results"]
    assert results and all(r["version"]["number"] >= 1 for r in results)
    assert all(not MARKUP.search(r["body"]["export_view"]["value"]) for r in results)


def test_v1_calls_are_counted_and_need_auth(
    api: httpx.Client, admin: httpx.Client, confluence_sandbox: ServerThread
) -> None:
    admin.post("/_sandbox/stats/reset").raise_for_status()
    _ok(api.get("/wiki/rest/api/content", params={"expand": "body.storage"}))
    _ok(api.get("/wiki/rest/api/space/ENG"))
    unauthenticated = httpx.get(f"{confluence_sandbox.url}/wiki/rest/api/content")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["statusCode"] == 401
    stats = _ok(admin.get("/_sandbox/stats"))
    assert stats["requests_total"] == 3 and stats["bytes_sent"] > 50_000
    assert stats["requests_by_route"] == {
        "GET /wiki/rest/api/content": 2,
        "GET /wiki/rest/api/space/{key}": 1,
    }


def test_deprecated_v1_routes_are_gone_on_the_oauth_gateway(api: httpx.Client) -> None:
    cloud_id = _ok(api.get("/_edge/tenant_info"))["cloudId"]
    gateway = f"/ex/confluence/{cloud_id}/wiki/rest/api"
    for path in ("/content", "/space", "/space/ENG"):
        gone = api.get(gateway + path)
        assert gone.status_code == 410 and gone.json()["statusCode"] == 410
    search = api.get(f"{gateway}/content/search", params={"cql": "type = page"})
    assert search.status_code == 200
