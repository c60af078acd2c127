"""A ``multipart/form-data`` body split into fields, with the standard library's MIME parser
(the SDK's ``files.upload`` sends one; Starlette would need python-multipart for it)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None
    content: bytes

    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def parse_form(content_type: str, body: bytes) -> dict[str, Part] | None:
    """The parts by field name, or None when the body is not ``multipart/form-data``."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message: Message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    parts = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        parts[str(name)] = Part(str(name), part.get_filename(), payload)
    return parts
