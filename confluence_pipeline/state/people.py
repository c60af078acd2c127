"""Display names of Confluence accounts, cached: a sync looks up only ids it has not seen
within the cache's lifetime."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.state.models import Person, utcnow

NAME_TTL = timedelta(days=7)
"""How long a looked-up name (or the lack of one) is trusted before it is asked again."""


class People:
    """The ``people`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def cached(
        self, account_ids: Iterable[str], *, ttl: timedelta | None = NAME_TTL
    ) -> dict[str, str | None]:
        """Of ``account_ids``, those looked up within ``ttl`` (None: ever): their name, or
        None when the lookup found none."""
        ids = list(dict.fromkeys(account_ids))
        found: dict[str, str | None] = {}
        with self._sessions() as session:
            for start in range(0, len(ids), 500):
                query = select(Person.account_id, Person.display_name).where(
                    Person.account_id.in_(ids[start : start + 500])
                )
                if ttl is not None:
                    query = query.where(Person.resolved_at >= utcnow() - ttl)
                found.update({account_id: name for account_id, name in session.execute(query)})
        return found

    def remember(self, names: Mapping[str, str | None]) -> None:
        """Stores the outcome of a lookup (None: no name to be had) as of now."""
        if not names:
            return
        now = utcnow()
        values = [
            {"account_id": account_id, "display_name": name, "resolved_at": now}
            for account_id, name in names.items()
        ]
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(Person)
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["account_id"],
                    set_={
                        "display_name": insert.excluded.display_name,
                        "resolved_at": insert.excluded.resolved_at,
                    },
                ),
                values,
            )
