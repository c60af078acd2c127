"""Retries as an httpx transport: idempotent requests survive 429s, 5xx and flaky connections.

Retried: GET/HEAD answered 429, 500, 502, 503 or 504, connection failures, read timeouts,
connections dropped mid-response, and 2xx JSON responses whose body does not parse (truncated
or malformed; the parsed body of a good one is kept in ``response.extensions[PARSED_JSON]``).
``Retry-After`` (seconds or an HTTP date; on a 429 also ``Beta-Retry-After``), clamped to
``retry_after_min``-``retry_after_max``, is a floor; otherwise the delay is exponential
backoff with full jitter. Every attempt first passes the transport's :class:`RequestGate`
(:mod:`.ratelimit`): a 429 with a waiting time blocks the gate, so every client sharing it
waits too, and rate-limit headers near the limit make it space requests. Waiting is bounded
per request (``total_budget``; a gate wait longer than that fails at once with
:class:`RateLimited`) and over the transport's whole life (``run_budget``: one client serves
one sync run). When the attempts or a
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

import httpx

from confluence_pipeline.runtime.tls import verifying_context

from .ratelimit import Clamp, LocalGate, RequestGate, request_points

RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)
PARSED_JSON = "parsed_json"
SERVER_WAIT = "server_wait"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first try; ``total_budget`` (seconds) bounds
    one request including its waits, ``run_budget`` the seconds spent waiting across all requests
    of one transport; delays are capped at ``max_delay`` unless ``Retry-After`` asks for more."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 330.0  # fits the longest Retry-After honoured (retry_after_max)
    run_budget: float = 600.0
    jitter: bool = True
    retry_statuses: frozenset[int] = field(default=frozenset({429, 500, 502, 503, 504}))
    retry_methods: frozenset[str] = field(default=frozenset({"GET", "HEAD"}))
    retry_after_min: float = 2.0
    retry_after_max: float = 300.0

    @property
    def clamp(self) -> Clamp:
        return Clamp(self.retry_after_min, self.retry_after_max)

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Delay before retry ``retry_number`` (0-based): ``base * 2**n`` capped, full jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry_number))
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling


class RateLimited(httpx.TransportError):
    """The connection's gate holds requests back longer than the request may wait."""


class RetryTransport(httpx.BaseTransport):
    """Wraps ``transport`` (default: a plain ``httpx.HTTPTransport``) with retries, behind
    ``gate`` (default: a :class:`LocalGate` of this transport alone).

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
        gate: RequestGate | None = None,
    ) -> None:
        self.transport = (
            transport if transport is not None else httpx.HTTPTransport(verify=verifying_context())
        )
        self.gate: RequestGate = gate if gate is not None else LocalGate()
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds slept so far, all requests together

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        if request.method not in policy.retry_methods:
            self._pass_gate(request)
            response = self.transport.handle_request(request)
            self.gate.after_response(response.headers, 1, policy.clamp)
            return response
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(request)
            except RETRYABLE_ERRORS as exc:
                delay = policy.backoff(attempt - 1, self._rng)
                if not self._may_retry(attempt, started, delay):
                    exc.retry_attempts = attempt  # type: ignore[attr-defined]
                    raise
                self._sleep(delay)
                continue
            retryable = response.status_code in policy.retry_statuses
            if not retryable and response.is_success and _is_json(response):
                retryable = PARSED_JSON not in response.extensions
            if not retryable:
                response.extensions["retry_attempts"] = attempt
                return response
            delay = policy.backoff(attempt - 1, self._rng)
            floor = response.extensions.get(SERVER_WAIT)
            if floor is not None:
                delay = max(delay, floor)
            if response.status_code == 429 and floor is not None:
                self.gate.block(delay)  # every client of the connection waits it out
            if not self._may_retry(attempt, started, delay):
                response.extensions["retry_attempts"] = attempt
                return response
            response.close()
            if response.status_code != 429 or floor is None:
                self._sleep(delay)  # otherwise the gate makes the next attempt wait

    def _pass_gate(self, request: httpx.Request) -> None:
        wait = self.gate.before_request()
        if wait <= 0:
            return
        if wait > self.policy.total_budget:
            raise RateLimited(
                f"the connection is rate limited for another {wait:.0f} s", request=request
            )
        self._sleep(wait)

    def _send(self, request: httpx.Request) -> httpx.Response:
        """One gated attempt, body read (and parsed when JSON), its points booked; the
        server's clamped ``Retry-After`` (or ``Beta-Retry-After`` on a 429) lands in
        ``response.extensions[SERVER_WAIT]``."""
        self._pass_gate(request)
        response = self.transport.handle_request(request)
        try:
            response.read()  # a connection can also drop mid-body
        except RETRYABLE_ERRORS:
            self.gate.after_response(response.headers, 1, self.policy.clamp)
            raise
        body = None
        if response.is_success and _is_json(response) and _parse_json(response):
            body = response.extensions[PARSED_JSON]
        points = request_points(response.status_code, body)
        limits = self.gate.after_response(response.headers, points, self.policy.clamp)
        wait = limits.retry_after
        if wait is None and response.status_code == 429:
            wait = limits.beta_retry_after
        if wait is not None:
            response.extensions[SERVER_WAIT] = wait
        return response

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
        try:
            self.gate.flush()
        finally:
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
