"""The text the emulator "parses" out of an uploaded file, with the standard library only:
text-like files are their own text (HTML without its tags); DOCX, PPTX and XLSX the text of
their XML parts; PDF the literal strings of its uncompressed content streams. What yields no
text is found by its file name."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".csv")
HTML_SUFFIXES = (".html", ".htm")
OFFICE_SUFFIXES = (".docx", ".pptx", ".xlsx")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, *OFFICE_SUFFIXES, ".pdf")
_TAG = re.compile(r"<[^>]+>")
_PDF_STRING = re.compile(rb"\(((?:\\.|[^\\()])*)\)")
_OFFICE_PARTS = re.compile(r"^(word/document|ppt/slides/slide\d+|xl/sharedStrings)\.xml$")


def supported(filename: str) -> bool:
    return filename.lower().endswith(SUFFIXES)


def extract_text(filename: str, content: bytes) -> str:
    """The file's text (see the module docstring); the file name when there is none."""
    name = filename.lower()
    if name.endswith(TEXT_SUFFIXES):
        text = content.decode("utf-8", "replace")
    elif name.endswith(HTML_SUFFIXES):
        text = _strip_tags(content.decode("utf-8", "replace"))
    elif name.endswith(OFFICE_SUFFIXES):
        text = _office(content)
    else:
        text = _pdf(content)
    return text if text.strip() else filename


def _strip_tags(markup: str) -> str:
    return " ".join(unescape(_TAG.sub(" ", markup)).split())


def _office(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = sorted(n for n in archive.namelist() if _OFFICE_PARTS.match(n))
            return " ".join(_strip_tags(archive.read(n).decode("utf-8", "replace")) for n in parts)
    except (zipfile.BadZipFile, KeyError):
        return ""


def _pdf(content: bytes) -> str:
    strings = (m.group(1) for m in _PDF_STRING.finditer(content))
    return " ".join(_unescape_pdf(s).decode("latin-1") for s in strings)


def _unescape_pdf(raw: bytes) -> bytes:
    return raw.replace(rb"\(", b"(").replace(rb"\)", b")").replace(rb"\\", b"\\")
