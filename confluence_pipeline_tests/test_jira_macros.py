"""Jira macros through a real sync: an issue keeps its key, as a link to the Jira site when
``CONFLUENCE_PIPELINE_JIRA_URL`` names it, and a Jira query keeps its JQL on one line."""

from __future__ import annotations

import pytest

from confluence_pipeline.settings import Settings, SettingsError
from confluence_pipeline_tests.world import World

pytestmark = pytest.mark.sandbox(spaces=1, pages_per_space=3)

STORAGE = (
    '<p>Tracking ticket: <ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
    '<ac:parameter ac:name="serverId">a1b2c3d4-0000-1111-2222-333344445555</ac:parameter>'
    '<ac:parameter ac:name="key">PAY-4312</ac:parameter></ac:structured-macro></p>'
    '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="jqlQuery">project = PAY\n'
    "  AND status = Open</ac:parameter></ac:structured-macro>"
)


@pytest.mark.parametrize(
    ("jira_url", "ticket"),
    [
        ("", "Tracking ticket: PAY-4312\n"),
        ("https://acme.atlassian.net/", "[PAY-4312](https://acme.atlassian.net/browse/PAY-4312)"),
    ],
    ids=["site-unknown-plain-key", "site-known-link"],
)
def test_jira_issue_keeps_its_key_and_the_query_its_jql(
    world: World, monkeypatch: pytest.MonkeyPatch, jira_url: str, ticket: str
) -> None:
    monkeypatch.setenv("CONFLUENCE_PIPELINE_JIRA_URL", jira_url)
    space = world.space_keys[0]
    page_id = world.wiki.create_page(space, "Payments rollout", STORAGE)

    world.sync(space)

    docs = world.documents().values()
    text = str(next(d["text"] for d in docs if d["metadata"]["page_id"] == page_id))
    assert ticket in text
    assert "Jira query: project = PAY AND status = Open\n" in text
    assert "System JIRA" not in text and "a1b2c3d4" not in text


@pytest.mark.parametrize("value", ["acme.atlassian.net", "ftp://jira.example.com", "https://"])
def test_a_jira_url_that_is_not_a_site_url_is_one_clear_error(value: str) -> None:
    with pytest.raises(SettingsError, match="CONFLUENCE_PIPELINE_JIRA_URL must be") as raised:
        _ = Settings.from_env({"CONFLUENCE_PIPELINE_JIRA_URL": value}).jira_url
    assert "\n" not in str(raised.value)
