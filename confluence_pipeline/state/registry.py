"""Connections and indexes: what to sync, from where, and how often."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.state.crypto import TokenCipher
from confluence_pipeline.state.models import ConfluenceSpace, Connection, Index, utcnow
from confluence_pipeline.state.values import Target

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_SPACE_KEY = re.compile(r"^[A-Za-z0-9~_-]{1,255}$")


class RegistryError(PipelineError):
    """A registry operation was refused; the message is one line for the user."""


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise RegistryError(
            f"invalid {kind} name {name!r}: use letters, digits, '-', '_' or '.' (max 100)"
        )
    return name


def check_target(value: str) -> Target:
    try:
        return Target(value)
    except ValueError:
        known = " | ".join(Target)
        raise RegistryError(f"unknown target {value!r}: use {known}") from None


def check_spaces(spaces: Sequence[str]) -> list[str]:
    """Returns the keys deduplicated in order; refuses an empty list or malformed keys."""
    cleaned = list(dict.fromkeys(key.strip() for key in spaces if key.strip()))
    if not cleaned:
        raise RegistryError("an index needs at least one space key")
    bad = [key for key in cleaned if not _SPACE_KEY.match(key)]
    if bad:
        raise RegistryError(f"invalid space key(s): {', '.join(bad)}")
    return cleaned


class Registry:
    """Reads and writes connections and indexes. Secrets are encrypted with ``cipher``."""

    def __init__(self, sessions: sessionmaker[Session], cipher: TokenCipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    # connections
    def add_connection(
        self,
        *,
        name: str,
        site_url: str,
        cloud_id: str | None,
        auth_kind: str,
        secret: str,
        email: str | None = None,
        scopes: Sequence[str] = (),
        access_expires_at: datetime | None = None,
        replace: bool = False,
        owners: Sequence[str] | None = None,
    ) -> Connection:
        """Stores a connection; with ``replace`` an existing one of that name is updated.
        ``secret`` is the API token, or for OAuth the serialized tokens (``TokenSet``)."""
        check_name("connection", name)
        with self._sessions.begin() as session:
            row = session.scalar(select(Connection).where(Connection.name == name))
            if row is not None and not replace:
                raise RegistryError(f"connection {name!r} already exists")
            if row is None:
                row = Connection(name=name)
                session.add(row)
            row.site_url = site_url.rstrip("/")
            row.cloud_id = cloud_id
            row.auth_kind = auth_kind
            row.email = email
            row.secret = self._cipher.encrypt(secret)
            row.scopes = list(scopes)
            row.access_expires_at = access_expires_at
            row.last_refresh_at = None
            row.needs_reconsent = False
            if owners is not None:
                row.owner = join_owners(owners)
        return row

    def set_connection_owners(self, name: str, owners: Sequence[str]) -> Connection:
        with self._sessions.begin() as session:
            row = session.scalar(select(Connection).where(Connection.name == name))
            if row is None:
                raise RegistryError(f"unknown connection {name!r}")
            row.owner = join_owners(owners)
        return row

    def forget_credentials(self, name: str) -> Connection:
        """Deletes the connection's tokens but keeps it (and its indexes' link to it); it needs
        a reconnect (``connect --name NAME --replace``) before it can be used again."""
        with self._sessions.begin() as session:
            row = session.scalar(select(Connection).where(Connection.name == name))
            if row is None:
                raise RegistryError(f"unknown connection {name!r}")
            row.secret = self._cipher.encrypt("")
            row.access_expires_at = None
            row.needs_reconsent = True
        return row

    def connection_secret(self, connection: Connection) -> str:
        return self._cipher.decrypt(connection.secret)

    def get_connection(self, name: str) -> Connection:
        with self._sessions() as session:
            row = session.scalar(select(Connection).where(Connection.name == name))
        if row is None:
            raise RegistryError(
                f"unknown connection {name!r} (see `confluence-pipeline connections`)"
            )
        return row

    def connection_by_id(self, connection_id: int) -> Connection:
        with self._sessions() as session:
            row = session.get(Connection, connection_id)
        if row is None:
            raise RegistryError(f"connection #{connection_id} no longer exists")
        return row

    def list_connections(self) -> list[Connection]:
        with self._sessions() as session:
            return list(session.scalars(select(Connection).order_by(Connection.name)))

    def delete_connection(self, name: str) -> list[str]:
        """Deletes the connection and its tokens; returns the indexes that lost it."""
        with self._sessions.begin() as session:
            row = session.scalar(select(Connection).where(Connection.name == name))
            if row is None:
                raise RegistryError(f"unknown connection {name!r}")
            orphans = list(session.scalars(select(Index.name).where(Index.connection_id == row.id)))
            session.delete(row)
        return orphans

    # spaces
    def record_space(
        self, connection_id: int, *, key: str, space_id: str, name: str, homepage_id: str | None
    ) -> None:
        with self._sessions.begin() as session:
            row = session.scalar(
                select(ConfluenceSpace).where(
                    ConfluenceSpace.connection_id == connection_id, ConfluenceSpace.key == key
                )
            )
            if row is None:
                row = ConfluenceSpace(connection_id=connection_id, key=key)
                session.add(row)
            row.space_id, row.name, row.homepage_id = space_id, name, homepage_id
            row.resolved_at = utcnow()

    def get_space(self, connection_id: int, key: str) -> ConfluenceSpace | None:
        """The space as last resolved on this connection, or None if never resolved."""
        with self._sessions() as session:
            return session.scalar(
                select(ConfluenceSpace).where(
                    ConfluenceSpace.connection_id == connection_id, ConfluenceSpace.key == key
                )
            )

    # indexes
    def create_index(
        self,
        *,
        name: str,
        spaces: Sequence[str],
        pipeline_name: str,
        interval_minutes: int = 60,
        connection: str | None = None,
        enabled: bool = True,
        max_delete_fraction: float = 0.5,
        include_restricted: bool = False,
        labels: Sequence[str] | None = None,
        exclude_labels: Sequence[str] | None = None,
        under: Sequence[str] | None = None,
        cql: str | None = None,
        owners: Sequence[str] | None = None,
        target: str = Target.PIPELINE,
        attachments: bool = False,
        attachment_max_mb: int = 20,
        full_listing_hours: int = 168,
    ) -> Index:
        check_name("index", name)
        _check_interval(interval_minutes)
        connection_id = self.resolve_connection(connection)
        row = Index(
            include_restricted=check_flag("include_restricted", include_restricted),
            labels=check_labels(labels),
            exclude_labels=check_labels(exclude_labels),
            under=check_page_ids(under),
            cql=check_cql(cql),
            owner=join_owners(owners),
            name=name,
            spaces=check_spaces(spaces),
            pipeline_name=pipeline_name,
            interval_minutes=interval_minutes,
            connection_id=connection_id,
            enabled=check_flag("enabled", enabled),
            max_delete_fraction=_check_fraction(max_delete_fraction),
            target=check_target(target),
            attachments=check_flag("attachments", attachments),
            attachment_max_mb=check_max_mb(attachment_max_mb),
            full_listing_hours=check_full_listing_hours(full_listing_hours),
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise RegistryError(f"index {name!r} already exists") from None
        return row

    def update_index(self, name: str, **changes: Any) -> Index:
        """Applies the given field changes (``spaces``, ``interval_minutes``, ``enabled``,
        ``connection`` (a name), ``max_delete_fraction``, ``target``, ``pipeline_id``,
        ``v2_index_id``, ``migrating_to``, ``migration_heartbeat``, ``include_restricted``,
        ``labels``, ``exclude_labels``, ``under``, ``cql``, ``owners``, ``attachments``,
        ``attachment_max_mb``, ``full_listing_hours``)."""
        with self._sessions.begin() as session:
            row = session.scalar(select(Index).where(Index.name == name))
            if row is None:
                raise _unknown_index(name)
            if "connection" in changes:
                row.connection_id = self.resolve_connection(changes.pop("connection"))
            if "owners" in changes:
                row.owner = join_owners(changes.pop("owners"))
            for field in [field for field in changes if field in _FIELD_CHECKS]:
                setattr(row, field, _FIELD_CHECKS[field](changes.pop(field)))
            for field in (
                "pipeline_id",
                "v2_index_id",
                "migrating_to",
                "migration_heartbeat",
            ):
                if field in changes:
                    setattr(row, field, changes.pop(field))
            if changes:
                raise RegistryError(f"cannot update {', '.join(sorted(changes))}")
        return row

    def get_index(self, name: str) -> Index:
        with self._sessions() as session:
            row = session.scalar(select(Index).where(Index.name == name))
        if row is None:
            raise _unknown_index(name)
        return row

    def list_indexes(self) -> list[Index]:
        with self._sessions() as session:
            return list(session.scalars(select(Index).order_by(Index.name)))

    def delete_index(self, name: str) -> Index:
        with self._sessions.begin() as session:
            row = session.scalar(select(Index).where(Index.name == name))
            if row is None:
                raise _unknown_index(name)
            session.delete(row)
        return row

    def resolve_connection(self, name: str | None) -> int:
        """The id of connection ``name``, or of the only connection when ``name`` is None."""
        if name is not None:
            return self.get_connection(name).id
        connections = self.list_connections()
        if len(connections) == 1:
            return connections[0].id
        if not connections:
            raise RegistryError("no connection yet: run `confluence-pipeline connect` first")
        names = ", ".join(c.name for c in connections)
        raise RegistryError(f"several connections exist ({names}): choose one with --connection")


def check_flag(field: str, value: object) -> bool:
    """``value`` when it is a boolean: a string such as ``"no"`` must never read as true."""
    if not isinstance(value, bool):
        raise RegistryError(f"{field} must be true or false, not {value!r}")
    return value


def check_labels(labels: Sequence[str] | None) -> list[str] | None:
    """Label names, lower-cased and deduplicated (Confluence labels are); None when empty."""
    if labels is None:
        return None
    if isinstance(labels, str) or not all(isinstance(x, str) for x in labels):
        raise RegistryError("labels must be a list of label names")
    cleaned = list(dict.fromkeys(x.strip().lower() for x in labels if x.strip()))
    bad = [x for x in cleaned if any(c.isspace() for c in x) or len(x) > 255]
    if bad:
        raise RegistryError(f"invalid label(s): {', '.join(bad)}")
    return cleaned or None


def check_page_ids(ids: Sequence[str] | None) -> list[str] | None:
    if ids is None:
        return None
    if isinstance(ids, str):
        raise RegistryError("under must be a list of page ids")
    cleaned = list(dict.fromkeys(str(x).strip() for x in ids if str(x).strip()))
    bad = [x for x in cleaned if not x.isdigit()]
    if bad:
        raise RegistryError(f"invalid page id(s) for under: {', '.join(bad)}")
    return cleaned or None


def check_cql(cql: str | None) -> str | None:
    if cql is None:
        return None
    if not isinstance(cql, str):
        raise RegistryError("cql must be a string")
    return cql.strip() or None


def join_owners(owners: Sequence[str] | None) -> str | None:
    """Owners' emails, comma-joined (None when there are none)."""
    if owners is None:
        return None
    if isinstance(owners, str):
        owners = [owners]
    cleaned = list(dict.fromkeys(str(o).strip() for o in owners if str(o).strip()))
    bad = [o for o in cleaned if "@" not in o or "," in o or any(c.isspace() for c in o)]
    if bad:
        raise RegistryError(f"invalid owner email(s): {', '.join(bad)}")
    return ",".join(cleaned) or None


