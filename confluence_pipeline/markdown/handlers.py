"""The tag → handler registry the converter consults.

A tag listed here is converted by its handler, which walks the element itself through the
:class:`~.protocol.Converter` protocol. Any other tag is either skipped (``converter.SKIP``) or
converted from its children's text by its markdownify ``convert_<tag>`` callback, when it has
one (:class:`~.elements.HtmlElements`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import adf, elements, links, lists, macros, tables
from .protocol import TagHandler

HANDLERS: Mapping[str, TagHandler] = MappingProxyType(
    {
        "pre": elements.render_pre,
        "time": elements.render_time,
        "input": elements.render_input,
        "blockquote": elements.render_blockquote,
        "ul": lists.render_bulleted,
        "ol": lists.render_numbered,
        "li": lists.render_loose_item,
        "ac:task-list": lists.render_task_list,
        "ac:task": lists.render_loose_task,
        **dict.fromkeys(("table", "thead", "tbody", "tfoot", "tr"), tables.render_table),
        **dict.fromkeys(("ac:structured-macro", "ac:macro"), macros.render_macro),
        "ac:plain-text-body": macros.render_loose_plain_body,
        "ac:adf-extension": adf.render_adf_extension,
        "ac:adf-node": adf.render_adf_node,
        "ac:link": links.render_link,
        "ac:plain-text-link-body": links.render_plain_link_body,
        "ac:image": links.render_image,
        "ac:emoticon": links.render_emoticon,
        "ri:user": links.render_user,
    }
)
