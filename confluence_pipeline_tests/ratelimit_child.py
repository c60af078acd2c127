"""``python -m confluence_pipeline_tests.ratelimit_child STATE_URL WIKI_URL ATTEMPTS``: one
request (a 1-space listing) through the shared rate-limit gate of the connection ``sandbox``,
on a fake clock that starts at the real time. Prints JSON: ``delays`` slept, the sandbox's
``requests_total`` at each sleep (``seen_at_sleep``), and ``error`` (None when it succeeded).
Used by the test that two processes back off together."""

from __future__ import annotations

import json
import sys
import time

import httpx

from confluence_pipeline.confluence import (
    ConfluenceClient,
    ConfluenceError,
    RetryPolicy,
    RetryTransport,
    basic_auth,
)
from confluence_pipeline.state import StateStore
from confluence_pipeline_tests.resilience import FakeClock
from confluence_pipeline_tests.world import EMAIL, SECRET, TOKEN


def main(argv: list[str]) -> int:
    state_url, wiki_url, attempts = argv
    clock = FakeClock()
    clock.now = time.time()
    seen: list[int] = []

    def sleep(seconds: float) -> None:
        seen.append(httpx.get(f"{wiki_url}/_sandbox/stats").json()["requests_total"])
        clock.sleep(seconds)

    error = None
    with StateStore.open(state_url, SECRET) as store:
        connection = store.registry.get_connection("sandbox")
        gate = store.rate_limits.gate(connection.id, clock=clock.monotonic)
        policy = RetryPolicy(max_attempts=int(attempts), jitter=False)
        transport = RetryTransport(policy=policy, sleep=sleep, clock=clock.monotonic, gate=gate)
        with ConfluenceClient(wiki_url, basic_auth(EMAIL, TOKEN), transport=transport) as client:
            try:
                client.visible_spaces(limit=1)
            except ConfluenceError as exc:
                error = str(exc)
    print(json.dumps({"delays": clock.delays, "seen_at_sleep": seen, "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
