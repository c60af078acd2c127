"""Injected latency and failures, drawn from a seeded RNG so a run can be replayed."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

KINDS = ("429", "429-no-retry-after", "500", "503")
_BODIES = {
    "429": "Too many requests, please slow down",
    "429-no-retry-after": "Too many requests, please slow down",
    "500": "Internal Server Error",
    "503": "Service Unavailable",
}


class Faults:
    """Decides, per public request, whether to fail it and how.

    Kinds: ``429`` (with ``Retry-After``), ``429-no-retry-after``, ``500``, ``503`` (with
    ``Retry-After``). ``retry_after`` is in seconds; fractions are sent as such, which the SDK
    honours, so tests can keep retries fast.
    """

    def __init__(self, *, rate: float, latency_ms: int, seed: int) -> None:
        self.rate = 0.0
        self.kinds: tuple[str, ...] = KINDS
        self.latency_ms = 0
        self.retry_after = 1.0
        self._rng = random.Random(seed)
        self.configure({"rate": rate, "latency_ms": latency_ms})

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Applies ``rate``, ``kinds``, ``latency_ms``, ``retry_after``, ``seed`` when present.

        Raises ValueError naming the bad setting; nothing changes then.
        """
        rate = float(settings.get("rate", self.rate))
        kinds = tuple(settings.get("kinds") or self.kinds)
        latency_ms = int(settings.get("latency_ms", self.latency_ms))
        retry_after = float(settings.get("retry_after", self.retry_after))
        seed = int(settings["seed"]) if "seed" in settings else None
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if unknown := set(kinds) - set(KINDS):
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {list(KINDS)}")
        if latency_ms < 0 or retry_after <= 0:
            raise ValueError("latency_ms must be >= 0 and retry_after > 0")
        self.rate, self.kinds, self.latency_ms = rate, kinds, latency_ms
        self.retry_after = retry_after
        if seed is not None:
            self._rng.seed(seed)

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
        }

    def pick(self) -> Response | None:
        """A failure response for this request, or None to serve it."""
        if self.rate <= 0.0 or self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        headers = {}
        if kind in ("429", "503"):
            seconds = self.retry_after
            headers["Retry-After"] = str(int(seconds)) if seconds.is_integer() else str(seconds)
        status = int(kind[:3])
        return JSONResponse({"detail": _BODIES[kind]}, status_code=status, headers=headers)
