"""Everything one emulator instance holds; reachable as ``app.state.sandbox``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .attachments import Attachments
from .auth import Authenticator
from .budget import PointsBudget
from .faults import Faults, Stats
from .model import Site


@dataclass
class SandboxState:
    """``auth.bearer_tokens`` is where an OAuth emulator registers the tokens it issues."""

    site: Site
    faults: Faults
    stats: Stats
    auth: Authenticator
    budget: PointsBudget
    attachments: Attachments = field(default_factory=Attachments)
    media_requests: list[dict[str, str]] = field(default_factory=list)
    """The headers of every request the media host received."""
