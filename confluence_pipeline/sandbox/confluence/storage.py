"""Generated Confluence storage-format (XHTML + ``ac:``/``ri:``) page bodies.

A body is a pure function of ``(seed, page id, version, title, link titles, accounts)``; it is
1-10 KB, always contains the title text and the token ``page-<id>``, and mixes headings,
formatted paragraphs, nested lists, tables, code/panel/expand/status/Jira macros, page and
user links, tasks, images, dates, emoticons and sometimes a layout.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from . import text

_MIN_BYTES = 1000
_MAX_BYTES = 10_000


def page_token(page_id: int) -> str:
    """The unique token every generated body of this page contains."""
    return f"page-{page_id}"


def render_storage(
    *,
    seed: int,
    page_id: int,
    version: int,
    title: str,
    link_titles: Sequence[str],
    accounts: Sequence[str],
) -> str:
    """The storage body of ``page_id`` at ``version``; deterministic."""
    rng = random.Random(f"body:{seed}:{page_id}:{version}")
    ctx = _Ctx(rng, link_titles, accounts)
    intro = (
        f"<p>This page describes <strong>{escape(title)}</strong> "
        f"(reference <code>{page_token(page_id)}</code>, version {version}). "
        f"{_inline(ctx)}</p>"
    )
    parts = [intro]
    size = len(intro.encode())
    target = rng.randint(_MIN_BYTES, _MAX_BYTES - 1500)
    kinds = list(_BLOCKS)
    rng.shuffle(kinds)
    index = 0
    while size < target:
        block = kinds[index % len(kinds)](ctx)
        index += 1
        block_size = len(block.encode())
        if size + block_size > _MAX_BYTES:
            if size >= _MIN_BYTES:
                break
            continue
        parts.append(block)
        size += block_size
    if rng.random() < 0.12 and len(parts) > 2:
        return _layout(parts, rng)
    return "".join(parts)


class _Ctx:
    def __init__(
        self, rng: random.Random, link_titles: Sequence[str], accounts: Sequence[str]
    ) -> None:
        self.rng = rng
        self.link_titles = link_titles
        self.accounts = accounts

    def macro_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _inline(ctx: _Ctx) -> str:
    """A few sentences with <strong>/<em>/<code> sprinkled in."""
    rng = ctx.rng
    out = []
    for _ in range(rng.randint(1, 3)):
        sentence = text.sentence(rng)
        style = rng.random()
        phrase = text.noun_phrase(rng)
        if style < 0.25:
            sentence += f" See <strong>{phrase}</strong>."
        elif style < 0.45:
            sentence += f" It is <em>{phrase}</em> by design."
        elif style < 0.65:
            sentence += f" Set <code>{phrase.replace(' ', '_')}=true</code> first."
        out.append(sentence)
    return " ".join(out)


def _paragraphs(ctx: _Ctx) -> str:
    level = ctx.rng.choice((1, 2, 2, 3))
    heading = " ".join(text.words(ctx.rng, 3)).capitalize()
    paras = "".join(f"<p>{_inline(ctx)}</p>" for _ in range(ctx.rng.randint(1, 3)))
    return f"<h{level}>{heading}</h{level}>{paras}"


def _list(ctx: _Ctx) -> str:
    rng = ctx.rng
    tag = rng.choice(("ul", "ol"))

    def items(depth: int) -> str:
        out = []
        for _ in range(rng.randint(2, 4)):
            item = f"<li><p>{text.sentence(rng)}</p>"
            if depth < 2 and rng.random() < 0.35:
                inner = rng.choice(("ul", "ol"))
                item += f"<{inner}>{items(depth + 1)}</{inner}>"
            out.append(item + "</li>")
        return "".join(out)

    return f"<{tag}>{items(0)}</{tag}>"


def _table(ctx: _Ctx) -> str:
    rng = ctx.rng
    cols = rng.randint(2, 4)
    header = "".join(f"<th><p><strong>{w.title()}</strong></p></th>" for w in text.words(rng, cols))
    rows = [f"<tr>{header}</tr>"]
    for _ in range(rng.randint(2, 5)):
        if cols > 2 and rng.random() < 0.2:
            rows.append(
                f'<tr><td colspan="{cols - 1}"><p>{text.sentence(rng)}</p></td>'
                f"<td><p>{rng.randint(1, 999)}</p></td></tr>"
            )
            continue
        cells = "".join(f"<td><p>{' '.join(text.words(rng, 2))}</p></td>" for _ in range(cols))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table data-layout="default"><tbody>{"".join(rows)}</tbody></table>'


def _code(ctx: _Ctx) -> str:
    language, code = ctx.rng.choice(text.CODE_SNIPPETS)
    return (
        f'<ac:structured-macro ac:name="code" ac:schema-version="1" '
        f'ac:macro-id="{ctx.macro_id()}">'
        f'<ac:parameter ac:name="language">{language}</ac:parameter>'
        f'<ac:parameter ac:name="title">Example ({language})</ac:parameter>'
        f"<ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>"
    )


def _panel(ctx: _Ctx) -> str:
    name = ctx.rng.choice(text.PANELS)
    return (
        f'<ac:structured-macro ac:name="{name}" ac:schema-version="1" '
        f'ac:macro-id="{ctx.macro_id()}"><ac:rich-text-body><p>{_inline(ctx)}</p>'
        f"</ac:rich-text-body></ac:structured-macro>"
    )


def _expand(ctx: _Ctx) -> str:
    title = f"Details: {text.noun_phrase(ctx.rng)}"
    return (
        f'<ac:structured-macro ac:name="expand" ac:schema-version="1" '
        f'ac:macro-id="{ctx.macro_id()}"><ac:parameter ac:name="title">{title}</ac:parameter>'
        f"<ac:rich-text-body><p>{_inline(ctx)}</p>{_list(ctx)}</ac:rich-text-body>"
        f"</ac:structured-macro>"
    )


def _status(ctx: _Ctx) -> str:
    rng = ctx.rng
    return (
        f"<p>Current state: "
        f'<ac:structured-macro ac:name="status" ac:schema-version="1" '
        f'ac:macro-id="{ctx.macro_id()}">'
        f'<ac:parameter ac:name="colour">{rng.choice(text.STATUS_COLOURS)}</ac:parameter>'
        f'<ac:parameter ac:name="title">{rng.choice(text.STATUS_TITLES)}</ac:parameter>'
        f'</ac:structured-macro> as of <time datetime="{_date(rng)}" />.</p>'
    )


def _page_link(ctx: _Ctx) -> str:
    if not ctx.link_titles:
        return f"<p>{text.sentence(ctx.rng)}</p>"
    target = _attr(ctx.rng.choice(ctx.link_titles))
    if ctx.rng.random() < 0.5:
        link = f'<ac:link><ri:page ri:content-title="{target}" /></ac:link>'
    else:
        link = (
            f'<ac:link><ri:page ri:content-title="{target}" />'
            f"<ac:plain-text-link-body><![CDATA[this related page]]></ac:plain-text-link-body>"
            f"</ac:link>"
        )
    return f"<p>For background read {link}. {text.sentence(ctx.rng)}</p>"


def _external_link(ctx: _Ctx) -> str:
    href, label = ctx.rng.choice(text.EXTERNAL_LINKS)
    return f'<p>See <a href="{_attr(href)}">{label}</a> for more. {text.sentence(ctx.rng)}</p>'


def _tasks(ctx: _Ctx) -> str:
    rng = ctx.rng
    tasks = []
    for task_id in range(1, rng.randint(2, 4) + 1):
        status = rng.choice(("complete", "incomplete"))
        tasks.append(
            f"<ac:task><ac:task-id>{task_id}</ac:task-id><ac:task-status>{status}"
            f"</ac:task-status><ac:task-body>{text.sentence(rng)}</ac:task-body></ac:task>"
        )
    return f"<h3>Action items</h3><ac:task-list>{''.join(tasks)}</ac:task-list>"


def _mention(ctx: _Ctx) -> str:
    account = ctx.rng.choice(ctx.accounts)
    return (
        f'<p>Owner: <ac:link><ri:user ri:account-id="{account}" /></ac:link>. '
        f"{text.sentence(ctx.rng)}</p>"
    )


def _image(ctx: _Ctx) -> str:
    filename = _attr(ctx.rng.choice(text.IMAGE_FILES))
    return (
        f'<p><ac:image ac:height="250" ac:alt="diagram">'
        f'<ri:attachment ri:filename="{filename}" /></ac:image></p>'
    )


def _emoticon(ctx: _Ctx) -> str:
    name = ctx.rng.choice(text.EMOTICONS)
    return f'<p>{text.sentence(ctx.rng)} <ac:emoticon ac:name="{name}" /></p>'


def _misc(ctx: _Ctx) -> str:
    rng = ctx.rng
    choice = rng.random()
    if choice < 0.15:
        return f"<blockquote><p>{text.sentence(rng)}</p></blockquote>"
    if choice < 0.3:
        return _jira(ctx)
    if choice < 0.5:
        return '<ac:structured-macro ac:name="toc" ac:schema-version="1" />'
    if choice < 0.7:
        return f"<hr /><p>{text.sentence(rng)}<br />{text.sentence(rng)}</p>"
    return f'<p>Deadline: <time datetime="{_date(rng)}" />. {text.sentence(rng)}</p>'


_JIRA_PROJECTS = ("PAY", "OPS", "WEB", "DATA")


def _jira(ctx: _Ctx) -> str:
    """A Jira issue macro in a sentence, or (one time in three) a Jira query macro."""
    rng = ctx.rng
    project = rng.choice(_JIRA_PROJECTS)
    head = (
        f'<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="{ctx.macro_id()}">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
        f'<ac:parameter ac:name="serverId">{ctx.macro_id()}</ac:parameter>'
    )
    if rng.random() < 1 / 3:
        jql = f"project = {project} AND status = Open ORDER BY priority DESC"
        return (
            f"<p>Open issues:</p>{head}"
            '<ac:parameter ac:name="columns">key,summary,status</ac:parameter>'
            f'<ac:parameter ac:name="jqlQuery">{escape(jql)}</ac:parameter></ac:structured-macro>'
        )
    key = f"{project}-{rng.randint(1, 9999)}"
    return (
        f'<p>Tracking ticket: {head}<ac:parameter ac:name="key">{key}</ac:parameter>'
        f"</ac:structured-macro>. {text.sentence(rng)}</p>"
    )


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2022, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _layout(parts: list[str], rng: random.Random) -> str:
    half = len(parts) // 2
    kind = rng.choice(("two_equal", "two_right_sidebar", "two_left_sidebar"))
    return (
        f'<ac:layout><ac:layout-section ac:type="fixed-width"><ac:layout-cell>{parts[0]}'
        f'</ac:layout-cell></ac:layout-section><ac:layout-section ac:type="{kind}">'
        f"<ac:layout-cell>{''.join(parts[1 : half + 1])}</ac:layout-cell>"
        f"<ac:layout-cell>{''.join(parts[half + 1 :])}</ac:layout-cell>"
        f"</ac:layout-section></ac:layout>"
    )


_BLOCKS: tuple[Callable[[_Ctx], str], ...] = (
    _paragraphs,
    _paragraphs,
    _list,
    _table,
    _code,
    _panel,
    _expand,
    _status,
    _page_link,
    _external_link,
    _tasks,
    _mention,
    _image,
    _emoticon,
    _misc,
)
