"""An hourly points budget, as Atlassian meters OAuth apps (one pool per app across tenants).

A request costs 1 point plus 1 per object returned (the ``results`` of a list, else 1 for an
object); errors cost 1. Every metered response carries ``X-RateLimit-Limit``,
``-Remaining``, ``-Reset`` (ISO-8601), ``Beta-RateLimit-Policy`` and ``Beta-RateLimit``, plus
``X-RateLimit-NearLimit: true`` under 20 % left. An exhausted budget answers 429 with
``Retry-After`` (the seconds to the window's reset, or a configured raw value, sent under a
configurable header name) until the window rolls over. Windows are aligned multiples of
``window_seconds`` on the emulator's clock, which ``advance`` moves forward so a test never
waits for an hour. ``points_per_hour`` 0 turns metering off.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

NEAR_LIMIT_SHARE = 0.2


class PointsBudget:
    def __init__(self, points_per_hour: int = 0, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.points_per_hour = 0
        self.window_seconds = 3600.0
        self.offset = 0.0
        self.used = 0
        self.retry_after: str | None = None
        self.retry_after_header = "Retry-After"
        self._window = -1
        self.configure(points_per_hour=points_per_hour)

    @property
    def enabled(self) -> bool:
        return self.points_per_hour > 0

    def configure(
        self,
        *,
        points_per_hour: int | None = None,
        window_seconds: float | None = None,
        retry_after: str | None = None,
        retry_after_header: str | None = None,
        advance_seconds: float | None = None,
        reset: bool | None = None,
        spend: int | None = None,
    ) -> None:
        """Changes the settings given; raises ValueError for out-of-range values.
        ``retry_after`` "" sends the seconds to the reset again; ``advance_seconds`` moves the
        clock on; ``reset`` starts a fresh window now (nothing used, a whole window to go);
        ``spend`` books points as other tenants of the app would."""
        with self._lock:
            if points_per_hour is not None:
                if int(points_per_hour) < 0:
                    raise ValueError(f"points_per_hour must be >= 0, got {points_per_hour}")
                self.points_per_hour = int(points_per_hour)
            if window_seconds is not None:
                if not float(window_seconds) > 0:
                    raise ValueError(f"window_seconds must be > 0, got {window_seconds}")
                self.window_seconds = float(window_seconds)
            if retry_after is not None:
                self.retry_after = str(retry_after) or None
            if retry_after_header is not None:
                if retry_after_header not in ("Retry-After", "Beta-Retry-After"):
                    raise ValueError("retry_after_header must be Retry-After or Beta-Retry-After")
                self.retry_after_header = retry_after_header
            if advance_seconds is not None:
                if float(advance_seconds) < 0:
                    raise ValueError(f"advance_seconds must be >= 0, got {advance_seconds}")
                self.offset += float(advance_seconds)
            if reset:
                self.offset -= self._now() % self.window_seconds
                self._window, self.used = round(self._now() / self.window_seconds), 0
            if spend is not None:
                if int(spend) < 0:
                    raise ValueError(f"spend must be >= 0, got {spend}")
                self._roll()
                self.used = min(self.points_per_hour, self.used + int(spend))

    def settings(self) -> dict[str, Any]:
        with self._lock:
            self._roll()
            return {
                "points_per_hour": self.points_per_hour,
                "window_seconds": self.window_seconds,
                "used": self.used,
                "remaining": self._remaining(),
                "seconds_to_reset": round(self._seconds_left(), 3),
                "retry_after": self.retry_after,
                "retry_after_header": self.retry_after_header,
            }

    def refusal(self) -> dict[str, str] | None:
        """The 429's headers when the budget is spent, else None."""
        if not self.enabled:
            return None
        with self._lock:
            self._roll()
            if self._remaining() > 0:
                return None
            wait = self.retry_after or str(max(1, math.ceil(self._seconds_left())))
            return {
                **self._headers(),
                self.retry_after_header: wait,
                "RateLimit-Reason": "confluence-quota-global-based",
            }

    def charge(self, status: int, content_type: str, body: bytes) -> dict[str, str]:
        """Books a served request; returns the headers its response carries."""
        if not self.enabled:
            return {}
        points = _points(status, content_type, body)
        with self._lock:
            self._roll()
            self.used = min(self.points_per_hour, self.used + points)
            return self._headers()

    def _headers(self) -> dict[str, str]:
        remaining, left = self._remaining(), self._seconds_left()
        reset = datetime.fromtimestamp(self._clock() + left, UTC)
        headers = {
            "X-RateLimit-Limit": str(self.points_per_hour),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Beta-RateLimit-Policy": (
                f'"global-app-quota";q={self.points_per_hour};w={int(self.window_seconds)}'
            ),
            "Beta-RateLimit": f'"global-app-quota";r={remaining};t={math.ceil(left)}',
        }
        if remaining < NEAR_LIMIT_SHARE * self.points_per_hour:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    def _now(self) -> float:
        return self._clock() + self.offset

    def _roll(self) -> None:
        window = math.floor(self._now() / self.window_seconds + 1e-9)  # float-safe at edges
        if window != self._window:
            self._window, self.used = window, 0

    def _remaining(self) -> int:
        return max(0, self.points_per_hour - self.used)

    def _seconds_left(self) -> float:
        return (self._window + 1) * self.window_seconds - self._now()


def _points(status: int, content_type: str, body: bytes) -> int:
    if not 200 <= status < 300 or "json" not in content_type:
        return 1
    try:
        data = json.loads(body)
    except ValueError:
        return 1
    results = data.get("results") if isinstance(data, dict) else None
    return 1 + (len(results) if isinstance(results, list) else 1)
