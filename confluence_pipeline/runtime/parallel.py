"""Bounded parallelism: map over an executor with a cap on work in flight, and batching."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(
    executor: Executor, fn: Callable[[T], R], items: Iterable[T], *, in_flight: int
) -> Iterator[R]:
    """``fn`` over ``items`` on ``executor``, results in input order. At most ``in_flight``
    items are submitted and not yet consumed, so a slow consumer holds memory bounded and
    ``items`` is read lazily. An exception from ``fn`` is raised when its result is reached."""
    window: deque[Future[R]] = deque()
    for item in items:
        window.append(executor.submit(fn, item))
        if len(window) >= in_flight:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last one shorter), read lazily."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
