"""Confluence macros: ``ac:structured-macro`` (and the older ``ac:macro``).

Every macro keeps the text a reader of the page sees and nothing else: parameters (language,
colour, ids, widths...) never reach the Markdown, except the few that are what a reader sees (a
panel's title, a Jira issue key, a Jira query). Unknown macros keep their rich-text body and
their plain-text body (as a code block). ``docs/markdown.md`` lists what each macro becomes.
"""

from __future__ import annotations

import re

from lxml import etree

from . import jira
from .links import attachment_link, mention, url_link
from .protocol import Converter
from .storage import attr, child, raw_text, tag_name
from .text import Ctx, as_block, collapse_ws, inline_code, normalize_language, quote, words

_PANEL_LABELS = {
    "info": "Info",
    "note": "Note",
    "warning": "Warning",
    "tip": "Tip",
    "success": "Success",
    "error": "Error",
    "panel": "Panel",
    "custom": "Panel",
    "tip-macro": "Tip",
}
# Macros whose output is generated from data the page does not hold: nothing to keep.
_DROPPED = words(
    "toc toc-zone-marker children pagetree pagetreesearch recently-updated "
    "recently-updated-dashboard anchor "
    "contentbylabel content-by-label listlabels popular-labels related-labels labels-list "
    "blog-posts search livesearch attachments gallery profile-picture "
    "contributors contributors-summary page-index index spaces space-list spacelist "
    "create-from-template create-space-button detailssummary tasks-report-macro "
    "task-report change-history page-info recently-viewed favpages global-reports network "
    "calendar team-calendar gadget userlister loremipsum roadmap "
    "space-details navmap listlabels include-children"
)
_PLAIN_LANGUAGES = {
    "html": "html",
    "html-include": "html",
    "plantuml": "plantuml",
    "plantumlrender": "plantuml",
    "mermaid": "mermaid",
    "mermaid-macro": "mermaid",
    "mermaid-cloud": "mermaid",
    "csv": "csv",
    "json": "json",
    "sql": "sql",
    "sql-query": "sql",
    "latex": "latex",
    "mathblock": "latex",
    "math": "latex",
    "noformat": "",
}
_FILE_MACROS = frozenset(
    {"view-file", "viewfile", "viewpdf", "viewdoc", "viewxls", "viewppt", "multimedia"}
)
_INLINE = frozenset({"status", "anchor", "mathinline", *_FILE_MACROS})
_BLOCKISH = words(
    "p div table ul ol h1 h2 h3 h4 h5 h6 pre blockquote hr ac:structured-macro ac:macro "
    "ac:task-list ac:layout ac:adf-extension ac:image"
)


def macro_name(el: etree._Element) -> str:
    return attr(el, "ac:name").strip().lower()


def is_block_macro(el: etree._Element) -> bool:
    """Whether ``el`` renders as a block (whitespace around it is insignificant)."""
    name = macro_name(el)
    if name in _INLINE or name in _DROPPED:
        return False
    if name in jira.MACROS:
        return bool(jira.query(params(el)))
    if name in _PANEL_LABELS or (name in _HANDLERS and name not in ("excerpt", "markdown")):
        return True
    for kid in el:
        kind = tag_name(kid.tag)
        if kind == "ac:plain-text-body":
            return True
        if kind == "ac:rich-text-body":
            return any(tag_name(grandkid.tag) in _BLOCKISH for grandkid in kid)
    return False


def params(el: etree._Element) -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    for kid in el:
        name = tag_name(kid.tag)
        if name == "ac:parameter" or name == "ac:default-parameter":
            found.setdefault(attr(kid, "ac:name").strip(), kid)
    return found


def param_text(found: dict[str, etree._Element], *names: str) -> str:
    for name in names:
        el = found.get(name)
        if el is not None:
            text = collapse_ws("".join(el.itertext()))
            if text:
                return text
    return ""


