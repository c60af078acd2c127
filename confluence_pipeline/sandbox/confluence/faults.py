"""Injected latency and faults, and the public-API request statistics.

Status kinds answer instead of the handler: ``429_retry_after``, ``429``, ``500``, ``503``
(the default set). Damage kinds serve the handler's answer late or broken: ``slow``
(after ``slow_ms``), ``truncated``, ``malformed`` (see :mod:`..mangle`). ``poison`` page ids
fail every request that names them (path or ``id`` filter) with a 500, whatever the rate:
a page that keeps failing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..mangle import DAMAGE_KINDS

STATUS_KINDS = ("429_retry_after", "429", "500", "503")
FAULT_KINDS = (*STATUS_KINDS, *DAMAGE_KINDS)


@dataclass(frozen=True, slots=True)
class Fault:
    """``kind``; for status kinds also the ``status`` and ``headers`` to answer with."""

    kind: str
    status: int = 0
    headers: dict[str, str] | None = None


class Faults:
    """Decides, per public request, whether to fail it and how. Deterministic from the seed."""

    def __init__(self, *, seed: int, rate: float, latency_ms: int) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self.rate = 0.0
        self.kinds: tuple[str, ...] = STATUS_KINDS
        self.latency_ms = 0
        self.slow_ms = 2000
        self.retry_after = 1.0
        self.poison: frozenset[str] = frozenset()
        self.configure(rate=rate, latency_ms=latency_ms)

    def configure(
        self,
        *,
        rate: float | None = None,
        kinds: Sequence[str] | None = None,
        latency_ms: int | None = None,
        slow_ms: int | None = None,
        poison: Sequence[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Changes the settings given; raises ValueError for out-of-range values."""
        if rate is not None:
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"rate must be between 0 and 1, got {rate}")
            self.rate = float(rate)
        if kinds is not None:
            unknown = [k for k in kinds if k not in FAULT_KINDS]
            if unknown or not kinds:
                raise ValueError(f"kinds must be a non-empty subset of {list(FAULT_KINDS)}")
            self.kinds = tuple(kinds)
        if latency_ms is not None:
            if int(latency_ms) < 0:
                raise ValueError(f"latency_ms must be >= 0, got {latency_ms}")
            self.latency_ms = int(latency_ms)
        if slow_ms is not None:
            if int(slow_ms) < 0:
                raise ValueError(f"slow_ms must be >= 0, got {slow_ms}")
            self.slow_ms = int(slow_ms)
        if poison is not None:
            self.poison = frozenset(str(page_id) for page_id in poison)
        if retry_after is not None:
            if float(retry_after) <= 0:
                raise ValueError(f"retry_after must be > 0, got {retry_after}")
            self.retry_after = float(retry_after)

    def settings(self) -> dict[str, Any]:
        """``rate``, ``kinds``, ``latency_ms``; ``slow_ms``, ``poison``, ``retry_after`` (in
        seconds, default 1) once in use."""
        settings: dict[str, Any] = {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "latency_ms": self.latency_ms,
        }
        if "slow" in self.kinds:
            settings["slow_ms"] = self.slow_ms
        if self.poison:
            settings["poison"] = sorted(self.poison)
        if self.retry_after != 1.0:
            settings["retry_after"] = self.retry_after
        return settings

    def poisoned(self, page_ids: Sequence[str]) -> bool:
        """Whether the request names a poisoned page."""
        return bool(self.poison) and not self.poison.isdisjoint(page_ids)

    def pick(self) -> Fault | None:
        """None, or the fault to inflict on this request."""
        if self.rate <= 0.0 or self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        if kind in DAMAGE_KINDS:
            return Fault(kind)
        if kind == "429_retry_after":
            return Fault(kind, 429, {"Retry-After": self._seconds(), **_rate_limit_headers()})
        if kind == "429":
            return Fault(kind, 429, _rate_limit_headers())
        if kind == "503":
            with_header = self._rng.random() < 0.5
            return Fault(kind, 503, {"Retry-After": self._seconds()} if with_header else {})
        return Fault(kind, 500, {})

    def _seconds(self) -> str:
        seconds = self.retry_after
        return str(int(seconds)) if seconds.is_integer() else str(seconds)


def _rate_limit_headers() -> dict[str, str]:
    reset = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return {
        "RateLimit-Reason": "confluence-quota-tenant-based",
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
    }


class Stats:
    """Counts public API requests by route template (``GET /wiki/api/v2/pages/{id}``)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests_total = 0
        self.by_route: Counter[str] = Counter()
        self.responses_429 = 0
        self.bytes_sent = 0
        self.faults_injected = 0

    def record(self, route: str, status: int, size: int) -> None:
        self.requests_total += 1
        self.by_route[route] += 1
        self.responses_429 += status == 429
        self.bytes_sent += size

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_total": self.requests_total,
            "requests_by_route": dict(self.by_route),
            "responses_429": self.responses_429,
            "bytes_sent": self.bytes_sent,
            "faults_injected": self.faults_injected,
        }
