"""Reading converted Markdown back: fenced code blocks, GFM tables, lines, indentation.

The corpus asserts on meaning through these helpers instead of comparing whole outputs, so a
harmless change of spacing does not break a case but a lost cell, task state or code byte does.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^([ >]*)(`{3,})([^`\n]*)$")
_PARAM_RE = re.compile(r'<ac:parameter ac:name="([^"]*)"[^>]*>([^<]*)</ac:parameter>')
_MACRO_RE = re.compile(r"<ac:structured-macro\b.*?</ac:structured-macro>", re.S)
_DECORATION = " \t>*#|`-_"


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """``(info string, content)`` of every fenced code block, nesting prefixes removed."""
    blocks = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE_RE.match(lines[i])
        if not match:
            i += 1
            continue
        prefix, fence, info = match.groups()
        body = []
        i += 1
        bare = prefix.rstrip()
        while i < len(lines) and lines[i] not in (prefix + fence, bare + fence):
            line = lines[i]
            if line.startswith(prefix):
                line = line[len(prefix) :]
            elif line == bare:
                line = ""
            body.append(line)
            i += 1
        blocks.append((info.strip(), "\n".join(body)))
        i += 1
    return blocks


def gfm_tables(markdown: str) -> list[list[list[str]]]:
    """Rows (header first, separator dropped) of each GFM table, cells unescaped and stripped."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in markdown.split("\n"):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            cells = [
                cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", stripped[1:-1])
            ]
            if all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
                continue
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def line_of(markdown: str, text: str) -> str:
    for line in markdown.split("\n"):
        if text in line:
            return line
    raise AssertionError(f"{text!r} not found in:\n{markdown}")


def indent_of(markdown: str, text: str) -> int:
    line = line_of(markdown, text)
    return len(line) - len(line.lstrip(" "))


def without_code(markdown: str) -> str:
    """``markdown`` with the content of fenced code blocks (which may hold anything) removed."""
    out = []
    fence = None
    for line in markdown.split("\n"):
        match = _FENCE_RE.match(line)
        if fence is None:
            if match:
                fence = match.group(2)
            else:
                out.append(line)
        elif match and match.group(2) == fence and not match.group(3).strip():
            fence = None
    return "\n".join(out)


def stripped_lines(markdown: str) -> set[str]:
    """Lines outside code, with Markdown decoration (quote, list, emphasis, table) trimmed."""
    return {line.strip(_DECORATION) for line in without_code(markdown).split("\n")}


def macro_parameters(storage: str) -> list[tuple[str, str]]:
    """``(name, value)`` of every plain-text macro parameter in ``storage``."""
    return [(name, value.strip()) for name, value in _PARAM_RE.findall(storage) if value.strip()]


def macro_parameter_runs(storage: str) -> list[str]:
    """Each macro's parameter values joined by spaces (``python true``): never in the output."""
    runs = []
    for macro in _MACRO_RE.findall(storage):
        values = [value.strip() for _, value in _PARAM_RE.findall(macro) if value.strip()]
        if len(values) > 1:
            runs.append(" ".join(values))
    return runs
