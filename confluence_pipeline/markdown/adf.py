"""Editor extensions stored as ADF inside storage format (``ac:adf-extension``).

The new editor stores some nodes (panels of any colour, decision lists) as an ADF node with an
HTML fallback beside it. The ADF node is read when understood, the fallback otherwise.
"""

from __future__ import annotations

from lxml import etree

from .macros import labelled_quote, panel_label
from .protocol import Converter
from .storage import attr, child, tag_name
from .text import Ctx, as_block, collapse_ws


def render_adf_extension(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An editor extension: its ADF node when understood, else its HTML fallback."""
    node = child(el, "ac:adf-node")
    if node is not None:
        out = render_adf_node(conv, node, ctx)
        if out.strip():
            return out
    return as_block(conv.block_body(child(el, "ac:adf-fallback"), ctx), ctx)


def _adf_attributes(node: etree._Element) -> dict[str, str]:
    return {
        attr(kid, "key"): collapse_ws("".join(kid.itertext()))
        for kid in node
        if tag_name(kid.tag) == "ac:adf-attribute"
    }


def render_adf_node(conv: Converter, node: etree._Element, ctx: Ctx) -> str:
    kind = attr(node, "type").strip().lower()
    content = child(node, "ac:adf-content")
    if kind == "panel":
        label = panel_label(_adf_attributes(node).get("panel-type", ""))
        body, mark = conv.quoted_body(content, ctx)
        return labelled_quote(conv, label, "", body, ctx, mark)
    if kind == "decision-list":
        items = [_decision(conv, item, ctx) for item in _decision_items(node)]
        return as_block("\n".join(item for item in items if item), ctx)
    if kind == "decision-item":
        return as_block(_decision(conv, node, ctx), ctx)
    parts = [conv.block_body(content, ctx)] if content is not None else []
    parts += [render_adf_node(conv, kid, ctx) for kid in node if tag_name(kid.tag) == "ac:adf-node"]
    return as_block("\n\n".join(part.strip() for part in parts if part.strip()), ctx)


def _decision_items(node: etree._Element) -> list[etree._Element]:
    return [
        item
        for item in node.iter()
        if tag_name(item.tag) == "ac:adf-node" and attr(item, "type") == "decision-item"
    ]


def _decision(conv: Converter, item: etree._Element, ctx: Ctx) -> str:
    state = _adf_attributes(item).get("state", "").upper()
    text = collapse_ws(conv.block_body(child(item, "ac:adf-content"), ctx))
    label = "Decision" if state in ("DECIDED", "") else "Decision (undecided)"
    return f"- **{label}:** {text}" if text else ""
