"""Deterministic generation of a site's spaces, page tree, authors, dates and labels from a seed.

Only metadata is generated here; bodies come from :mod:`.storage` when a page is read.
50,000 pages take well under a few seconds and some tens of MB.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from .model import PageRecord, Site, SpaceRecord

NAMED_SPACES = (
    ("ENG", "Engineering"),
    ("OPS", "Operations"),
    ("HR", "Human Resources"),
    ("MKT", "Marketing"),
    ("SALES", "Sales"),
    ("FIN", "Finance & Legal"),
)
LABELS = (
    "runbook",
    "how-to",
    "architecture",
    "onboarding",
    "decision",
    "meeting-notes",
    "incident",
    "api",
    "faq",
    "draft",
    "security",
    "q3-2024",
    "kb",
    "postmortem",
)
_SUBJECTS = (
    "billing service",
    "search cluster",
    "deploy pipeline",
    "API gateway",
    "data warehouse",
    "mobile app",
    "payments",
    "identity provider",
    "message queue",
    "release train",
    "on-call rota",
    "CI runners",
    "customer portal",
    "R&D budget",
    "vendor contracts",
    "café menu",
    "naïve Bayes model",
    "hiring plan",
    "brand guidelines",
    "Q&A process",
)
_PATTERNS = (
    "{S} runbook",
    "How to restart the {s}",
    "{S} architecture overview",
    "ADR-{n}: move the {s} to Kubernetes",
    "Meeting notes {d}",
    "Incident {d}: {s} outage",
    "FAQ: {s}",
    "Onboarding checklist for the {s}",
    "{S} — troubleshooting guide",
    "Q{q} {y} planning: {s}",
    'Retro {d} ("what went well")',
    "{S} API reference",
    "Design review: {s} <v{n}>",
    "Glossary of {s} terms",
    "{S} SLOs & alerts",
)
_EPOCH_START_MS = int(datetime(2021, 1, 4, tzinfo=UTC).timestamp() * 1000)
_EPOCH_END_MS = int(datetime(2025, 6, 30, tzinfo=UTC).timestamp() * 1000)


def space_key(index: int) -> tuple[str, str]:
    """Key and name of the ``index``-th space (0-based): ENG, OPS, ... then SP7, SP8, ..."""
    if index < len(NAMED_SPACES):
        return NAMED_SPACES[index]
    return f"SP{index + 1}", f"Space {index + 1}"


def cloud_id_for(seed: int) -> str:
    """A fixed UUID derived from the seed."""
    return str(uuid.UUID(int=random.Random(f"cloud:{seed}").getrandbits(128), version=4))


def build_site(*, spaces: int, pages_per_space: int, seed: int) -> Site:
    """A site of ``spaces`` spaces with ``pages_per_space`` current pages each (homepage
    included), all ids ascending in creation order."""
    if spaces < 0 or pages_per_space < 1:
        raise ValueError("spaces must be >= 0 and pages_per_space >= 1")
    rng = random.Random(f"site:{seed}")
    accounts = tuple(f"557058:{uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(12))
    site = Site(seed=seed, cloud_id=cloud_id_for(seed), accounts=accounts)
    site.next_id = 65536 + rng.randrange(0, 1 << 20) * 16
    space_records = []
    for index in range(spaces):
        key, name = space_key(index)
        space = SpaceRecord(
            id=site.allocate_id(rng.randint(1, 40)),
            key=key,
            name=name,
            author_id=rng.choice(accounts),
            created_ms=_EPOCH_START_MS + rng.randrange(0, 86_400_000 * 60),
            homepage_id=0,
        )
        site.add_space(space)
        space_records.append(space)
    for space in space_records:
        _fill_space(site, space, pages_per_space, random.Random(f"space:{seed}:{space.key}"))
    return site


def _fill_space(site: Site, space: SpaceRecord, count: int, rng: random.Random) -> None:
    titles = _titles(space, count, rng)
    pool = tuple(titles)
    latest = _EPOCH_END_MS - 86_400_000 * 30
    created_at = sorted(rng.randrange(space.created_ms, latest) for _ in titles)
    depths: list[int] = []
    ids: list[int] = []
    for index, (title, created) in enumerate(zip(titles, created_at, strict=True)):
        page_id = site.allocate_id(rng.randint(1, 9))
        if index == 0:
            parent_id, depth = None, 0
            space.homepage_id = page_id
        else:
            parent_index = rng.randrange(0, index) if rng.random() < 0.65 else 0
            if depths[parent_index] >= 6:
                parent_index = 0
            parent_id, depth = ids[parent_index], depths[parent_index] + 1
        depths.append(depth)
        ids.append(page_id)
        version = _version_number(rng)
        edited = created if version == 1 else rng.randrange(created, _EPOCH_END_MS)
        author = rng.choice(site.accounts)
        labels = tuple(sorted(rng.sample(LABELS, rng.randint(1, 3))))
        site.add_page(
            PageRecord(
                id=page_id,
                space_id=space.id,
                title=title,
                parent_id=parent_id,
                position=index * 16 + rng.randrange(16),
                author_id=author,
                created_ms=created,
                version=version,
                version_ms=edited,
                version_author=author if rng.random() < 0.6 else rng.choice(site.accounts),
                labels=labels,
                link_pool=pool,
            )
        )


def _version_number(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.4:
        return 1
    if roll < 0.85:
        return rng.randint(2, 5)
    return rng.randint(6, 25)


def _titles(space: SpaceRecord, count: int, rng: random.Random) -> list[str]:
    """Unique titles for a space; the first is the homepage's."""
    titles = [f"{space.name} Home"]
    seen = {titles[0]}
    while len(titles) < count:
        subject = rng.choice(_SUBJECTS)
        title = rng.choice(_PATTERNS).format(
            s=subject,
            S=subject[0].upper() + subject[1:],
            n=rng.randint(1, 400),
            d=f"{rng.randint(2021, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            q=rng.randint(1, 4),
            y=rng.randint(2022, 2025),
        )
        if title in seen:
            title = f"{title} ({len(titles)})"
        seen.add(title)
        titles.append(title)
    return titles
