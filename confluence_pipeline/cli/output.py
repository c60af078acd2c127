"""Terminal output: rich tables on a terminal, plain text elsewhere, JSON on request."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

# soft_wrap: a long value is never broken across lines (the terminal wraps on screen; piped
# output keeps each message on one line).
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
DEBUG_ENV = "CONFLUENCE_PIPELINE_DEBUG"


def debugging() -> bool:
    """``--verbose`` or ``$CONFLUENCE_PIPELINE_DEBUG``: tracebacks and step logs on stderr."""
    return bool(os.environ.get(DEBUG_ENV))


def fail(message: str, code: int = 1) -> click.exceptions.Exit:
    """Prints one error line on stderr; raise the returned exception to exit."""
    errors.print(f"error: {message}", markup=False)
    return click.exceptions.Exit(code)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def interactive() -> bool:
    """Rich output (progress, boxed tables) only on a terminal and outside CI (``$CI`` set)."""
    return sys.stdout.isatty() and not os.environ.get("CI")


class StepProgress:
    """Progress of named steps (the spaces of a sync): on a terminal one live line per step,
    a spinner while it runs, then a mark, a note and its time; elsewhere one plain line when a
    step starts and one when it ends. A context manager."""

    def __init__(self, label: str, steps: Sequence[str]) -> None:
        self._label = label
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        if interactive():
            self._progress = Progress(
                SpinnerColumn(finished_text=" "),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[note]}"),
                console=console,
            )
            for step in steps:
                self._tasks[step] = self._progress.add_task(
                    f"{label} / {step}", total=1, start=False, note="[dim]waiting[/]"
                )

    def start(self, step: str) -> None:
        if self._progress is None:
            console.print(f"syncing {self._label} / {step} ...", markup=False)
            return
        self._progress.start_task(self._tasks[step])
        self._progress.update(self._tasks[step], note="running")

    def done(self, step: str, ok: bool, note: str) -> None:
        if self._progress is None:
            status = "ok" if ok else "FAILED"
            console.print(f"{self._label} / {step}: {status}, {note}", markup=False)
            return
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self._progress.update(
            self._tasks[step],
            completed=1,
            description=f"{mark} {self._label} / {step}",
            note=escape(note),
        )

    def __enter__(self) -> StepProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    if not interactive():
        click.echo(title)
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(_cell(value) for value in row))
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
