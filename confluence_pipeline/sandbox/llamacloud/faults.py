"""Injected latency and failures, drawn from a seeded RNG so a run can be replayed."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from ..mangle import DAMAGE_KINDS

STATUS_KINDS = ("429", "429-no-retry-after", "500", "503")
KINDS = (*STATUS_KINDS, *DAMAGE_KINDS)
_BODIES = {
    "429": "Too many requests, please slow down",
    "429-no-retry-after": "Too many requests, please slow down",
    "500": "Internal Server Error",
    "503": "Service Unavailable",
}


class Faults:
    """Decides, per public request, whether to fail it and how.

    Status kinds (the default set): ``429`` (with ``Retry-After``), ``429-no-retry-after``,
    ``500``, ``503`` (with ``Retry-After``). Damage kinds: ``slow`` (served after ``slow_ms``,
    the request still takes effect), ``truncated``, ``malformed`` (see :mod:`..mangle`).
    ``poison`` document ids make every upsert carrying one of them answer 500 (with
    ``Retry-After``), whatever the rate: a document that keeps failing. ``retry_after`` is in
    seconds; fractions are sent as such, which the SDK honours, so tests can keep retries fast.
    """

    def __init__(self, *, rate: float, latency_ms: int, seed: int) -> None:
        self.rate = 0.0
        self.kinds: tuple[str, ...] = STATUS_KINDS
        self.latency_ms = 0
        self.retry_after = 1.0
        self.slow_ms = 2000
        self.poison: frozenset[str] = frozenset()
        self._rng = random.Random(seed)
        self.configure({"rate": rate, "latency_ms": latency_ms})

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Applies ``rate``, ``kinds``, ``latency_ms``, ``retry_after``, ``slow_ms``, ``poison``,
        ``seed`` when present.

        Raises ValueError naming the bad setting; nothing changes then.
        """
        rate = float(settings.get("rate", self.rate))
        kinds = tuple(settings.get("kinds") or self.kinds)
        latency_ms = int(settings.get("latency_ms", self.latency_ms))
        retry_after = float(settings.get("retry_after", self.retry_after))
        slow_ms = int(settings.get("slow_ms", self.slow_ms))
        poison = frozenset(map(str, settings.get("poison", self.poison)))
        seed = int(settings["seed"]) if "seed" in settings else None
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if unknown := set(kinds) - set(KINDS):
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {list(KINDS)}")
        if latency_ms < 0 or slow_ms < 0 or retry_after <= 0:
            raise ValueError("latency_ms and slow_ms must be >= 0 and retry_after > 0")
        self.rate, self.kinds, self.latency_ms = rate, kinds, latency_ms
        self.retry_after, self.slow_ms, self.poison = retry_after, slow_ms, poison
        if seed is not None:
            self._rng.seed(seed)

    def to_json(self) -> dict[str, Any]:
        """The settings; ``slow_ms`` and ``poison`` only once in use."""
        settings: dict[str, Any] = {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
        }
        if "slow" in self.kinds:
            settings["slow_ms"] = self.slow_ms
        if self.poison:
            settings["poison"] = sorted(self.poison)
        return settings

    def pick(self) -> str | None:
        """The kind of fault to inflict on this request, or None to serve it as is."""
        if self.rate <= 0.0 or self._rng.random() >= self.rate:
            return None
        return str(self._rng.choice(self.kinds))

    def status_response(self, kind: str) -> Response:
        """The answer of a status kind (``429``, ``500``, ...)."""
        headers = {}
        if kind in ("429", "503"):
            headers["Retry-After"] = self._retry_after_header()
        status = int(kind[:3])
        return JSONResponse({"detail": _BODIES[kind]}, status_code=status, headers=headers)

    def poisoned(self, body: Any) -> Response | None:
        """A 500 when the documents ``body`` names a poisoned id, else None."""
        if not self.poison or not isinstance(body, list):
            return None
        ids = {item.get("id") for item in body if isinstance(item, dict)}
        if self.poison.isdisjoint(ids):
            return None
        detail = "Internal Server Error: this document cannot be stored (poisoned)"
        headers = {"Retry-After": self._retry_after_header()}
        return JSONResponse({"detail": detail}, status_code=500, headers=headers)

    def _retry_after_header(self) -> str:
        seconds = self.retry_after
        return str(int(seconds)) if seconds.is_integer() else str(seconds)
