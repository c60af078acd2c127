"""One bad item must not sink its batch, and a failing service must not stall the run.

:func:`isolate_failures` splits a failed batch in halves, level by level, until each failing
item stands alone; :class:`Breaker` stops a run after too many failed requests in a row, so
an outage costs a bounded number of attempts instead of one per item.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from confluence_pipeline.errors import PipelineError

T = TypeVar("T")
R = TypeVar("R")

# Statuses that blame the request, not the service: they never trip a breaker.
_SERVICE_4XX = frozenset({408, 409, 429})


class CircuitOpen(PipelineError):
    """Too many failed requests in a row: the service is down, the rest waits for next run."""


class Breaker:
    """Counts consecutive failed requests to one service (thread-safe); after ``limit`` of
    them every further :meth:`check` raises :class:`CircuitOpen` naming the last error.
    Failures caused by the item itself (a 4xx other than 408/409/429) do not count."""

    def __init__(self, service: str, limit: int = 8) -> None:
        self.service = service
        self.limit = limit
        self._streak = 0
        self._last: Exception | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self._streak >= self.limit:
                raise CircuitOpen(
                    f"{self.service} failed {self._streak} requests in a row, stopped trying; "
                    f"last error: {self._last}"
                )

    def success(self) -> None:
        with self._lock:
            self._streak = 0

    def failure(self, error: Exception) -> None:
        status = getattr(error, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and status not in _SERVICE_4XX:
            return
        with self._lock:
            self._streak += 1
            self._last = error


def isolate_failures(
    items: Sequence[T],
    attempt: Callable[[list[T]], R],
    *,
    breaker: Breaker,
    errors: type[Exception] | tuple[type[Exception], ...],
    fatal: type[Exception] | tuple[type[Exception], ...] = (),
) -> tuple[list[R], list[tuple[T, Exception]]]:
    """Calls ``attempt(items)``; when it raises one of ``errors``, tries both halves, and so on
    breadth-first, so a lone bad item costs about two requests per level and each success in
    between resets the breaker. Returns the results of the chunks that went through and
    ``(item, error)`` for each item that failed alone. ``fatal`` errors (bad credentials) and
    :class:`CircuitOpen` propagate at once."""
    results: list[R] = []
    failures: list[tuple[T, Exception]] = []
    level = [list(items)] if items else []
    while level:
        split: list[list[T]] = []
        for chunk in level:
            breaker.check()
            try:
                results.append(attempt(chunk))
            except fatal:
                raise
            except errors as exc:
                breaker.failure(exc)
                if len(chunk) == 1:
                    failures.append((chunk[0], exc))
                else:
                    middle = len(chunk) // 2
                    split.extend((chunk[:middle], chunk[middle:]))
            else:
                breaker.success()
        level = split
    return results, failures
