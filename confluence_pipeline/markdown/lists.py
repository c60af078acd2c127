"""Bulleted, numbered and task lists, nested to any depth."""

from __future__ import annotations

import re

from lxml import etree

from .protocol import Converter
from .storage import child, raw_text, tag_name
from .text import Ctx, collapse_blank_lines, collapse_ws, indent_all, indent_rest

# A blank line before a nested list inside an item: keep the item tight.
_GAP_BEFORE_LIST_RE = re.compile(r"\n\n+(?=[ ]*(?:[-*+]|\d{1,9}[.)]) )")
_MARKER_RE = re.compile(r"(?:[-*+]|\d{1,9}[.)]) ")
_LIST_TAGS = frozenset({"ul", "ol"})


def _item_body(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    body = collapse_blank_lines(conv.process_children(el, ctx, True).strip())
    if "\n\n" in body:
        body = _GAP_BEFORE_LIST_RE.sub("\n", body)
    return body


def _start(el: etree._Element) -> int:
    try:
        return max(0, min(int((el.get("start") or "1").strip()), 10**9 - 1))
    except ValueError:
        return 1


def _finish(items: list[str], ctx: Ctx) -> str:
    if not items:
        return ""
    if "_inline" in ctx:
        return " " + " ".join(collapse_ws(item) for item in items) + " "
    return "\n\n" + "\n".join(items) + "\n\n"


def _attach(items: list[str], nested: str, ctx: Ctx) -> None:
    """Nest ``nested`` (a rendered list) under the last item, or start the list with it."""
    nested = nested.strip("\n")
    if not nested:
        return
    if not items:
        items.append(nested)
        return
    match = _MARKER_RE.match(items[-1])
    items[-1] += "\n" + indent_all(nested, len(match.group(0)) if match else 2)


def render_list(
    conv: Converter,
    el: etree._Element,
    ctx: Ctx,
    ordered: bool,
    items: list[etree._Element] | None = None,
) -> str:
    """``- item`` / ``1. item``; nested lists indented under their item."""
    number = _start(el) if ordered else 0
    out: list[str] = []
    for kid in items if items is not None else el:
        name = tag_name(kid.tag)
        if name == "li":
            body = _item_body(conv, kid, ctx)
            marker = f"{number}. " if ordered else "- "
            number += 1
            if body:
                out.append(marker + indent_rest(body, len(marker)))
        elif name in _LIST_TAGS:
            _attach(out, conv.process_tag(kid, ctx), ctx)
        else:
            text = conv.process_tag(kid, ctx).strip()
            if text:
                out.append("- " + indent_rest(text, 2))
        if items is None and kid.tail and kid.tail.strip():
            out.append("- " + conv.plain(kid.tail, ctx))
    if items is None and el.text and el.text.strip():
        out.insert(0, "- " + conv.plain(el.text, ctx))
    return _finish(out, ctx)


def render_bulleted(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    return render_list(conv, el, ctx, ordered=False)


def render_numbered(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    return render_list(conv, el, ctx, ordered=True)


def render_loose_item(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An ``<li>`` outside any list: a list of one item."""
    return render_list(conv, el, ctx, ordered=False, items=[el])


def _task_status(task: etree._Element) -> str:
    status = child(task, "ac:task-status")
    done = status is not None and raw_text(status).strip().lower() in ("complete", "completed")
    return "- [x] " if done else "- [ ] "


_TASK_META = frozenset({"ac:task-id", "ac:task-uuid", "ac:task-status"})
_NESTED_TASKS = frozenset({"ac:task-list", "ul", "ol"})


def _task_item(conv: Converter, task: etree._Element, ctx: Ctx) -> str:
    parts: list[str] = [conv.plain(task.text, ctx)] if task.text else []
    nested: list[str] = []
    for kid in task:
        name = tag_name(kid.tag)
        if name in _NESTED_TASKS:
            nested.append(conv.process_tag(kid, ctx).strip("\n"))
        elif name == "ac:task-body":
            parts.append(_item_body(conv, kid, ctx))
        elif name not in _TASK_META:
            parts.append(conv.process_tag(kid, ctx).strip())
        if kid.tail and not kid.tail.isspace():
            parts.append(conv.plain(kid.tail, ctx))
    body = " ".join(part for part in parts if part)
    marker = _task_status(task)
    item = marker + indent_rest(body, 2) if body else marker.rstrip()
    for block in nested:
        if block:
            item += "\n" + indent_all(block, 2)
    return item


def render_task_list(
    conv: Converter,
    el: etree._Element,
    ctx: Ctx,
    tasks: list[etree._Element] | None = None,
) -> str:
    """``- [x] done`` / ``- [ ] open``, nested task lists indented under their task."""
    out: list[str] = []
    if tasks is None and el.text and not el.text.isspace():
        out.append("- " + conv.plain(el.text, ctx))
    for kid in tasks if tasks is not None else el:
        name = tag_name(kid.tag)
        if name == "ac:task":
            out.append(_task_item(conv, kid, ctx))
        elif name in ("ac:task-list", "ul", "ol"):
            _attach(out, conv.process_tag(kid, ctx), ctx)
        elif isinstance(kid.tag, str) and name not in ("ac:task-id", "ac:task-uuid"):
            text = conv.process_tag(kid, ctx).strip()
            if text:
                out.append("- " + indent_rest(text, 2))
        if tasks is None and kid.tail and not kid.tail.isspace():
            out.append("- " + conv.plain(kid.tail, ctx))
    return _finish(out, ctx)


def render_loose_task(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An ``ac:task`` outside any task list: a task list of one task."""
    return render_task_list(conv, el, ctx, tasks=[el])
