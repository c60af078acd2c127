"""A connection's Confluence usage and rate-limit state, as `connections` shows them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from confluence_pipeline.state import StateStore
from confluence_pipeline.state.ratelimits import hour_of

RECENT_HOURS = 6


def connection_usage(store: StateStore, connection_id: int) -> dict[str, Any]:
    """``{"hour", "requests", "points", "recent": [{"hour", "requests", "points"}, ...]}``: the
    current UTC hour, and the last hours that saw requests (newest first)."""
    now = time.time()
    recent = store.rate_limits.usage(connection_id, hours=RECENT_HOURS)
    current = next((h for h in recent if h.hour == hour_of(now)), None)
    return {
        "hour": hour_of(now),
        "requests": current.requests if current else 0,
        "points": current.points if current else 0,
        "recent": [{"hour": h.hour, "requests": h.requests, "points": h.points} for h in recent],
    }


def rate_limit(store: StateStore, connection_id: int) -> dict[str, Any]:
    """``{"blocked_until", "near_limit", "limit", "remaining", "reset"}``: the shared back-off
    (None once over), whether requests are being spaced, and the quota last reported."""
    now = time.time()
    row = store.rate_limits.status(connection_id)
    if row is None:
        return {
            "blocked_until": None,
            "near_limit": False,
            "limit": None,
            "remaining": None,
            "reset": None,
        }
    return {
        "blocked_until": _moment(row.blocked_until) if row.blocked_until > now else None,
        "near_limit": row.pace_until > now,
        "limit": row.quota_limit,
        "remaining": row.quota_remaining,
        "reset": _moment(row.quota_reset) if row.quota_reset else None,
    }


def usage_line(name: str, usage: dict[str, Any], limits: dict[str, Any]) -> str:
    """One line: this hour's requests and points, and any back-off or pacing."""
    hour = usage["hour"].strftime("%H:%M")
    line = f"usage {name}: {usage['requests']} requests, {usage['points']} points since {hour} UTC"
    if limits["remaining"] is not None:
        line += f"; quota {limits['remaining']}/{limits['limit']} left"
    if limits["blocked_until"] is not None:
        line += f"; rate limited until {limits['blocked_until']:%H:%M:%S} UTC"
    elif limits["near_limit"]:
        line += "; near the limit, requests spaced"
    return line


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
