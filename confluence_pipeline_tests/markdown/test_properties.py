"""Whatever markup arrives, conversion returns a string and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confluence_pipeline.markdown import storage_to_markdown

TAGS = [
    "p", "div", "span", "strong", "em", "code", "pre", "ul", "ol", "li", "table", "tbody",
    "thead", "tr", "td", "th", "h1", "h3", "blockquote", "a", "br", "hr", "img", "time",
    "ac:structured-macro", "ac:parameter", "ac:rich-text-body", "ac:plain-text-body",
    "ac:link", "ac:link-body", "ac:plain-text-link-body", "ac:image", "ac:emoticon",
    "ac:task-list", "ac:task", "ac:task-status", "ac:task-body", "ac:layout",
    "ac:layout-section", "ac:layout-cell", "ac:placeholder", "ac:adf-extension", "ac:adf-node",
    "ac:adf-content", "ac:adf-attribute", "ri:page", "ri:user", "ri:attachment", "ri:url",
    "foo:bar", "x",
]  # fmt: skip
ATTRS = [
    'ac:name="code"', 'ac:name="info"', 'ac:name="status"', 'ac:name="expand"',
    'ac:name="language"', 'ac:name="title"', 'ac:name="jira"', 'ac:name="nope"',
    'ri:content-title="Page"', 'ri:filename="a b.png"', 'ri:account-id="557058:x"',
    'ri:value="https://e.x/i.png"', 'colspan="3"', 'rowspan="0"', 'colspan="-1"',
    'rowspan="99999"', 'start="x"', 'href="javascript:1"', 'datetime="2024-01-01"',
    'type="panel"', 'key="panel-type"', "bare", 'x="<>&"',
]  # fmt: skip
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["&nbsp;", "&rarr;", "&bogus;", "&", "<", ">", "]]>", "|", "`", "*_", "\n"]
)


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9))
    if kind < 2 or depth > 6:
        return draw(TEXT)
    if kind == 2:
        return f"<![CDATA[{draw(TEXT)}]]>"
    tag = draw(st.sampled_from(TAGS))
    attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=2)))
    opening = f"<{tag} {attrs}>" if attrs else f"<{tag}>"
    if kind == 3:
        return opening.replace(">", "/>", 1) if draw(st.booleans()) else opening  # unclosed
    inner = "".join(draw(st.lists(_fragment(depth + 1), max_size=4)))
    closing = f"</{tag}>" if draw(st.integers(0, 9)) else f"</{draw(st.sampled_from(TAGS))}>"
    return opening + inner + closing


SOUP = st.lists(_fragment(), max_size=6).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_tag_soup_never_raises(storage: str) -> None:
    assert isinstance(storage_to_markdown(storage), str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP, st.integers(0, 10_000))
def test_truncated_documents_never_raise(storage: str, cut: int) -> None:
    assert isinstance(storage_to_markdown(storage[: cut % (len(storage) + 1)]), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(storage: str) -> None:
    assert isinstance(storage_to_markdown(storage), str)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ul", "ol", "li", "table", "tr", "td", "div", "blockquote",
                                 "ac:rich-text-body", "ac:task-list", "ac:task-body"]),
                min_size=1, max_size=400))  # fmt: skip
def test_arbitrary_nesting_never_raises(tags: list[str]) -> None:
    storage = "".join(f"<{t}>" for t in tags) + "deep text" + "".join(f"</{t}>" for t in tags[::-1])
    markdown = storage_to_markdown(storage)
    assert isinstance(markdown, str)
    assert "deep text" in markdown or "deep" in markdown


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80))
def test_code_macro_bodies_survive_byte_for_byte(code: str) -> None:
    code = code.replace("\r", "").replace("]]>", "]] >")
    if not code.strip() or any(ord(ch) < 32 and ch not in "\t\n" for ch in code):
        return
    storage = (
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">text'
        f"</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )
    assert code.rstrip("\n") in storage_to_markdown(storage)
