"""The rendered HTML representations of a storage body: ``view`` and ``export_view``.

Macros become the HTML Confluence Cloud renders for them (code panels, information macros,
status lozenges, expand containers, inline task lists, column layouts), page links resolve to
page URLs, user links to display names, dates to text; no ``ac:``/``ri:`` element and no
hidden macro parameter survives. ``export_view`` carries absolute URLs, ``view`` relative
ones (``/wiki/...``). The markup approximates the real one in what readers extract from it:
the visible text, the links and the block structure.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date
from html.entities import name2codepoint
from urllib.parse import quote, quote_plus

from lxml import etree

from .model import PageRecord, Site
from .people import display_name

AC = "{http://atlassian.com/content}"
RI = "{http://atlassian.com/resource}"
_WRAP = '<r xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource">'
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_VOID = {"br", "hr", "img", "col", "wbr"}
_PANELS = {"info": "info", "note": "warning", "warning": "error", "tip": "approve"}
_LOZENGES = {"green": "success", "yellow": "current", "red": "error", "blue": "complete"}


@dataclass
class _Ctx:
    site: Site
    page: PageRecord
    root: str  # "https://host/wiki" (export_view) or "/wiki" (view)
    titles: dict[tuple[int, str], PageRecord] = field(default_factory=dict)
    indexed: set[int] = field(default_factory=set)  # spaces whose titles are in ``titles``


def render_view(site: Site, page: PageRecord, *, root: str) -> str:
    """The page's body rendered to HTML; links start with ``root`` (``.../wiki``)."""
    storage = _ENTITY.sub(_numeric_entity, site.storage(page))
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    tree = etree.fromstring(f"{_WRAP}{storage}</r>", parser)
    if tree is None:
        return f"<p>{html.escape(storage)}</p>"
    return _children(tree, _Ctx(site, page, root))


def _numeric_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES or name not in name2codepoint:
        return match.group(0)
    return f"&#{name2codepoint[name]};"


def _text(value: str | None) -> str:
    return html.escape(value or "", quote=False)


def _text_of(element: etree._Element | None) -> str | None:
    return element.text if element is not None else None


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _children(element: etree._Element, ctx: _Ctx) -> str:
    out = [_text(element.text)]
    for child in element:
        if isinstance(child.tag, str):
            out.append(_element(child, ctx))
        out.append(_text(child.tail))
    return "".join(out)


def _element(element: etree._Element, ctx: _Ctx) -> str:
    tag = str(element.tag)  # a string: _children passes elements only, never comments or PIs
    if tag.startswith(AC):
        return _ac(element, tag[len(AC) :], ctx)
    if tag.startswith(RI) or tag.startswith("{"):
        return ""
    if tag == "time":
        return _time(element)
    attrs = "".join(f' {k}="{_attr(v)}"' for k, v in element.attrib.items() if ":" not in k)
    if tag in _VOID:
        return f"<{tag}{attrs} />"
    return f"<{tag}{attrs}>{_children(element, ctx)}</{tag}>"


def _ac(element: etree._Element, name: str, ctx: _Ctx) -> str:
    if name in ("structured-macro", "macro"):
        return _macro(element, ctx)
    if name == "link":
        return _link(element, ctx)
    if name == "image":
        return _image(element, ctx)
    if name == "emoticon":
        emoticon = element.get(f"{AC}name", "smile")
        src = f"{ctx.root}/images/icons/emoticons/{quote(emoticon)}.svg"
        return (
            f'<img class="emoticon emoticon-{_attr(emoticon)}" data-emoticon-name='
            f'"{_attr(emoticon)}" src="{src}" alt="({_attr(emoticon)})" width="16" />'
        )
    if name == "task-list":
        tasks = "".join(_task(task, ctx) for task in element.iterfind(f"{AC}task"))
        owner = f'data-inline-tasks-content-id="{ctx.page.id}"'
        return f'<ul class="inline-task-list" {owner}>{tasks}</ul>'
    if name == "layout":
        return f'<div class="contentLayout2">{_children(element, ctx)}</div>'
    if name == "layout-section":
        kind = element.get(f"{AC}type", "single").replace("_", "-")
        return (
            f'<div class="columnLayout {kind}" data-layout="{kind}">{_children(element, ctx)}</div>'
        )
    if name == "layout-cell":
        cell = '<div class="cell normal" data-type="normal">'
        return f'{cell}<div class="innerCell">{_children(element, ctx)}</div></div>'
    if name == "inline-comment-marker":
        return f'<span class="inline-comment-marker">{_children(element, ctx)}</span>'
    if name in ("adf-extension", "adf-node"):
        fallback = element.find(f".//{AC}adf-fallback")
        return _children(fallback, ctx) if fallback is not None else ""
    if name in ("rich-text-body", "link-body", "task-body", "adf-fallback"):
        return _children(element, ctx)
    return ""  # parameters, placeholders, task ids and anything unknown


def _params(macro: etree._Element) -> dict[str, str]:
    return {
        p.get(f"{AC}name", ""): "".join(p.itertext()).strip()
        for p in macro.iterfind(f"{AC}parameter")
    }