def render_macro(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    name = macro_name(el)
    if name in _DROPPED:
        return ""
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(conv, el, ctx, name)
    if name in _PANEL_LABELS:
        return _panel(conv, el, ctx, name)
    return _unknown(conv, el, ctx, name)


def _code(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    found = params(el)
    body = child(el, "ac:plain-text-body")
    if body is None:
        body = child(el, "ac:rich-text-body")
    code = raw_text(body) if body is not None else ""
    title = param_text(found, "title")
    language = "" if name == "noformat" else normalize_language(param_text(found, "language", ""))
    if "_inline" in ctx:
        return " " + inline_code(collapse_ws(code)) + " "
    if not code.strip():
        return as_block(f"**{conv.plain(title)}**", ctx) if title else ""
    placeholder = conv.add_code(code, language)
    head = f"**{conv.plain(title)}**\n\n" if title else ""
    return "\n\n" + head + placeholder + "\n\n"


def render_plain_body(conv: Converter, el: etree._Element, ctx: Ctx, language: str) -> str:
    code = raw_text(el)
    if not code.strip():
        return ""
    if "_inline" in ctx:
        return " " + inline_code(collapse_ws(code)) + " "
    return "\n\n" + conv.add_code(code, language) + "\n\n"


def render_loose_plain_body(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An ``ac:plain-text-body`` outside any macro: a code block without a language."""
    return render_plain_body(conv, el, ctx, "")


def panel_label(kind: str) -> str:
    """The label a panel of this kind (macro name or ADF panel type) shows, ``""`` if none."""
    return _PANEL_LABELS.get(kind.strip().lower(), "")


def _panel(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    found = params(el)
    body, mark = conv.quoted_body(child(el, "ac:rich-text-body"), ctx)
    label = _PANEL_LABELS.get(name, "")
    return labelled_quote(conv, label, param_text(found, "title"), body, ctx, mark)


def labelled_quote(
    conv: Converter, label: str, title: str, body: str, ctx: Ctx, mark: bool = True
) -> str:
    """A blockquote whose first line names the panel: ``> **Warning:** ...`` (``mark``:
    whether to prefix the lines with ``>``)."""
    title = conv.plain(title)
    if label == "Panel" and title:  # a plain panel is named by its title alone
        label = ""
    if label and title:
        head = f"**{label}: {title}**"
    elif label:
        head = f"**{label}:**"
    else:
        head = f"**{title}**" if title else ""
    if not body:
        text = head
    elif head and not title and _starts_with_text(body):
        text = f"{head} {body}"
    else:
        text = f"{head}\n\n{body}" if head else body
    if not text:
        return ""
    if "_inline" in ctx:
        return " " + collapse_ws(text) + " "
    return "\n\n" + (quote(text) if mark else text) + "\n\n"


_BLOCK_START_RE = re.compile(r"(?:[-*+>|#]|\d{1,9}[.)]|\x00|!\[)")


def _starts_with_text(body: str) -> bool:
    return not _BLOCK_START_RE.match(body)


def _expand(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    title = conv.plain(param_text(params(el), "title", ""))
    body = conv.block_body(child(el, "ac:rich-text-body"), ctx)
    if title and body:
        return as_block(f"**{title}**\n\n{body}", ctx)
    return as_block(body or (f"**{title}**" if title else ""), ctx)


def _status(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    title = param_text(params(el), "title")
    return f"[{conv.plain(title, ctx)}]" if title else ""


def _rich_body(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    body = child(el, "ac:rich-text-body")
    if body is None:
        return ""
    if is_block_macro(el):
        return as_block(conv.block_body(body, ctx), ctx)
    return conv.process_children(body, ctx, False)


def _include(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    for param in params(el).values():
        for node in param.iter():
            if tag_name(node.tag) in ("ri:page", "ri:blog-post"):
                title = attr(node, "ri:content-title").strip()
                if title:
                    kind = "Excerpt" if name == "excerpt-include" else "Content"
                    return as_block(f"*{kind} included from page: {conv.plain(title)}*", ctx)
    return ""


def _file(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    for param in params(el).values():
        for node in param.iter():
            if tag_name(node.tag) == "ri:attachment":
                return attachment_link(conv, node, "", ctx)
    return ""


def _jira(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    found = params(el)
    key = jira.issue_key(found)
    if key:
        url = jira.browse_url(conv.jira_url, key)
        return url_link(conv, url, conv.plain(key, ctx), ctx) if url else conv.plain(key, ctx)
    query = jira.query(found)
    if not query:
        return ""
    label = "Jira chart" if name in jira.CHARTS else "Jira query"
    return as_block(f"{label}: {conv.plain(query, ctx)}", ctx)


def _profile(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    for param in params(el).values():
        for node in param.iter():
            if tag_name(node.tag) == "ri:user":
                return as_block(mention(conv, node, "", ctx), ctx)
    return ""


def _embed(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    """A widget or iframe: a link to what it embeds (an ``http(s)`` URL only)."""
    for param in params(el).values():
        for node in param.iter():
            url = attr(node, "ri:value").strip() if tag_name(node.tag) == "ri:url" else ""
            if url.lower().startswith(("https://", "http://")):
                return as_block(url_link(conv, url, "", ctx), ctx)
    return ""


def _math_inline(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    body = param_text(params(el), "body")
    return f"${body}$" if body else ""


def _markdown(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    body = child(el, "ac:plain-text-body")
    text = raw_text(body).strip() if body is not None else ""
    return as_block(text, ctx)


def _plain_language(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    body = child(el, "ac:plain-text-body")
    if body is None:
        return _unknown(conv, el, ctx, name)
    return render_plain_body(conv, body, ctx, _PLAIN_LANGUAGES.get(name, ""))


def _unknown(conv: Converter, el: etree._Element, ctx: Ctx, name: str) -> str:
    rich = child(el, "ac:rich-text-body")
    plain = child(el, "ac:plain-text-body")
    out = _rich_body(conv, el, ctx, name) if rich is not None else ""
    if plain is not None:
        out += render_plain_body(conv, plain, ctx, "")
    return out


_HANDLERS = {
    "code": _code,
    "noformat": _code,
    "expand": _expand,
    "ui-expand": _expand,
    "status": _status,
    "excerpt": _rich_body,
    "excerpt-include": _include,
    "include": _include,
    "mathinline": _math_inline,
    "profile": _profile,
    "widget": _embed,
    "iframe": _embed,
    **dict.fromkeys(jira.MACROS, _jira),
    "markdown": _markdown,
    **{name: _file for name in _FILE_MACROS},
    **{name: _plain_language for name in _PLAIN_LANGUAGES if name != "noformat"},
}
