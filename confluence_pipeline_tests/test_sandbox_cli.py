"""`confluence-pipeline sandbox` prints a ready line, serves both emulators, and stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
READY_LINE = re.compile(r"sandbox ready: confluence=(\S+) llamacloud=(\S+)")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_serves_until_a_signal_then_stops_cleanly(stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [
            str(BIN / "confluence-pipeline"),
            "sandbox",
            "--confluence-port=0",
            "--llamacloud-port=0",
            "--spaces=2",
            "--pages-per-space=5",
            "--points-per-hour=500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        match = READY_LINE.search(process.stdout.readline())
        assert match, "no ready line"
        wiki, cloud = match.groups()
        spaces = httpx.get(f"{wiki}/_sandbox/spaces", timeout=10).json()
        assert [space["pages"] for space in spaces] == [5, 5]
        budget = httpx.get(f"{wiki}/_sandbox/rate-limit", timeout=10).json()
        assert (budget["points_per_hour"], budget["remaining"]) == (500, 500)
        assert httpx.get(f"{cloud}/_sandbox/stats", timeout=10).json()["requests_total"] == 0
    finally:
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "sandbox stopped" in out
    assert "Traceback" not in err
