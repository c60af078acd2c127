"""Run ASGI apps on real loopback ports: in a background thread (tests) or until a signal (CLI)."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

_READY_TIMEOUT_S = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    """Returns a TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=2048,
    )


class ServerThread:
    """An ASGI app served by uvicorn on a background thread; a context manager.

    ``url`` is usable as soon as ``start()`` returns: readiness is polled, not slept for.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(_config(app, self.host, self.port))
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.run, daemon=True, name=f"sandbox:{self.port}"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_READY_TIMEOUT_S)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_until_signal(
    apps: Mapping[str, tuple[ASGIApp, int]],
    *,
    host: str = "127.0.0.1",
    on_ready: Callable[[dict[str, str]], None],
) -> None:
    """Serves every named app on its port until SIGINT or SIGTERM, then shuts down cleanly.

    ``on_ready`` receives ``{name: url}`` once every server accepts connections.
    """
    servers = {name: uvicorn.Server(_config(app, host, port)) for name, (app, port) in apps.items()}

    async def _main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        for server in servers.values():
            server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        tasks = [asyncio.create_task(server.serve()) for server in servers.values()]
        while not all(server.started for server in servers.values()):
            if any(task.done() for task in tasks):
                for task in tasks:
                    task.cancel()
                raise RuntimeError("a sandbox server failed to start (port in use?)")
            await asyncio.sleep(0.01)
        on_ready({name: f"http://{host}:{apps[name][1]}" for name in servers})
        await stop.wait()
        for server in servers.values():
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(_main())
