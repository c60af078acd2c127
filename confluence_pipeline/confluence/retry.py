"""Retries as an httpx transport: idempotent requests survive 429s, 5xx and flaky connections.

Retried: GET/HEAD answered 429, 500, 502, 503 or 504, connection failures, read timeouts,
connections dropped mid-response, and 2xx JSON responses whose body does not parse (truncated
or malformed; the parsed body of a good one is kept in ``response.extensions[PARSED_JSON]``).
``Retry-After`` (seconds or an HTTP date) is a floor; otherwise the delay is exponential
backoff with full jitter. Waiting is bounded per request (``total_budget``) and over the
transport's whole life (``run_budget``: one client serves one sync run). When the attempts or a
budget run out, the last response is returned as is (or the last transport error raised) so
the caller can raise a clear error; ``response.extensions["retry_attempts"]`` (and the
``retry_attempts`` attribute of a raised error) tell how many attempts were made. Bodies of
retried methods are read inside the transport (no streaming).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from confluence_pipeline.runtime.tls import verifying_context

RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)
PARSED_JSON = "parsed_json"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first try; ``total_budget`` (seconds) bounds
    one request including its waits, ``run_budget`` the seconds spent waiting across all requests
    of one transport; delays are capped at ``max_delay`` unless ``Retry-After`` asks for more."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 120.0
    run_budget: float = 600.0
    jitter: bool = True
    retry_statuses: frozenset[int] = field(default=frozenset({429, 500, 502, 503, 504}))
    retry_methods: frozenset[str] = field(default=frozenset({"GET", "HEAD"}))

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Delay before retry ``retry_number`` (0-based): ``base * 2**n`` capped, full jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry_number))
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date, never negative); None if absent/bad."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class RetryTransport(httpx.BaseTransport):
    """Wraps ``transport`` (default: a plain ``httpx.HTTPTransport``) with retries.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests can record delays without sleeping.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.transport = (
            transport if transport is not None else httpx.HTTPTransport(verify=verifying_context())
        )
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds slept so far, all requests together

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        if request.method not in policy.retry_methods:
            return self.transport.handle_request(request)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.transport.handle_request(request)
                response.read()  # inside the try: a connection can also drop mid-body
            except RETRYABLE_ERRORS as exc:
                delay = policy.backoff(attempt - 1, self._rng)
                if not self._may_retry(attempt, started, delay):
                    exc.retry_attempts = attempt  # type: ignore[attr-defined]
                    raise
                self._sleep(delay)
                continue
            retryable = response.status_code in policy.retry_statuses
            if not retryable and response.is_success and _is_json(response):
                retryable = not _parse_json(response)
            if not retryable:
                response.extensions["retry_attempts"] = attempt
                return response
            delay = policy.backoff(attempt - 1, self._rng)
            floor = retry_after_seconds(response)
            if floor is not None:
                delay = max(delay, floor)
            if not self._may_retry(attempt, started, delay):
                response.extensions["retry_attempts"] = attempt
                return response
            response.close()
            self._sleep(delay)

    def _may_retry(self, attempt: int, started: float, delay: float) -> bool:
        """Whether another attempt fits the budgets; if so, books ``delay`` against the run's."""
        if attempt >= self.policy.max_attempts:
            return False
        if (self._clock() - started) + delay > self.policy.total_budget:
            return False
        with self._lock:
            if self.waited + delay > self.policy.run_budget:
                return False
            self.waited += delay
        return True

    def close(self) -> None:
        self.transport.close()


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _parse_json(response: httpx.Response) -> bool:
    """Parses the (read) body, keeping the result; False when it is not valid JSON."""
    try:
        response.extensions[PARSED_JSON] = json.loads(response.content)
    except ValueError:
        return False
    return True
