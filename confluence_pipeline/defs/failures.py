"""What a failed run says, in one line: the failed step and the user code's own message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import dagster as dg


class ErrorInfo(Protocol):  # the fields used of Dagster's SerializableErrorInfo
    @property
    def cls_name(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def cause(self) -> ErrorInfo | None: ...


def step_failure(events: Iterable[dg.DagsterEvent]) -> str | None:
    """``<step>: <what went wrong>`` for the first failed step among ``events``: a
    ``dg.Failure`` by its message alone, any other exception as ``Class: message``."""
    for event in events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            if error is not None:
                return f"{event.step_key}: {describe(error)}"
    return None


def describe(error: ErrorInfo) -> str:
    while error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
        error = error.cause  # the user code's own exception
    first = first_line(error.message)  # "<module>.<Class>: <message>"
    message = first.split(f"{error.cls_name}: ", 1)[-1]
    return message if error.cls_name == "Failure" else f"{error.cls_name}: {message}"


def first_line(message: str) -> str:
    stripped = message.strip()
    return stripped.splitlines()[0] if stripped else "failed"
