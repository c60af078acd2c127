"""A local webhook receiver on a free loopback port: records every JSON body posted to it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from confluence_pipeline.sandbox.server import ServerThread


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 200


@contextlib.contextmanager
def webhook_receiver(path: str = "/hooks/T000/B000/not-a-real-token") -> Iterator[Receiver]:
    """Serves ``POST {path}``; answers ``receiver.status_code`` (set it to test failures)."""
    receiver: Receiver | None = None

    async def hook(request: Request) -> JSONResponse:
        assert receiver is not None
        receiver.bodies.append(await request.json())
        return JSONResponse({"ok": True}, status_code=receiver.status_code)

    with ServerThread(Starlette(routes=[Route(path, hook, methods=["POST"])])) as server:
        receiver = Receiver(url=f"{server.url}{path}")
        yield receiver
