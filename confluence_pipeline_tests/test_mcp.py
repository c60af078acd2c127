"""The MCP server over streamable HTTP (a uvicorn thread on a free port), driven only through
the SDK's client, against both sandboxes and a real state database."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from confluence_pipeline.llamacloud import Document
from confluence_pipeline_tests.mcp_harness import (
    HttpServerThread,
    http_session,
    structured,
    text_of,
    world_server,
)
from confluence_pipeline_tests.world import World

TOKEN = "test-mcp-token-0123456789abcdef"


pytestmark = pytest.mark.sandbox(pages_per_space=12)


def _page(world: World, space: str, title: str, body: str) -> tuple[str, str]:
    """Creates a page; returns its id and URL."""
    page_id = world.wiki.create_page(space, title, f"<p>{body}</p>")
    with world.client() as client:
        page = client.get_page(page_id)
    assert page is not None
    return page_id, page.summary.url


def _documents(world: World) -> dict[str, dict[str, Any]]:
    return dict(world.documents())


def _run(world: World, body: Any, *, indexes: list[str] | None = None) -> None:
    """Runs ``await body(session)`` against a fresh server over HTTP."""
    with HttpServerThread(world_server(world, indexes)) as server:

        async def main() -> None:
            async with http_session(server.url) as session:
                await body(session)

        anyio.run(main)


async def _call(session: ClientSession, tool: str, **arguments: Any) -> CallToolResult:
    return await session.call_tool(tool, arguments)


def test_tools_are_listed_with_their_schemas(world: World) -> None:
    async def body(session: ClientSession) -> None:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == {"search", "get_page", "list_indexes"}
        search = tools["search"]
        assert set(search.input_schema["properties"]) == {
            "query",
            "index",
            "spaces",
            "labels",
            "top_k",
        }
        assert search.input_schema["required"] == ["query"]
        top_k = search.input_schema["properties"]["top_k"]
        assert (top_k["default"], top_k["minimum"], top_k["maximum"]) == (8, 1, 50)
        result_fields = search.output_schema["$defs"]["SearchResult"]["properties"]  # type: ignore[index]
        for field in ("title", "url", "space_key", "page_id", "breadcrumb", "last_modified"):
            assert field in result_fields
        for field in ("version", "score", "excerpt", "citation"):
            assert field in result_fields
        assert tools["get_page"].input_schema["required"] == ["page"]
        assert tools["list_indexes"].input_schema.get("required", []) == []
        for tool in tools.values():
            assert tool.description and len(tool.description) > 200
            assert tool.output_schema is not None
            assert tool.annotations is not None and tool.annotations.read_only_hint

    _run(world, body)


def test_search_returns_the_page_of_a_unique_phrase_first_with_its_url(world: World) -> None:
    space = world.space_keys[0]
    page_id, url = _page(world, space, "Quokka runbook", "restart the quokka-velvet-7731 relay")
    world.sync(space)

    async def body(session: ClientSession) -> None:
        result = await _call(session, "search", query="quokka-velvet-7731 relay")
        found = structured(result)
        assert found["index"] == "docs"
        first = found["results"][0]
        assert (first["page_id"], first["url"], first["space_key"]) == (page_id, url, space)
        assert first["title"] == "Quokka runbook" and first["citation"] == 1
        assert "quokka-velvet-7731" in first["excerpt"]
        assert first["version"] == 1 and first["last_modified"]
        assert first["breadcrumb"].startswith(world.wiki.spaces()[0]["name"])
        assert f"[1] Quokka runbook — {url}" in text_of(result)

    _run(world, body)


def test_space_and_label_filters_restrict_results(world: World) -> None:
    first, second = world.space_keys
    in_first, _ = _page(world, first, "Pelican notes", "pelican-marker-55 in the first space")
    in_second, _ = _page(world, second, "Pelican too", "pelican-marker-55 in the second space")
    for space in world.space_keys:
        world.sync(space)
    # documents that carry labels, as a sync adding them would upsert them
    pipeline_id = world.index().pipeline_id
    assert pipeline_id is not None
    labels = {in_first: ["runbook", "ops"], in_second: ["design"]}
    documents = _documents(world)
    with world.sink() as sink:
        sink.upsert(
            pipeline_id,
            [
                Document(doc_id, doc["text"], {**doc["metadata"], "labels": labels[page]})
                for doc_id, doc in documents.items()
                if (page := doc["metadata"]["page_id"]) in labels
            ],
        )

    async def body(session: ClientSession) -> None:
        both = structured(await _call(session, "search", query="pelican-marker-55"))
        assert {r["page_id"] for r in both["results"][:2]} == {in_first, in_second}

        only = structured(
            await _call(session, "search", query="pelican-marker-55", spaces=[second])
        )
        assert only["results"] and {r["space_key"] for r in only["results"]} == {second}
        assert only["results"][0]["page_id"] == in_second

        runbooks = structured(
            await _call(session, "search", query="pelican-marker-55", labels=["Runbook"])
        )
        assert [r["page_id"] for r in runbooks["results"]] == [in_first]
        design = structured(
            await _call(session, "search", query="pelican", labels=["design"], spaces=[first])
        )
        assert design["results"] == []

        unknown = await _call(session, "search", query="pelican", spaces=["NOPE"])
        assert unknown.is_error
        assert f"space NOPE is not in index 'docs'; its spaces are {first}, {second}" in text_of(
            unknown
        )

    _run(world, body)


def test_a_trashed_page_whose_stale_document_remains_is_not_returned(world: World) -> None:
    space = world.space_keys[0]
    page_id, _ = _page(world, space, "Old wombat policy", "wombat-obsolete-8812 rules")
    kept_id, _ = _page(world, space, "Current wombat policy", "wombat-current rules")
    world.sync(space)
    stale = {i: d for i, d in _documents(world).items() if d["metadata"]["page_id"] == page_id}
    world.wiki.trash_page(page_id)
    world.sync(space)  # deletes the document and forgets the page
    assert not any(d["metadata"]["page_id"] == page_id for d in _documents(world).values())
    pipeline_id = world.index().pipeline_id
    assert pipeline_id is not None
    with world.sink() as sink:  # an index lagging behind still serves the old document
        sink.upsert(pipeline_id, [Document(i, d["text"], d["metadata"]) for i, d in stale.items()])
    assert set(stale) <= set(_documents(world))

    async def body(session: ClientSession) -> None:
        found = structured(await _call(session, "search", query="wombat-obsolete-8812 policy"))
        ids = [r["page_id"] for r in found["results"]]
        assert page_id not in ids and kept_id in ids
        assert found["stale_dropped"] == 1
        refused = await _call(session, "get_page", page=page_id)
        assert refused.is_error and f"page {page_id} is trashed" in text_of(refused)

    _run(world, body)


def test_get_page_returns_the_current_page_converted_as_the_sync_converts(world: World) -> None:
    space = world.space_keys[0]
    page_id, url = _page(world, space, "Lynx guide", "lynx-before-edit")
    world.sync(space)
    synced = next(d for d in _documents(world).values() if d["metadata"]["page_id"] == page_id)
    version = world.wiki.edit_page(
        page_id, "<p>lynx-after-edit-4410 with <strong>bold</strong></p>"
    )

    async def body(session: ClientSession) -> None:
        by_id = await _call(session, "get_page", page=page_id)
        page = structured(by_id)
        assert (page["page_id"], page["url"], page["space_key"]) == (page_id, url, space)
        assert (page["version"], page["index"], page["title"]) == (version, "docs", "Lynx guide")
        assert "lynx-after-edit-4410 with **bold**" in page["markdown"]
        assert "lynx-before-edit" not in page["markdown"]
        assert page["markdown"] in text_of(by_id)
        by_url = structured(await _call(session, "get_page", page=url))
        assert by_url["markdown"] == page["markdown"]
        legacy = f"{world.wiki_url}/wiki/pages/viewpage.action?pageId={page_id}"
        assert structured(await _call(session, "get_page", page=legacy))["page_id"] == page_id

    _run(world, body)
    assert "lynx-before-edit" in synced["text"]
    world.sync(space)  # the synced document is exactly what get_page returned
    resynced = next(d for d in _documents(world).values() if d["metadata"]["page_id"] == page_id)

    async def same(session: ClientSession) -> None:
        page = structured(await _call(session, "get_page", page=page_id))
        assert page["markdown"] == resynced["text"]

    _run(world, same)


def test_pages_out_of_scope_are_refused_and_the_server_keeps_serving(world: World) -> None:
    first, second = world.space_keys
    world.store.registry.update_index("docs", spaces=[first])
    outside, _ = _page(world, second, "Private yak page", "yak-secret-3301")
    inside, url = _page(world, first, "Public yak page", "yak-public")
    foreign = url.replace("127.0.0.1", "elsewhere.example.com")

    async def body(session: ClientSession) -> None:
        refused = await _call(session, "get_page", page=outside)
        assert refused.is_error and "outside the spaces of the indexes served here" in text_of(
            refused
        )
        assert "yak-secret" not in text_of(refused) and "Private" not in text_of(refused)
        other_site = await _call(session, "get_page", page=foreign)
        assert other_site.is_error and "elsewhere.example.com is not the Confluence site" in (
            text_of(other_site)
        )
        missing = await _call(session, "get_page", page="999999999")
        assert missing.is_error and "no page 999999999" in text_of(missing)
        garbage = await _call(session, "get_page", page="the yak page")
        assert garbage.is_error and "is not a page id or a Confluence page URL" in text_of(garbage)
        assert structured(await _call(session, "get_page", page=inside))["page_id"] == inside

    _run(world, body)


def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving(world: World) -> None:
    world.sync(world.space_keys[0])

    async def body(session: ClientSession) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"query": "x", "top_k": 0}, "top_k"),
            ({"query": "x", "top_k": 500}, "less than or equal to 50"),
            ({"query": "x", "top_k": "many"}, "top_k"),
            ({}, "query"),
            ({"query": "   "}, "query is empty"),
            ({"query": "x", "index": "nope"}, "unknown index 'nope': the indexes served here"),
            ({"query": "x", "spaces": "ENG"}, "spaces"),
        ]
        for arguments, message in cases:
            result = await session.call_tool("search", arguments)
            assert result.is_error, arguments
            assert message in text_of(result), (arguments, text_of(result))
        unknown = await session.call_tool("no_such_tool", {})
        assert unknown.is_error
        ok = structured(await _call(session, "search", query="page"))
        assert ok["results"]

    _run(world, body)


def test_index_choice_and_list_indexes(world: World) -> None:
    first, second = world.space_keys
    world.sync(first)
    world.create_index("ops", spaces=[second])
    _page(world, second, "Ops heron page", "heron-ops-771")
    world.sync(second, name="ops")

    async def every_index(session: ClientSession) -> None:
        ambiguous = await _call(session, "search", query="heron-ops-771")
        assert ambiguous.is_error
        assert "several indexes are served here (docs, ops): pass `index`" in text_of(ambiguous)
        found = structured(await _call(session, "search", query="heron-ops-771", index="ops"))
        assert found["results"][0]["title"] == "Ops heron page"
        listed = structured(await _call(session, "list_indexes"))["indexes"]
        assert [i["name"] for i in listed] == ["docs", "ops"]
        docs, ops = listed
        assert docs["spaces"] == [first, second] and docs["target"] == "pipeline"
        assert docs["documents"] == world.store.ledger.count_synced(world.index().id, first)
        assert docs["last_successful_sync"][first].endswith("Z")
        assert docs["last_successful_sync"][second] is None
        assert docs["pending_ingestion"] == 0  # the sandbox ingests at once unless delayed
        assert ops["documents"] == len(world.page_ids(second))

    _run(world, every_index)

    async def only_ops(session: ClientSession) -> None:
        found = structured(await _call(session, "search", query="heron-ops-771"))
        assert found["index"] == "ops" and found["results"]
        listed = structured(await _call(session, "list_indexes"))["indexes"]
        assert [i["name"] for i in listed] == ["ops"]
        hidden = await _call(session, "search", query="x", index="docs")
        assert hidden.is_error and "the indexes served here are ops" in text_of(hidden)
        page_of_docs = world.page_ids(first)[0]
        refused = await _call(session, "get_page", page=page_of_docs)
        assert refused.is_error and "outside the spaces" in text_of(refused)

    _run(world, only_ops, indexes=["ops"])


def test_a_missing_or_wrong_bearer_token_gets_401_and_nothing_is_served(world: World) -> None:
    world.sync(world.space_keys[0])
    retrievals = "POST /api/v1/pipelines/{pipeline_id}/retrieve"

    def served() -> int:
        return int(world.cloud.stats()["requests_by_route"].get(retrievals, 0))

    with HttpServerThread(world_server(world), token=TOKEN) as server:

        async def refused(token: str | None) -> list[int]:
            statuses: list[int] = []
            raised = False
            try:
                async with http_session(server.url, token=token, statuses=statuses) as session:
                    await _call(session, "search", query="page")
            except* MCPError:  # the SDK turns the 401 into a failed initialize
                raised = True
            assert raised
            return statuses

        async def main() -> None:
            for token in (None, "wrong-token-0123456789", TOKEN[:-1], f"{TOKEN}x"):
                statuses = await refused(token)
                assert statuses and set(statuses) == {401}, (token, statuses)
            assert served() == 0
            seen: list[int] = []
            async with http_session(server.url, token=TOKEN, statuses=seen) as session:
                assert structured(await _call(session, "search", query="page"))["results"]
            assert 401 not in seen
            assert served() == 1

        anyio.run(main)


def test_search_over_an_index_v2_target_with_its_space_filter(world: World) -> None:
    first, second = world.space_keys
    world.create_index("v2", target="index")
    in_first, url = _page(world, first, "Heron guide", "heron-saffron-4410 in the first space")
    in_second, _ = _page(world, second, "Heron too", "heron-saffron-4410 in the second space")
    for space in world.space_keys:
        world.sync(space, name="v2")

    async def body(session: ClientSession) -> None:
        found = structured(await _call(session, "search", query="heron-saffron-4410"))
        assert found["index"] == "v2"
        assert {r["page_id"] for r in found["results"][:2]} == {in_first, in_second}
        only = structured(
            await _call(session, "search", query="heron-saffron-4410", spaces=[first])
        )
        assert [r["page_id"] for r in only["results"]][:1] == [in_first]
        assert {r["space_key"] for r in only["results"]} == {first}
        assert only["results"][0]["url"] == url

    _run(world, body, indexes=["v2"])
