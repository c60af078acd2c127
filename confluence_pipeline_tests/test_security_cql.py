"""Security review finding 6: every CQL value goes through ``cql_string``, which quotes and
escapes it; the sandbox's CQL parser reads the escapes back."""

from __future__ import annotations

import httpx

from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.confluence.cql import cql_string
from confluence_pipeline.sandbox.admin import ConfluenceAdmin
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline_tests.world import EMAIL, TOKEN


def test_cql_string_quotes_and_escapes() -> None:
    assert cql_string("ENG") == '"ENG"'
    assert cql_string('a"b\\c') == '"a\\"b\\\\c"'


def test_hostile_cql_values_stay_one_value(confluence_sandbox: ServerThread) -> None:
    wiki = ConfluenceAdmin(confluence_sandbox.url)
    key = wiki.spaces()[0]["key"]
    title = 'He said "stop" \\ and " or space != "x'
    wiki.create_page(key, title, "<p>quoted</p>")
    with ConfluenceClient(confluence_sandbox.url, basic_auth(EMAIL, TOKEN)) as client:
        assert client.count_pages(key) == 51
        for hostile in (f'{key}" or space != "x', f"{key}\\", f'{key}" and type = page and "'):
            assert client.count_pages(hostile) == 0
    found = httpx.get(
        f"{confluence_sandbox.url}/wiki/rest/api/search",
        params={"cql": f"title = {cql_string(title)} and space = {cql_string(key)}"},
        auth=(EMAIL, TOKEN),
        timeout=30,
    ).raise_for_status()
    assert [r["content"]["title"] for r in found.json()["results"]] == [title]