def _macro(macro: etree._Element, ctx: _Ctx) -> str:
    name = macro.get(f"{AC}name", "")
    params = _params(macro)
    rich = macro.find(f"{AC}rich-text-body")
    body = _children(rich, ctx) if rich is not None else ""
    plain = macro.find(f"{AC}plain-text-body")
    code = _text(plain.text) if plain is not None else ""
    if name in ("code", "noformat"):
        header = params.get("title")
        head = (
            f'<div class="codeHeader panelHeader pdl"><b>{_text(header)}</b></div>'
            if header
            else ""
        )
        brush = _attr(params.get("language", "text"))
        return (
            f'<div class="code panel pdl">{head}<div class="codeContent panelContent pdl">'
            f'<pre class="syntaxhighlighter-pre" data-syntaxhighlighter-params="brush: {brush}; '
            f'gutter: false; theme: Confluence" data-theme="Confluence">{code}</pre></div></div>'
        )
    if name in _PANELS:
        title = params.get("title")
        head = f'<p class="title">{_text(title)}</p>' if title else ""
        return (
            f'<div class="confluence-information-macro confluence-information-macro-{name}">'
            f'{head}<span class="aui-icon aui-icon-small aui-iconfont-{_PANELS[name]} '
            f'confluence-information-macro-icon"></span>'
            f'<div class="confluence-information-macro-body">{body}</div></div>'
        )
    if name == "expand":
        title = _text(params.get("title") or "Click here to expand...")
        return (
            f'<div class="expand-container"><div class="expand-control"><span class='
            f'"expand-control-icon icon">&#160;</span><span class="expand-control-text">{title}'
            f'</span></div><div class="expand-content expand-hidden">{body}</div></div>'
        )
    if name == "status":
        lozenge = _LOZENGES.get(params.get("colour", "").lower(), "default")
        title = _text(params.get("title") or params.get("colour", ""))
        return f'<span class="status-macro aui-lozenge aui-lozenge-{lozenge}">{title}</span>'
    if name == "toc":
        return '<div class="toc-macro client-side-toc-macro" data-headerelements="H1,H2,H3"></div>'
    if name == "anchor":
        return f'<span class="confluence-anchor-link" id="{_attr(params.get("", ""))}"></span>'
    if name == "panel":
        return f'<div class="panel"><div class="panelContent">{body}</div></div>'
    return body or (f"<pre>{code}</pre>" if code else "")


def _link(link: etree._Element, ctx: _Ctx) -> str:
    rich = link.find(f"{AC}link-body")
    plain = link.find(f"{AC}plain-text-link-body")
    label = _children(rich, ctx) if rich is not None else _text(_text_of(plain))
    anchor = link.get(f"{AC}anchor")
    fragment = f"#{quote(anchor)}" if anchor else ""
    page = link.find(f"{RI}page")
    if page is not None:
        title = page.get(f"{RI}content-title", "")
        target = _page_by_title(ctx, page.get(f"{RI}space-key"), title)
        if target is None:
            href = f"{ctx.root}/pages/createpage.action?title={quote_plus(title)}"
            return f'<a class="createlink" href="{_attr(href)}">{label or _text(title)}</a>'
        space = ctx.site.space_of(target)
        href = f"{ctx.root}/spaces/{space.key}/pages/{target.id}/{quote_plus(target.title)}"
        return (
            f'<a href="{_attr(href + fragment)}" data-linked-resource-id="{target.id}" '
            f'data-linked-resource-type="page">{label or _text(target.title)}</a>'
        )
    user = link.find(f"{RI}user")
    if user is not None:
        account = user.get(f"{RI}account-id", "")
        return (
            f'<a class="confluence-userlink user-mention" data-account-id="{_attr(account)}" '
            f'href="{ctx.root}/people/{quote(account)}">{_text(display_name(account))}</a>'
        )
    attachment = link.find(f"{RI}attachment")
    if attachment is not None:
        filename = attachment.get(f"{RI}filename", "")
        href = f"{ctx.root}/download/attachments/{ctx.page.id}/{quote(filename)}"
        return f'<a href="{_attr(href)}">{label or _text(filename)}</a>'
    url = link.find(f"{RI}url")
    if url is not None:
        href = url.get(f"{RI}value", "")
        return f'<a href="{_attr(href)}">{label or _text(href)}</a>'
    return label


def _page_by_title(ctx: _Ctx, space_key: str | None, title: str) -> PageRecord | None:
    space = ctx.site.space_by_key.get(space_key) if space_key else ctx.site.space_of(ctx.page)
    if space is None:
        return None
    if space.id not in ctx.indexed:
        ctx.indexed.add(space.id)
        for page_id in space.page_ids:
            candidate = ctx.site.pages[page_id]
            if candidate.status == "current":
                ctx.titles.setdefault((space.id, candidate.title), candidate)
    return ctx.titles.get((space.id, title))


def _image(image: etree._Element, ctx: _Ctx) -> str:
    attachment = image.find(f"{RI}attachment")
    url = image.find(f"{RI}url")
    if attachment is not None:
        filename = attachment.get(f"{RI}filename", "")
        src = f"{ctx.root}/download/attachments/{ctx.page.id}/{quote(filename)}?api=v2"
    elif url is not None:
        src = url.get(f"{RI}value", "")
    else:
        return ""
    sizes = "".join(
        f' {key}="{_attr(image.get(f"{AC}{key}", ""))}"'
        for key in ("height", "width", "alt", "title")
        if image.get(f"{AC}{key}")
    )
    return (
        f'<span class="confluence-embedded-file-wrapper"><img class="confluence-embedded-image"'
        f' src="{_attr(src)}"{sizes} /></span>'
    )


def _task(task: etree._Element, ctx: _Ctx) -> str:
    task_id = _text(task.findtext(f"{AC}task-id"))
    done = (task.findtext(f"{AC}task-status") or "").strip() == "complete"
    body = task.find(f"{AC}task-body")
    checked = ' class="checked"' if done else ""
    inner = _children(body, ctx) if body is not None else ""
    return f'<li{checked} data-inline-task-id="{task_id}">{inner}</li>'


def _time(element: etree._Element) -> str:
    raw = element.get("datetime", "")
    try:
        shown = date.fromisoformat(raw).strftime("%d %b %Y")
    except ValueError:
        shown = raw
    return f'<time datetime="{_attr(raw)}" class="date-past">{_text(shown)}</time>'
