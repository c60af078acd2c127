"""Dagster's own processes for tests: ``dagster-webserver`` and ``dagster-daemon`` as real
subprocesses on free ports, polled for readiness (never slept for), stopped with their children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from confluence_pipeline.sandbox.server import free_port
from confluence_pipeline_tests.test_cli import BIN

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "workspace.yaml"
POLL_S = 0.25

T = TypeVar("T")


def wait_until(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Polls ``check`` until it returns something other than ``None`` or ``False``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_S)


class DagsterProcess:
    """A Dagster command in its own process group, its output in ``log``; a context manager
    that stops the whole group (code servers and run workers included) on exit."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> DagsterProcess:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def check_alive(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            code = self._process.returncode
            raise RuntimeError(f"{self.args[0]} exited ({code}):\n{self.tail()}")

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        pgid = self._process.pid  # the session leader's pid is its group id
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self._process.wait(timeout=10)
        # run workers that outlive a stopped code server are still in the group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def __enter__(self) -> DagsterProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


class Webserver(DagsterProcess):
    """``dagster-webserver -w workspace.yaml`` on a free loopback port, or ``command`` that
    serves one on ``$DAGSTER_WEBSERVER_PORT`` (deploy/local.sh)."""

    def __init__(self, env: dict[str, str], log: Path, command: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port)]
        env = {**env, "DAGSTER_WEBSERVER_PORT": str(self.port)}
        super().__init__(command or [*args, "-w", str(WORKSPACE)], env, log)
        self._http = httpx.Client(base_url=self.url, timeout=30)

    def wait_ready(self, timeout: float = 180) -> Webserver:
        """Returns once ``/server_info`` answers and the code location has loaded."""
        wait_until(self._answers, timeout=timeout, what=f"{self.url}/server_info")
        wait_until(self._location_loaded, timeout=timeout, what="the code location to load")
        return self

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self._http.post("/graphql", json={"query": query, "variables": variables})
        body = response.raise_for_status().json()
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])

    def stop(self) -> None:
        self._http.close()
        super().stop()

    def _answers(self) -> bool:
        self.check_alive()
        try:
            return self._http.get("/server_info").status_code == 200
        except httpx.TransportError:
            return False

    def _location_loaded(self) -> bool:
        self.check_alive()
        entries = self.graphql(_LOCATIONS)["workspaceOrError"]["locationEntries"]
        if not entries or any(e["loadStatus"] != "LOADED" for e in entries):
            return False
        errors = [e["locationOrLoadError"] for e in entries]
        failed = [e.get("message", "") for e in errors if e["__typename"] == "PythonError"]
        if failed:
            raise RuntimeError(f"code location failed to load: {failed[0]}")
        return True


def daemon(env: dict[str, str], log: Path) -> DagsterProcess:
    """``dagster-daemon run -w workspace.yaml`` (sensors, run queue, backfills)."""
    return DagsterProcess([str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)], env, log)
