"""Tables: GFM when every cell fits on one line, else one list item per row.

Cells are converted as blocks first. A cell fits a GFM table when its blocks can be joined with
``<br>`` (paragraphs, list items, one-line code) and it holds no nested table or multi-line code.
Spans are expanded on a grid: a row-spanning cell repeats in each row it covers, a column-
spanning cell fills its first column (header cells label every column they cover). Tables that
do not fit become a list, one item per row, each cell as ``Header: value``, so every cell's
text stays attached to its row and column.
"""

from __future__ import annotations

import re

from lxml import etree

from .grid import Cell, Slot, build_grid
from .protocol import Converter
from .storage import tag_name
from .text import Ctx, collapse_blank_lines, has_token, indent_rest, replace_tokens, token_indices

_MAX_COLSPAN = 50
_MAX_ROWSPAN = 1000
_HEADING_RE = re.compile(r"^#{1,6} +")
_QUOTE_RE = re.compile(r"^(?:> ?)+")
_BOLD_RE = re.compile(r"^\*\*(.+)\*\*(:?)$")
_BLOCK_START_RE = re.compile(r"[-*+] |\d{1,9}[.)] |[>|#\x00]|```")


def _read_rows(
    conv: Converter, table: etree._Element, ctx: Ctx
) -> tuple[list[list[Cell]], int, list[str]]:
    """Rows of cells, how many lead from ``<thead>``, and text found outside any cell."""
    loose: list[str] = []
    pending: list[tuple[list[etree._Element], bool]] = []
    _collect(conv, table, ctx, pending, loose, in_head=False)
    rows: list[list[Cell]] = []
    head_rows = 0
    for cell_els, in_head in pending:
        row = [_cell(conv, cell_el, ctx, in_head) for cell_el in cell_els]
        if in_head and head_rows == len(rows):
            head_rows += 1
        rows.append(row)
    return rows, head_rows, loose


def _collect(
    conv: Converter,
    parent: etree._Element,
    ctx: Ctx,
    pending: list[tuple[list[etree._Element], bool]],
    loose: list[str],
    in_head: bool,
) -> None:
    stray: list[etree._Element] = []  # cells outside any <tr>
    _loose_text(conv, parent.text, ctx, loose)
    for kid in parent:
        name = tag_name(kid.tag)
        if name in ("td", "th"):
            stray.append(kid)
        else:
            if stray:
                pending.append((stray, in_head))
                stray = []
            if name == "tr":
                pending.append((_row_cells(conv, kid, ctx, loose), in_head))
            elif name in ("thead", "tbody", "tfoot"):
                _collect(conv, kid, ctx, pending, loose, in_head or name == "thead")
            elif name == "caption":
                _loose_block(conv.block_body(kid, ctx), loose)
            elif name not in ("colgroup", "col"):
                _loose_block(conv.process_tag(kid, ctx), loose)
        _loose_text(conv, kid.tail, ctx, loose)
    if stray:
        pending.append((stray, in_head))


def _row_cells(
    conv: Converter, tr: etree._Element, ctx: Ctx, loose: list[str]
) -> list[etree._Element]:
    """The cells of ``tr``; anything else in it (text, stray elements) goes to ``loose``."""
    cells = []
    _loose_text(conv, tr.text, ctx, loose)
    for kid in tr:
        if tag_name(kid.tag) in ("td", "th"):
            cells.append(kid)
        else:
            _loose_block(conv.process_tag(kid, ctx), loose)
        _loose_text(conv, kid.tail, ctx, loose)
    return cells


def _loose_block(markdown: str, loose: list[str]) -> None:
    if markdown.strip():
        loose.append(markdown.strip())


def _loose_text(conv: Converter, text: str | None, ctx: Ctx, loose: list[str]) -> None:
    if text and not text.isspace():
        loose.append(conv.plain(text, ctx))


def _span(el: etree._Element, name: str, limit: int) -> int:
    try:
        return max(1, min(int((el.get(name) or "1").strip()), limit))
    except ValueError:
        return 1


def _cell(conv: Converter, el: etree._Element, ctx: Ctx, in_head: bool) -> Cell:
    before = conv.tables_rendered
    markdown = conv.block_body(el, ctx)
    return Cell(
        markdown,
        header=tag_name(el.tag) == "th" or in_head,
        colspan=_span(el, "colspan", _MAX_COLSPAN),
        rowspan=_span(el, "rowspan", _MAX_ROWSPAN),
        nested_table=conv.tables_rendered > before,
    )


