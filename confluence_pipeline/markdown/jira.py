"""What a reader sees of Confluence's Jira macros: an issue key, or the query of an issue list
or chart.

``jira`` (and the older ``jiraissues``) shows one issue when it has a ``key`` parameter and a
list of issues when it has a ``jqlQuery`` (``jiraissues`` may carry the query inside a ``url``
parameter instead); ``jirachart`` draws a chart of the issues of its URL-encoded ``jql``. The
``server`` parameter names an application link, not a URL, so an issue becomes a link only when
the caller of the conversion knows the Jira site's URL.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

from lxml import etree

from .text import collapse_ws

MACROS = frozenset({"jira", "jiraissues", "jirachart", "jira-chart"})
CHARTS = frozenset({"jirachart", "jira-chart"})
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")


def _text(found: dict[str, etree._Element], name: str) -> str:
    el = found.get(name)
    return collapse_ws("".join(el.itertext())) if el is not None else ""


def issue_key(found: dict[str, etree._Element]) -> str:
    """The issue key (``PAY-4312``) of a single-issue macro, ``""`` for any other."""
    key = _text(found, "key")
    return key if _KEY_RE.fullmatch(key) else ""


def query(found: dict[str, etree._Element]) -> str:
    """The macro's JQL on one line (whitespace collapsed), ``""`` when it has none."""
    jql = _text(found, "jqlQuery")
    if jql:
        return jql
    if "jql" in found:  # jirachart stores it URL-encoded
        return collapse_ws(unquote_plus(_text(found, "jql")))
    for name in ("url", ""):  # jiraissues: a saved search URL, ...?jqlQuery=...
        url = _text(found, name)
        if "jqlQuery=" in url:
            values = parse_qs(urlsplit(url).query).get("jqlQuery", [""])
            return collapse_ws(values[0])
    return ""


def browse_url(base_url: str, key: str) -> str:
    """The issue's page on the Jira site at ``base_url``; ``""`` when the site is unknown."""
    if not base_url:
        return ""
    return f"{base_url.rstrip('/')}/browse/{quote(key)}"