MAX_ATTACHMENT_MB = 2048


def check_max_mb(value: Any) -> int:
    """The attachment size cap: a whole number of megabytes from 1 to 2048."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ATTACHMENT_MB:
        raise RegistryError(
            f"attachment_max_mb must be a whole number of megabytes from 1 to "
            f"{MAX_ATTACHMENT_MB}, not {value!r}"
        )
    return value


def _unknown_index(name: str) -> RegistryError:
    return RegistryError(f"unknown index {name!r} (see `confluence-pipeline index list`)")


def _check_interval(minutes: int) -> int:
    if not 1 <= minutes <= 60 * 24 * 365:
        raise RegistryError(f"interval must be between 1 and 525600 minutes, not {minutes}")
    return minutes


def check_full_listing_hours(hours: int) -> int:
    """1 hour to a year (8760)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 8760:
        raise RegistryError(
            f"full listing hours must be a whole number from 1 to 8760, not {hours!r}"
        )
    return hours


def _check_fraction(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise RegistryError(f"max delete fraction must be between 0 and 1, not {value}")
    return value


_FIELD_CHECKS: dict[str, Callable[[Any], object]] = {
    "spaces": check_spaces,
    "interval_minutes": _check_interval,
    "max_delete_fraction": _check_fraction,
    "target": check_target,
    "enabled": partial(check_flag, "enabled"),
    "include_restricted": partial(check_flag, "include_restricted"),
    "labels": check_labels,
    "exclude_labels": check_labels,
    "under": check_page_ids,
    "cql": check_cql,
    "owners": join_owners,
    "attachments": partial(check_flag, "attachments"),
    "attachment_max_mb": check_max_mb,
    "full_listing_hours": check_full_listing_hours,
}


def check_index_fields(fields: Mapping[str, Any]) -> None:
    """Runs the checks :meth:`Registry.create_index` and :meth:`Registry.update_index` make of
    these index settings, writing nothing: a file of several indexes is checked whole before
    any of them is written."""
    for field, value in fields.items():
        check = _FIELD_CHECKS.get(field)
        try:
            if check is not None:
                check(value)
        except (TypeError, ValueError):
            raise RegistryError(f"{field} has the wrong type: {value!r}") from None
