"""Links (``ac:link``), mentions, images (``ac:image``) and emoticons."""

from __future__ import annotations

import re

from lxml import etree

from .protocol import Converter
from .storage import attr, raw_text, tag_name
from .text import Ctx, escape_brackets, link_destination

# Confluence's built-in emoticons (ac:name) and the emoji they display as.
EMOTICONS = {
    "smile": "🙂",
    "sad": "🙁",
    "cheeky": "😛",
    "laugh": "😀",
    "wink": "😉",
    "thumbs-up": "👍",
    "thumbs-down": "👎",
    "information": "ℹ️",
    "tick": "✅",
    "cross": "❌",
    "warning": "⚠️",
    "plus": "➕",
    "minus": "➖",
    "question": "❓",
    "light-on": "💡",
    "light-off": "💡",
    "yellow-star": "⭐",
    "red-star": "⭐",
    "green-star": "⭐",
    "blue-star": "⭐",
    "star": "⭐",
    "heart": "❤️",
    "broken-heart": "💔",
}


def _link_parts(conv: Converter, el: etree._Element, ctx: Ctx) -> tuple[etree._Element | None, str]:
    resource = None
    body = ""
    for kid in el:
        name = tag_name(kid.tag)
        if name.startswith("ri:"):
            if resource is None:
                resource = kid
        elif name == "ac:plain-text-link-body":
            body = conv.plain(raw_text(kid), ctx)
        elif name == "ac:link-body":
            body = conv.process_children(kid, ctx, False).strip()
    return resource, body


def render_link(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """Page links read as their text (or the page title); attachments and URLs stay links."""
    resource, body = _link_parts(conv, el, ctx)
    anchor = attr(el, "ac:anchor").strip()
    if resource is None:
        return body or conv.plain(anchor, ctx)
    kind = tag_name(resource.tag)
    if kind == "ri:user":
        return mention(conv, resource, body, ctx)
    if kind in ("ri:page", "ri:blog-post"):
        title = attr(resource, "ri:content-title")
        return body or conv.plain(title or anchor or attr(resource, "ri:space-key"), ctx)
    if kind == "ri:attachment":
        return attachment_link(conv, resource, body, ctx)
    if kind == "ri:url":
        return url_link(conv, attr(resource, "ri:value").strip(), body, ctx)
    if kind == "ri:space":
        return body or conv.plain(attr(resource, "ri:space-key"), ctx)
    if kind == "ri:shortcut":
        return body or conv.plain(attr(resource, "ri:parameter"), ctx)
    return body


def mention(conv: Converter, user: etree._Element, body: str, ctx: Ctx) -> str:
    """``@Display Name`` when the link or the conversion's caller names the user, else
    ``@user(<account id>)``."""
    if body:
        return body if body.startswith("@") else "@" + body
    ident = (
        attr(user, "ri:account-id") or attr(user, "ri:userkey") or attr(user, "ri:username")
    ).strip()
    name = conv.person(ident) if ident else None
    if name:
        return "@" + conv.plain(name, ctx)
    return f"@user({ident})" if ident else "@user"


_ACCOUNT_ID = re.compile(r"""ri:account-id\s*=\s*["']([^"']+)["']""")


def mentioned_accounts(storage: str) -> list[str]:
    """Account ids of the users a storage-format body mentions, in order, once each."""
    return list(dict.fromkeys(match.group(1).strip() for match in _ACCOUNT_ID.finditer(storage)))


def render_user(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An ``ri:user`` outside any link."""
    return mention(conv, el, "", ctx)


def render_plain_link_body(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """An ``ac:plain-text-link-body`` outside any link: its text."""
    return conv.plain(raw_text(el), ctx)


def attachment_link(conv: Converter, resource: etree._Element, body: str, ctx: Ctx) -> str:
    filename = attr(resource, "ri:filename").strip()
    if not filename:
        return body
    text = body or conv.plain(filename, ctx)
    if "_noformat" in ctx:
        return text
    return f"[{escape_brackets(text)}]({link_destination(filename)})"


def url_link(conv: Converter, url: str, body: str, ctx: Ctx) -> str:
    if not url or "_noformat" in ctx:
        return body or url
    if not body or body == url:
        return f"<{url}>" if " " not in url else url
    return f"[{escape_brackets(body)}]({link_destination(url)})"


def render_image(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    """``![alt or file name](file name)`` for attachments, ``![alt](url)`` for URL images."""
    alt = attr(el, "ac:alt") or attr(el, "ac:title")
    src = ""
    caption = ""
    for kid in el:
        name = tag_name(kid.tag)
        if name == "ri:attachment" and not src:
            src = attr(kid, "ri:filename").strip()
            alt = alt or src
        elif name == "ri:url" and not src:
            src = attr(kid, "ri:value").strip()
        elif name == "ac:caption":
            caption = conv.process_children(kid, ctx, True).strip()
    alt = conv.plain(alt, ctx)
    if not src or "_inline" in ctx:
        image = alt
    else:
        image = f"![{escape_brackets(alt)}]({link_destination(src)})"
    if caption:
        image = f"{image} {caption}" if image else caption
    return image


def render_emoticon(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    fallback = attr(el, "ac:emoji-fallback").strip()
    if fallback and not (fallback.startswith(":") and fallback.endswith(":")):
        return fallback
    name = attr(el, "ac:name").strip().lower()
    emoji = EMOTICONS.get(name)
    if emoji:
        return emoji
    shortname = attr(el, "ac:emoji-shortname").strip() or fallback
    if shortname:
        return shortname
    return f":{name}:" if name else ""
