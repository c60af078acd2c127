"""What a contender's index holds after a run, judged against the Confluence sandbox.

A document is *wrong* when its page no longer exists (trashed) or was edited and the document
still shows the old text; it *leaks* when it carries storage markup (``ac:``/``ri:`` tags or
attributes, raw or escaped) or the values of a macro's hidden parameters in a row (a code
macro's ``language`` then ``title``, a status macro's ``colour`` then ``title``): text no
reader sees on the page.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from confluence_pipeline.sandbox.admin import ConfluenceAdmin

_MARKUP = re.compile(r"(?:<|&lt;)/?(?:ac|ri):[A-Za-z-]+|\b(?:ac|ri):[A-Za-z-]+=")
_MACRO = re.compile(r"<ac:structured-macro\b.*?</ac:structured-macro>", re.S)
_PARAMETER = re.compile(r'<ac:parameter ac:name="[^"]*"[^>]*>([^<]*)</ac:parameter>')
AUTH = ("demo@example.com", "sandbox-token")


def hidden_parameter_runs(storage: str) -> list[re.Pattern[str]]:
    """One pattern per macro with two or more parameters: their values in order, any
    whitespace (or none) between them."""
    runs = []
    for macro in _MACRO.findall(storage):
        values = [html.unescape(v).strip() for v in _PARAMETER.findall(macro)]
        values = [v for v in values if v]
        if len(values) > 1:
            runs.append(re.compile(r"\s*".join(re.escape(v) for v in values)))
    return runs


def leaks(text: str, runs: list[re.Pattern[str]]) -> bool:
    return bool(_MARKUP.search(text)) or any(run.search(text) for run in runs)


@dataclass
class Truth:
    """The pages of the benchmarked spaces, kept up to date by :meth:`mutate`."""

    current: set[str]
    homepages: set[str]
    runs: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)  # edited page -> token its doc needs

    @classmethod
    def load(cls, wiki_url: str, admin: ConfluenceAdmin, keys: list[str]) -> Truth:
        """Lists the spaces through the public v2 API (outside any measurement) and reads
        every body through the admin routes."""
        current: set[str] = set()
        homepages: set[str] = set()
        with httpx.Client(base_url=wiki_url, auth=AUTH, timeout=60) as api:
            spaces = api.get("/wiki/api/v2/spaces", params={"keys": ",".join(keys)})
            for space in spaces.raise_for_status().json()["results"]:
                homepages.add(space["homepageId"])
                url: str | None = f"/wiki/api/v2/spaces/{space['id']}/pages?limit=250"
                while url:
                    body = api.get(url).raise_for_status().json()
                    current.update(page["id"] for page in body["results"])
                    url = body["_links"].get("next")
        truth = cls(current=current, homepages=homepages)
        for page_id in sorted(current):
            truth.runs[page_id] = hidden_parameter_runs(admin.page(page_id)["storage"])
        return truth

    def mutate(
        self, admin: ConfluenceAdmin, *, edit_share: float, delete_share: float, seed: int = 7
    ) -> tuple[int, int]:
        """Edits and trashes that share of the pages (never a homepage); returns the counts."""
        candidates = sorted(self.current - self.homepages)
        rng = random.Random(seed)
        edits = max(1, round(edit_share * len(self.current)))
        deletions = max(1, round(delete_share * len(self.current)))
        chosen = rng.sample(candidates, edits + deletions)
        for page_id in chosen[:edits]:
            marker = f"benchmark-edit-{page_id}"
            storage = admin.page(page_id)["storage"] + f"<p>Edited: {marker}.</p>"
            admin.edit_page(page_id, storage)
            self.markers[page_id] = marker
        for page_id in chosen[edits:]:
            admin.trash_page(page_id)
            self.current.discard(page_id)
        return edits, deletions


@dataclass
class IndexCheck:
    documents: int
    pages: int
    wrong: int
    missing: int
    leaking: int

    @property
    def leaking_share(self) -> float:
        return self.leaking / self.documents if self.documents else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "leaking_share": round(self.leaking_share, 4)}


def check(documents: dict[str, str], truth: Truth) -> IndexCheck:
    """Judges ``{page id: text}`` (one contender's index) against ``truth``."""
    wrong = sum(
        page_id not in truth.current
        or (page_id in truth.markers and truth.markers[page_id] not in text)
        for page_id, text in documents.items()
    )
    leaking = sum(leaks(text, truth.runs.get(page_id, [])) for page_id, text in documents.items())
    return IndexCheck(
        documents=len(documents),
        pages=len(truth.current),
        wrong=wrong,
        missing=len(truth.current - documents.keys()),
        leaking=leaking,
    )
