"""Rate limits against the Confluence emulator's points budget: pacing near the limit, waiting
out a 429's Retry-After (clamped), a back-off shared across processes through the state
database, and the usage counters in asset metadata and `connections`.

No test waits real seconds: clients sleep on a fake clock that starts at the real time and
records every delay."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import httpx
import pytest
import sqlalchemy
from click.testing import CliRunner

from confluence_pipeline.cli import cli
from confluence_pipeline.confluence import (
    ConfluenceClient,
    LocalGate,
    RequestGate,
    RetryPolicy,
    RetryTransport,
    basic_auth,
)
from confluence_pipeline.defs.assets import confluence_pages, confluence_spaces
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import ConfluenceResource, StateResource
from confluence_pipeline.sandbox.admin import ConfluenceAdmin
from confluence_pipeline.sandbox.confluence import create_app
from confluence_pipeline.sandbox.server import ServerThread
from confluence_pipeline.state import StateGate
from confluence_pipeline.sync.connections import check_health
from confluence_pipeline_tests.resilience import ROOT, FakeClock
from confluence_pipeline_tests.world import EMAIL, TOKEN, World

POLICY = RetryPolicy(jitter=False)  # backoffs 0.5, 1, 2 ... s: told apart from server waits


class WallClock(FakeClock):
    """A fake clock starting at the real time (the sandbox's rate-limit reset is wall time);
    ``on_sleep`` runs before each recorded sleep."""

    def __init__(self, on_sleep: Callable[[float], None] | None = None) -> None:
        super().__init__()
        self.now = time.time()
        self._on_sleep = on_sleep

    def sleep(self, seconds: float) -> None:
        if self._on_sleep is not None:
            self._on_sleep(seconds)
        super().sleep(seconds)


@pytest.fixture
def metered() -> Iterator[tuple[str, ConfluenceAdmin]]:
    """A Confluence emulator (1 space of 5 pages) metering 100 points per hour, in a fresh
    window."""
    with ServerThread(create_app(spaces=1, pages_per_space=5, points_per_hour=100)) as server:
        admin = ConfluenceAdmin(server.url)
        admin.rate_limit(reset=True)
        yield server.url, admin


def test_the_sandbox_meters_points_with_atlassians_headers(
    metered: tuple[str, ConfluenceAdmin],
) -> None:
    url, admin = metered
    http = httpx.Client(base_url=url, auth=(EMAIL, TOKEN), timeout=10)
    first = http.get("/wiki/api/v2/spaces", params={"limit": 1})
    assert first.headers["X-RateLimit-Limit"] == "100"
    assert first.headers["X-RateLimit-Remaining"] == "98"  # 1 per call + 1 per space returned
    reset = datetime.fromisoformat(first.headers["X-RateLimit-Reset"]).timestamp()
    assert time.time() < reset <= time.time() + 3600
    assert first.headers["Beta-RateLimit-Policy"] == '"global-app-quota";q=100;w=3600'
    assert first.headers["Beta-RateLimit"].startswith('"global-app-quota";r=98;t=')
    assert "X-RateLimit-NearLimit" not in first.headers

    admin.rate_limit(spend=80)
    assert http.get("/wiki/api/v2/spaces").headers["X-RateLimit-NearLimit"] == "true"
    admin.rate_limit(spend=100)
    refused = http.get("/wiki/api/v2/spaces")
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["RateLimit-Reason"] == "confluence-quota-global-based"

    admin.rate_limit(advance_seconds=3600)  # the next hour
    assert http.get("/wiki/api/v2/spaces").status_code == 200
    bad = httpx.post(f"{url}/_sandbox/rate-limit", json={"retry_after_header": "X"})
    assert bad.status_code == 400 and "Retry-After" in bad.text


def test_an_unmetered_sandbox_sends_no_rate_limit_headers(confluence_sandbox: ServerThread) -> None:
    response = httpx.get(f"{confluence_sandbox.url}/wiki/api/v2/spaces", auth=(EMAIL, TOKEN))
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


def _client(
    url: str,
    clock: FakeClock,
    gate: RequestGate | None = None,
    policy: RetryPolicy = POLICY,
    stub: httpx.BaseTransport | None = None,
) -> ConfluenceClient:
    transport = RetryTransport(
        stub,
        policy=policy,
        sleep=clock.sleep,
        clock=clock.monotonic,
        gate=gate or LocalGate(clock.monotonic),
    )
    return ConfluenceClient(url, basic_auth(EMAIL, TOKEN), transport=transport)


def test_near_limit_spaces_requests_until_the_quota_recovers(
    metered: tuple[str, ConfluenceAdmin],
) -> None:
    url, admin = metered
    clock = WallClock()
    with _client(url, clock) as client:
        page_id = next(iter(client.iter_pages(client.visible_spaces()[0].id))).id
        paced: list[bool] = []  # per request: did it wait?
        near_before: list[bool] = []  # per request: had the previous answer said NearLimit?
        near = admin.rate_limit()["remaining"] < 20
        while admin.rate_limit()["remaining"] >= 2:  # every page read costs 2 points
            sleeps = len(clock.delays)
            near_before.append(near)
            client.get_page(page_id)
            paced.append(len(clock.delays) > sleeps)
            near = admin.rate_limit()["remaining"] < 20
        assert paced == near_before and any(paced) and not paced[0]
        assert all(0.1 <= delay <= 5.0 for delay in clock.delays)
        waited = len(clock.delays)

        first_window = 100 - admin.rate_limit()["remaining"]

        admin.rate_limit(reset=True)  # a new hour: the whole budget again
        client.get_page(page_id)  # still spaced: the last answer said NearLimit
        client.get_page(page_id)
        client.get_page(page_id)
        assert len(clock.delays) == waited + 1

    assert client.usage.points == first_window + 3 * 2  # the client counts as Atlassian does
    assert admin.stats()["responses_429"] == 0


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("Retry-After", "17", 17.0),
        ("Retry-After", "", 300.0),  # the seconds to the hour's reset, ~3600
        ("Retry-After", "9223372036854775807", 300.0),
        ("Retry-After", "inf", 300.0),
        ("Retry-After", "-5", 2.0),
        ("Retry-After", "0.001", 2.0),
        ("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT", 300.0),
        ("Retry-After", "Thu, 01 Jan 1970 00:00:00 GMT", 2.0),
        ("Beta-Retry-After", "1e308", 300.0),
        ("Beta-Retry-After", "42", 42.0),
    ],
)
def test_a_429_waits_its_clamped_retry_after_before_retrying(
    metered: tuple[str, ConfluenceAdmin], header: str, value: str, expected: float
) -> None:
    url, admin = metered
    admin.rate_limit(spend=100, retry_after=value, retry_after_header=header)
    seen: list[int] = []

    def hour_passes(seconds: float) -> None:
        seen.append(admin.stats()["requests_total"])
        admin.rate_limit(reset=True)

    clock = WallClock(hour_passes)
    gate = LocalGate(clock.monotonic)
    with _client(url, clock, gate) as client:
        assert [space.key for space in client.visible_spaces(1)]

    assert clock.delays == [pytest.approx(expected)]
    assert seen == [1]  # the retry went only after the wait
    assert admin.stats()["requests_total"] == 2 and admin.stats()["responses_429"] == 1
    assert gate.state.blocked_until == pytest.approx(clock.now, abs=1e-6)


@pytest.mark.parametrize("value", ["NaN", "soon", "Mon, 99 Foo 2026 25:61:00 GMT"])
def test_a_retry_after_that_is_no_time_is_ignored(
    metered: tuple[str, ConfluenceAdmin], value: str
) -> None:
    url, admin = metered
    admin.rate_limit(spend=100, retry_after=value)
    clock = WallClock(lambda seconds: admin.rate_limit(reset=True))
    gate = LocalGate(clock.monotonic)
    with _client(url, clock, gate) as client:
        client.visible_spaces(1)

    assert clock.delays[0] == POLICY.base_delay  # the plain backoff (then pacing: NearLimit)
    assert max(clock.delays) < 2.0 and gate.state.blocked_until == 0.0  # no connection block


def test_a_success_with_beta_retry_after_spaces_the_next_requests() -> None:
    """A not-yet-enforced limit (``Beta-Retry-After`` on a 200) slows the client like NearLimit;
    the emulator enforces its budget, so a stub answers here."""
    reset = datetime.fromtimestamp(time.time() + 120, UTC).isoformat()
    headers = {"Beta-Retry-After": "30", "X-RateLimit-Remaining": "60", "X-RateLimit-Reset": reset}
    body = {"results": [], "_links": {"base": "https://x.example/wiki"}}
    stub = httpx.MockTransport(lambda request: httpx.Response(200, json=body, headers=headers))
    clock = WallClock()
    with _client("https://x.example", clock, stub=stub) as client:
        for _ in range(3):
            client.visible_spaces(1)
    assert clock.delays == [pytest.approx(2.0, abs=0.05)] * 2  # ~120 s over 60 points left


def test_interactive_checks_fail_fast_while_the_connection_is_blocked(world: World) -> None:
    connection = world.store.registry.get_connection("sandbox")
    world.store.rate_limits.gate(connection.id).block(250)  # another process saw a 429
    before = world.wiki.stats()["requests_total"]

    health = check_health(world.store, connection)

    assert "rate limited for another" in health and "25" in health
    assert world.wiki.stats()["requests_total"] == before  # nothing was sent


def test_a_state_database_error_never_fails_a_request(confluence_sandbox: ServerThread) -> None:
    gate = StateGate(sqlalchemy.create_engine("sqlite://"), 1, flush_every=1)  # no tables
    clock = WallClock()
    with _client(confluence_sandbox.url, clock, gate) as client:
        assert client.visible_spaces(1)
        client.flush_usage()
    assert gate.usage.requests == 1 and clock.delays == []


def _child(world: World, attempts: int) -> dict[str, Any]:
    url = world.store.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "confluence_pipeline_tests.ratelimit_child", url]
    done = subprocess.run(
        [*command, world.wiki_url, str(attempts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout))


@pytest.mark.sandbox(points_per_hour=1000)
@pytest.mark.parametrize(
    "state_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_429_seen_by_one_process_makes_another_wait(world_db: World) -> None:
    world_db.wiki.rate_limit(reset=True, spend=1000, retry_after="120")
    first = _child(world_db, attempts=1)  # gives up at once, but tells the connection
    assert first["error"] and "429" in first["error"] and first["delays"] == []
    connection = world_db.store.registry.get_connection("sandbox")
    blocked = world_db.store.rate_limits.status(connection.id)
    assert blocked is not None and blocked.blocked_until > time.time()

    world_db.wiki.rate_limit(reset=True)  # the quota is back, but the back-off stands
    before = world_db.wiki.stats()["requests_total"]
    second = _child(world_db, attempts=6)

    assert second["error"] is None
    assert len(second["delays"]) == 1 and 60 < second["delays"][0] <= 120
    assert second["seen_at_sleep"] == [before]  # it waited before sending anything
    assert world_db.wiki.stats()["requests_total"] == before + 1
    hours = world_db.store.rate_limits.usage(connection.id, hours=2)
    assert sum(hour.requests for hour in hours) == 2  # the 429 and the success


@pytest.mark.sandbox(points_per_hour=65000)
def test_usage_per_connection_and_hour_in_metadata_and_connections(world: World) -> None:
    world.wiki.rate_limit(reset=True)
    before = world.wiki.stats()["requests_total"]
    space = world.space_keys[0]
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        result = dg.materialize(
            [confluence_spaces, confluence_pages],
            partition_key=f"docs|{space}",
            resources={"state": StateResource(), "confluence": ConfluenceResource()},
            instance=instance,
        )
    spent = world.wiki.stats()["requests_total"] - before
    points = 65000 - world.wiki.rate_limit()["remaining"]
    steps = [
        result.asset_materializations_for_node(node)[0].metadata
        for node in ("confluence_spaces", "confluence_pages")
    ]
    assert sum(step["confluence_requests"].value for step in steps) == spent  # type: ignore[misc]
    assert sum(step["confluence_points"].value for step in steps) == points  # type: ignore[misc]
    pages = steps[1]
    assert pages["confluence_hour_requests"].value == spent
    assert pages["confluence_hour_points"].value == points
    assert steps[0]["confluence_hour_requests"].value == steps[0]["confluence_requests"].value

    listing = CliRunner().invoke(cli, ["connections", "--json"])
    assert listing.exit_code == 0, listing.output
    [connection] = json.loads(listing.output)
    usage = connection["usage"]
    assert (usage["requests"], usage["points"]) == (spent + 1, points + 2)  # + health check
    assert usage["recent"][0] == {k: usage[k] for k in ("hour", "requests", "points")}
    assert connection["rate_limit"]["limit"] == 65000
    assert connection["rate_limit"]["blocked_until"] is None

    text = CliRunner().invoke(cli, ["connections"])
    assert f"usage sandbox: {spent + 2} requests, {points + 4} points since" in text.output
