"""Everything one emulator instance holds; reachable as ``app.state.sandbox``."""

from __future__ import annotations

from dataclasses import dataclass

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