def _flatten(conv: Converter, markdown: str) -> str | None:
    """One-line form of a cell's Markdown, or ``None`` when it cannot be one line."""
    if not markdown:
        return ""
    if has_token(markdown):
        if any("\n" in conv.code_block(i).code.strip("\n") for i in token_indices(markdown)):
            return None
        markdown = replace_tokens(markdown, lambda i: conv.code_block(i).inline())
    parts = []
    for line in markdown.split("\n"):
        line = line.strip()
        if not line:
            continue
        line = _QUOTE_RE.sub("", line)
        if _HEADING_RE.match(line):
            line = "**" + _HEADING_RE.sub("", line) + "**"
        if line:
            parts.append(line)
    return "<br>".join(parts).replace("|", "\\|")


def _header_labels(
    conv: Converter, grid: list[list[Slot | None]], head: int, width: int
) -> list[str]:
    labels = []
    for col in range(width):
        parts: list[str] = []
        for line in grid[:head]:
            slot = line[col] if col < len(line) else None
            if slot is None:
                continue
            text = _flatten(conv, slot.cell.markdown) or ""
            text = _unbold(text.replace("<br>", " ").strip())
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        labels.append(" / ".join(parts))
    return labels


def render_table(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    conv.count_table()
    rows, head_rows, loose = _read_rows(conv, el, ctx)
    caption = "\n\n".join(loose)
    if not head_rows:  # header rows are the leading rows made only of <th> cells
        while (
            head_rows < len(rows)
            and rows[head_rows]
            and all(c.header for c in rows[head_rows])
            and (head_rows == 0 or len(rows[head_rows]) > 1)  # not a one-cell section row
        ):
            head_rows += 1
        if head_rows == len(rows) and len(rows) > 1:
            head_rows = 1  # an all-<th> table: the first row heads the rest
    grid = build_grid(rows)
    width = max((len(line) for line in grid), default=0)
    if not width or all(not slot.cell.markdown for line in grid for slot in line if slot):
        return "\n\n" + caption + "\n\n" if caption else ""
    fits = all(
        not slot.cell.nested_table and _flatten(conv, slot.cell.markdown) is not None
        for line in grid
        for slot in line
        if slot and slot.first_row and slot.first_col
    )
    if "_inline" in ctx:
        return " " + _inline(conv, grid) + " "
    body = _gfm(conv, grid, head_rows, width) if fits else _rows(conv, grid, head_rows, width)
    head = caption + "\n\n" if caption else ""
    return "\n\n" + head + body + "\n\n"


def _gfm(conv: Converter, grid: list[list[Slot | None]], head: int, width: int) -> str:
    if head:
        header = _header_labels(conv, grid, head, width)
        data = grid[head:]
    else:
        header = [_gfm_cell(conv, line, col) for line in grid[:1] for col in range(width)]
        data = grid[1:]
    lines = [_gfm_line(header), _gfm_line(["---"] * width)]
    for line in data:
        lines.append(_gfm_line([_gfm_cell(conv, line, col) for col in range(width)]))
    return "\n".join(lines)


def _gfm_line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _gfm_cell(conv: Converter, line: list[Slot | None], col: int) -> str:
    slot = line[col] if col < len(line) else None
    if slot is None or not slot.first_col:
        return ""
    return _flatten(conv, slot.cell.markdown) or ""


def _unbold(text: str) -> str:
    """A header cell's text without the bold that only repeats that it is a header."""
    match = _BOLD_RE.match(text)
    return match.group(1).strip() if match and "**" not in match.group(1) else text


def _label(text: str) -> str:
    return text.replace("\\|", "|").replace("<br>", " ").strip().rstrip(":").strip()


def _entry(label: str, markdown: str) -> str:
    """``Label: text``; blocks that cannot follow a label on its line go below it."""
    if not label:
        return markdown
    first, _, rest = markdown.partition("\n\n")
    if "\n" in first or _BLOCK_START_RE.match(first):
        return f"{label}:\n\n{markdown}"
    return f"{label}: {first}\n\n{rest}" if rest else f"{label}: {first}"


def _rows(conv: Converter, grid: list[list[Slot | None]], head: int, width: int) -> str:
    labels = [_label(text) for text in _header_labels(conv, grid, head, width)] if head else []
    items = []
    for line in grid[head:] if head else grid:
        entries = []
        for col, slot in enumerate(line):
            if slot is None or not slot.first_col or not slot.cell.markdown:
                continue
            label = labels[col] if col < len(labels) else ""
            entries.append(_entry(label, slot.cell.markdown))
        if not entries:
            continue
        item = "- " + indent_rest(entries[0], 2)
        for entry in entries[1:]:
            item += "\n  - " + indent_rest(entry, 4)
        items.append(collapse_blank_lines(item))
    return "\n".join(items)


def _inline(conv: Converter, grid: list[list[Slot | None]]) -> str:
    rows = []
    for line in grid:
        texts = [_flatten(conv, s.cell.markdown) or "" for s in line if s and s.first_col]
        rows.append(" | ".join(t.replace("<br>", " ") for t in texts if t))
    return " ".join(row for row in rows if row)
