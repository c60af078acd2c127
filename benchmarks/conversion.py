"""Throughput of storage_to_markdown against plain markdownify on generated Confluence pages.

Run on demand: ``.venv/bin/python benchmarks/conversion.py [--pages N] [--profile]``.
The corpus is generated here, deterministically (seeded), and holds the shapes real spaces
are made of: runbooks with code and panels, meeting notes with tasks and mentions, API pages
with wide tables, release notes with status macros and layouts.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import markdownify

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluence_pipeline.markdown import storage_to_markdown

_WORD_TEXT = (
    "deploy service cluster node rollback release incident owner customer latency request "
    "queue worker retry timeout config secret token database index migration schema "
    "backup restore alert metric dashboard runbook escalation region zone replica shard "
    "cache gateway endpoint payload version feature flag environment staging production "
    "review the a of to and in for with on is be by this that from at as we will should "
    "must"
)
WORDS = tuple(_WORD_TEXT.split())
LANGS = ["python", "bash", "java", "sql", "yaml", "json", "go", "javascript"]


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _inline(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(2, 6)):
        kind = rng.random()
        text = _words(rng, 3, 12)
        if kind < 0.15:
            parts.append(f"<strong>{text}</strong>")
        elif kind < 0.25:
            parts.append(f"<em>{text}</em>")
        elif kind < 0.35:
            parts.append(f"<code>{rng.choice(WORDS)}_{rng.choice(WORDS)}</code>")
        elif kind < 0.42:
            parts.append(f'<a href="https://example.com/{rng.choice(WORDS)}">{text}</a>')
        elif kind < 0.48:
            parts.append(
                f'<ac:link><ri:page ri:content-title="{text.title()}" ri:space-key="ENG"/>'
                "</ac:link>"
            )
        elif kind < 0.53:
            parts.append(
                f'<ac:link><ri:user ri:account-id="557058:{rng.randint(1, 10**9):x}"/></ac:link>'
            )
        elif kind < 0.56:
            parts.append('<ac:emoticon ac:name="tick"/>')
        else:
            parts.append(text + (" &amp; more&nbsp;" if rng.random() < 0.1 else ""))
    return " ".join(parts)


def _para(rng: random.Random) -> str:
    return f"<p>{_inline(rng)}</p>"


def _code(rng: random.Random) -> str:
    lines = [
        f"{'    ' * rng.randint(0, 2)}{_words(rng, 2, 8)} < {rng.randint(0, 99)} && x"
        for _ in range(rng.randint(3, 25))
    ]
    return (
        '<ac:structured-macro ac:name="code" ac:schema-version="1">'
        f'<ac:parameter ac:name="language">{rng.choice(LANGS)}</ac:parameter>'
        '<ac:parameter ac:name="linenumbers">true</ac:parameter>'
        f"<ac:plain-text-body><![CDATA[{chr(10).join(lines)}]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )


def _panel(rng: random.Random) -> str:
    name = rng.choice(["info", "note", "warning", "tip"])
    return (
        f'<ac:structured-macro ac:name="{name}" ac:schema-version="1">'
        f'<ac:parameter ac:name="title">{_words(rng, 1, 4)}</ac:parameter>'
        f"<ac:rich-text-body>{_para(rng)}{_para(rng)}</ac:rich-text-body></ac:structured-macro>"
    )


def _list(rng: random.Random, depth: int = 0) -> str:
    tag = rng.choice(["ul", "ol"])
    items = []
    for _ in range(rng.randint(2, 6)):
        nested = _list(rng, depth + 1) if depth < 2 and rng.random() < 0.25 else ""
        items.append(f"<li><p>{_inline(rng)}</p>{nested}</li>")
    return f"<{tag}>{''.join(items)}</{tag}>"


def _tasks(rng: random.Random) -> str:
    tasks = []
    for i in range(rng.randint(2, 6)):
        status = rng.choice(["complete", "incomplete"])
        tasks.append(
            f"<ac:task><ac:task-id>{i}</ac:task-id><ac:task-status>{status}</ac:task-status>"
            f'<ac:task-body>{_inline(rng)} <time datetime="2024-0{rng.randint(1, 9)}-1{i}"/>'
            "</ac:task-body></ac:task>"
        )
    return f"<ac:task-list>{''.join(tasks)}</ac:task-list>"


def _table(rng: random.Random, rich: bool) -> str:
    cols = rng.randint(2, 6)
    head = "".join(f"<th><p><strong>{_words(rng, 1, 3)}</strong></p></th>" for _ in range(cols))
    rows = [f"<tr>{head}</tr>"]
    for _ in range(rng.randint(2, 8)):
        cells = []
        for _ in range(cols):
            if rich and rng.random() < 0.1:
                cells.append(f"<td>{_code(rng)}</td>")
            elif rng.random() < 0.15:
                cells.append(f"<td>{_list(rng, 2)}</td>")
            else:
                cells.append(f"<td><p>{_inline(rng)}</p></td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table data-layout="default"><tbody>{"".join(rows)}</tbody></table>'


def _status(rng: random.Random) -> str:
    colour, title = rng.choice([("Green", "DONE"), ("Yellow", "IN PROGRESS"), ("Red", "BLOCKED")])
    return (
        '<p>Status: <ac:structured-macro ac:name="status" ac:schema-version="1">'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter>'
        f'<ac:parameter ac:name="title">{title}</ac:parameter></ac:structured-macro></p>'
    )


def _layout(rng: random.Random) -> str:
    cells = "".join(
        f"<ac:layout-cell>{_para(rng)}{_list(rng, 1)}</ac:layout-cell>" for _ in range(2)
    )
    return (
        f'<ac:layout><ac:layout-section ac:type="two_equal">{cells}</ac:layout-section></ac:layout>'
    )


BLOCKS: list[tuple[float, Callable[[random.Random], str]]] = [
    (0.30, _para),
    (0.08, lambda rng: f"<h2>{_words(rng, 2, 6)}</h2>"),
    (0.12, _list),
    (0.10, _code),
    (0.08, _panel),
    (0.07, _tasks),
    (0.08, lambda rng: _table(rng, rich=False)),
    (0.04, lambda rng: _table(rng, rich=True)),
    (0.05, _status),
    (0.04, _layout),
    (
        0.04,
        lambda rng: (
            '<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">'
            "3</ac:parameter></ac:structured-macro>"
        ),
    ),
]


def generate_corpus(pages: int = 200, seed: int = 20240601) -> list[str]:
    """``pages`` storage-format pages, about 1 KB to 100 KB each (about 5 MB for 200)."""
    rng = random.Random(seed)
    weights = [w for w, _ in BLOCKS]
    makers = [m for _, m in BLOCKS]
    corpus = []
    for _ in range(pages):
        blocks = rng.choices(makers, weights, k=rng.randint(3, 24))
        corpus.append("".join(make(rng) for make in blocks))
    return corpus


def measure(convert: Callable[[str], str], corpus: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for page in corpus:
            convert(page)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile storage_to_markdown")
    args = parser.parse_args()

    corpus = generate_corpus(args.pages)
    megabytes = sum(len(page.encode()) for page in corpus) / 1e6
    print(f"corpus: {len(corpus)} pages, {megabytes:.2f} MB of storage format")

    results = {
        "storage_to_markdown": measure(storage_to_markdown, corpus, args.repeat),
        "markdownify.markdownify": measure(markdownify.markdownify, corpus, args.repeat),
    }
    base = results["markdownify.markdownify"]
    print(f"{'converter':<26}{'seconds':>9}{'MB/s':>9}{'pages/s':>10}{'speed-up':>10}")
    for name, seconds in results.items():
        print(
            f"{name:<26}{seconds:>9.3f}{megabytes / seconds:>9.2f}"
            f"{len(corpus) / seconds:>10.1f}{base / seconds:>9.2f}x"
        )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for page in corpus:
            storage_to_markdown(page)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())


if __name__ == "__main__":
    main()
