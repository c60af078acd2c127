"""Small string helpers shared by the converter modules: fences, indentation, quoting."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Ctx = frozenset[str]  # markdownify's parent_tags: "_inline" (headings), "_noformat" (code)
EMPTY: Ctx = frozenset()

_DEST_UNSAFE_RE = re.compile(r"[\s()<>]")
_BACKTICKS_RE = re.compile(r"`+")
_BLANK_LINE_RE = re.compile(r"\n[ \t]+(?=\n)")
_SPACES_RE = re.compile(r" {2,}")
_WS_RE = re.compile(r"\s+")
_LINE_START_RE = re.compile(r"\n(?=[^\n])")
# What may stand before a code placeholder on its line: indentation, list and quote markers.
_TOKEN_PREFIX_RE = re.compile(r"(?:[ \t]|>|[-*+] (?:\[[ xX]\] )?|\d{1,9}[.)] )*")
_TOKEN_RE = re.compile(r"\x00C(\d+)\x00")
_MARKER_RE = re.compile(r"[-*+] (?:\[[ xX]\] )?|\d{1,9}[.)] ")
_LANG_RE = re.compile(r"[^\w#+.-]+")
_LANG_ALIASES = {
    "c#": "csharp",
    "c++": "cpp",
    "none": "",
    "plain": "",
    "plaintext": "",
}


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block kept aside while the page is converted."""

    code: str
    language: str = ""

    def fenced(self) -> str:
        longest = max((len(run) for run in _BACKTICKS_RE.findall(self.code)), default=0)
        fence = "`" * max(3, longest + 1)
        code = self.code if self.code.endswith("\n") else self.code + "\n"
        return f"{fence}{self.language}\n{code}{fence}"

    def inline(self) -> str:
        return inline_code(_WS_RE.sub(" ", self.code).strip())


def words(text: str) -> frozenset[str]:
    """The set of whitespace-separated names in ``text`` (for long name tables)."""
    return frozenset(text.split())


def token(index: int) -> str:
    return f"\x00C{index}\x00"


def has_token(text: str) -> bool:
    return "\x00" in text


def token_indices(text: str) -> list[int]:
    return [int(n) for n in _TOKEN_RE.findall(text)]


def replace_tokens(text: str, replace: Callable[[int], str]) -> str:
    """Replace every placeholder in ``text`` with ``replace(index)``."""
    return _TOKEN_RE.sub(lambda m: replace(int(m.group(1))), text)


def inline_code(text: str) -> str:
    if not text:
        return ""
    longest = max((len(run) for run in _BACKTICKS_RE.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if longest or text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def normalize_language(language: str) -> str:
    """A fence info string for a Confluence code-macro language (``""`` for none)."""
    language = language.strip().lower()
    language = _LANG_ALIASES.get(language, language)
    return _LANG_RE.sub("", language)


def collapse_blank_lines(text: str) -> str:
    """At most one blank line in a row (``str.replace`` beats a regex here by far)."""
    while "\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n").replace("\n\n\n", "\n\n")
    return text


def _squeeze_spaces(match: re.Match[str]) -> str:
    text = match.string
    start, end = match.span()
    if start == 0 or text[start - 1] == "\n" or end == len(text) or text[end] == "\n":
        return match.group(0)  # indentation, or a hard line break
    return " "


def indent_rest(text: str, width: int) -> str:
    """Indent every non-empty line but the first by ``width`` spaces."""
    if "\n" not in text:
        return text
    return _LINE_START_RE.sub("\n" + " " * width, text)


def indent_all(text: str, width: int) -> str:
    pad = " " * width
    return pad + indent_rest(text, width) if text else text


def quote(text: str) -> str:
    """Prefix every line with ``> `` (``>`` for blank lines)."""
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def collapse_ws(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def as_block(text: str, ctx: Ctx) -> str:
    """``text`` as a block between blank lines; inside a heading, one line between spaces."""
    if not text:
        return ""
    if "_inline" in ctx:
        return " " + collapse_ws(text) + " "
    return "\n\n" + text + "\n\n"


def finish(markdown: str, blocks: list[CodeBlock]) -> str:
    """Tidy whitespace of a converted page and put its code blocks back."""
    markdown = _BLANK_LINE_RE.sub("\n", markdown)
    markdown = collapse_blank_lines(markdown)
    markdown = _SPACES_RE.sub(_squeeze_spaces, markdown)
    markdown = markdown.strip()
    if blocks and "\x00" in markdown:
        markdown = _TOKEN_RE.sub(lambda m: _restore(m, blocks), markdown)
    return markdown


def _restore(match: re.Match[str], blocks: list[CodeBlock]) -> str:
    """The fenced block for a placeholder, its lines prefixed like the placeholder's line."""
    text = match.string
    start, end = match.span()
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    prefix = text[line_start:start]
    fenced = blocks[int(match.group(1))].fenced()
    if text[end : len(text) if line_end < 0 else line_end].strip():
        return "\n" + fenced + "\n"  # not alone on its line (should not happen): fence anyway
    if not prefix:
        return fenced
    if not _TOKEN_PREFIX_RE.fullmatch(prefix):
        return "\n" + fenced
    rest = _MARKER_RE.sub(lambda m: " " * len(m.group(0)), prefix)
    bare = rest.rstrip()
    lines = fenced.split("\n")
    return "\n".join([lines[0]] + [rest + line if line else bare for line in lines[1:]])


def link_destination(url: str) -> str:
    """``url`` as a Markdown link destination, in angle brackets when it needs them."""
    if _DEST_UNSAFE_RE.search(url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E").replace("\n", " ") + ">"
    return url


def escape_brackets(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
