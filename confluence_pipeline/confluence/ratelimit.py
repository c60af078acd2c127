"""Atlassian's rate-limit headers, and the gate every request of a client passes.

Headers read (api-contracts A7): ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``,
``X-RateLimit-Reset`` (ISO-8601), ``X-RateLimit-NearLimit: true`` (under 20 % left),
``Retry-After`` and ``Beta-Retry-After`` (seconds or an HTTP date). A waiting time a server
asks for is clamped (default 2-300 s: ``Retry-After: 9223372036854775807`` has been seen);
NaN and values that parse as neither number nor date are ignored (as if absent).

A :class:`RequestGate` decides when the next request may go: after a 429 with a waiting time
every request waits until then (``blocked_until``), and near the limit requests are spaced
(``pace``: the seconds until the reset spread over the points remaining, 0.1-5 s). The
in-process :class:`LocalGate` serves one client; the state database's gate
(``confluence_pipeline.state.ratelimits``) shares the same decisions across every client and
process of a connection.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

PACE_MIN = 0.1
PACE_MAX = 5.0
PACE_UNKNOWN_RESET = 60.0  # how long to pace when the server names no reset time


@dataclass(frozen=True, slots=True)
class Clamp:
    """Bounds for a server-requested wait, in seconds."""

    low: float = 2.0
    high: float = 300.0

    def __call__(self, seconds: float) -> float:
        return min(self.high, max(self.low, seconds))


def wait_seconds(value: str | None, *, now: float, clamp: Clamp) -> float | None:
    """A ``Retry-After``-style value (delta seconds or HTTP date) as clamped seconds; None when
    absent, NaN or unparseable. ``now`` is epoch seconds (for dates)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    if math.isnan(seconds):
        return None
    return clamp(seconds)


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """What one response said about the quota; None where it said nothing (or nonsense)."""

    limit: int | None
    remaining: int | None
    reset: float | None  # epoch seconds
    near_limit: bool
    retry_after: float | None  # clamped seconds
    beta_retry_after: float | None  # clamped seconds

    @classmethod
    def parse(
        cls, headers: Mapping[str, str], *, now: float, clamp: Clamp | None = None
    ) -> RateLimitHeaders:
        clamp = clamp or Clamp()
        return cls(
            limit=_int(headers.get("x-ratelimit-limit")),
            remaining=_int(headers.get("x-ratelimit-remaining")),
            reset=_iso_epoch(headers.get("x-ratelimit-reset")),
            near_limit=headers.get("x-ratelimit-nearlimit", "").strip().lower() == "true",
            retry_after=wait_seconds(headers.get("retry-after"), now=now, clamp=clamp),
            beta_retry_after=wait_seconds(headers.get("beta-retry-after"), now=now, clamp=clamp),
        )

    def pace(self, now: float) -> float:
        """Seconds between requests that spends what is left evenly until the reset."""
        if self.reset is None or not self.remaining or self.reset <= now:
            return 1.0
        return min(PACE_MAX, max(PACE_MIN, (self.reset - now) / self.remaining))

    @property
    def slows(self) -> bool:
        """Near the limit: the server says so, or a not-yet-enforced limit would have hit."""
        return self.near_limit or self.beta_retry_after is not None


def request_points(status: int, body: Any) -> int:
    """The approximate points a request cost (A7): 1 per call, plus 1 per object returned (the
    ``results`` of a list, else 1 for an object); errors cost the call only. Identity objects
    cost 2 upstream; counting them as 1 keeps this an estimate."""
    if not 200 <= status < 300 or not isinstance(body, dict):
        return 1
    results = body.get("results")
    return 1 + (len(results) if isinstance(results, list) else 1)


@dataclass
class Usage:
    """Requests and points spent."""

    requests: int = 0
    points: int = 0

    def add(self, points: int) -> None:
        self.requests += 1
        self.points += points


class RequestGate(Protocol):
    """Paces the requests of one connection. Thread-safe."""

    def before_request(self) -> float:
        """Seconds the caller must wait before sending (0: now); the slot is taken."""
        ...

    def after_response(
        self, headers: Mapping[str, str], points: int, clamp: Clamp
    ) -> RateLimitHeaders:
        """Books the request's ``points`` and what its response ``headers`` said about the
        quota; returns them parsed (waits clamped by ``clamp``, dates against the gate's
        clock)."""
        ...

    def block(self, seconds: float) -> None:
        """No request goes for ``seconds`` from now (a 429 asked so)."""
        ...

    @property
    def usage(self) -> Usage:
        """What requests through this gate spent so far."""
        ...

    def flush(self) -> None:
        """Persists what is buffered (counters); a no-op where nothing is."""
        ...


@dataclass
class GateState:
    """The decisions a gate enforces, in epoch seconds."""

    blocked_until: float = 0.0
    pace: float = 0.0
    pace_until: float = 0.0


class LocalGate:
    """A gate for one process: ``clock`` gives epoch-like seconds (any monotonic clock works
    when the gate is not shared)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.state = GateState()
        self._last_start = float("-inf")
        self._lock = threading.Lock()
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        return self._usage

    def before_request(self) -> float:
        with self._lock:
            now = self.clock()
            state = self.state
            start = max(now, state.blocked_until)
            if now < state.pace_until:
                start = max(start, self._last_start + state.pace)
            self._last_start = start
            return start - now

    def after_response(
        self, headers: Mapping[str, str], points: int, clamp: Clamp
    ) -> RateLimitHeaders:
        with self._lock:
            now = self.clock()
            limits = RateLimitHeaders.parse(headers, now=now, clamp=clamp)
            self._usage.add(points)
            self._observe(limits, now)
            return limits

    def _observe(self, limits: RateLimitHeaders, now: float) -> bool:
        """Updates pacing from ``limits``; True when it changed whether the gate paces."""
        state = self.state
        was_pacing = state.pace_until > now
        if limits.slows:
            state.pace = limits.pace(now)
            state.pace_until = limits.reset if limits.reset else now + PACE_UNKNOWN_RESET
        elif limits.remaining is not None:  # a quota answer without the warning: full speed
            state.pace_until = 0.0
        return was_pacing != (state.pace_until > now)

    def block(self, seconds: float) -> None:
        with self._lock:
            self.state.blocked_until = max(self.state.blocked_until, self.clock() + seconds)

    def flush(self) -> None:
        return None


def _int(value: str | None) -> int | None:
    try:
        number = int(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _iso_epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
