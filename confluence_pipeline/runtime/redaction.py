"""Masking secrets in text, always before the text is cut to length: a secret cut in half by a
length limit would no longer match and would leak its first characters."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
MIN_SECRET_CHARS = 4
"""Shorter values are not masked: they would mangle ordinary words and protect nothing."""


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret of at least :data:`MIN_SECRET_CHARS` characters replaced by
    ``***`` (longest first, so a secret containing another is masked whole)."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``ellipsis`` when cut. Mask first."""
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


def masked_line(text: str, secrets: Iterable[str], limit: int, ellipsis: str = "…") -> str:
    """Masked, then on one line, then clipped: the order that never leaks part of a secret."""
    return clip(" ".join(mask(text, secrets).split()), limit, ellipsis)
