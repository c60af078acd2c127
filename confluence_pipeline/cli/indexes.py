"""`index create|list|show|update|delete|apply|migrate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml

from confluence_pipeline.cli.context import dagster_instance, llamacloud_sink, open_state
from confluence_pipeline.cli.output import console, fail, print_json, print_table
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.llamacloud import pipeline_name
from confluence_pipeline.state import Index, StateStore, Target
from confluence_pipeline.state.registry import (
    RegistryError,
    check_index_fields,
    check_name,
    check_target,
)
from confluence_pipeline.sync.connections import open_client, open_quick_client
from confluence_pipeline.sync.migrate import migrate_index
from confluence_pipeline.sync.scope import check_cql
from confluence_pipeline.sync.spaces import connection_id, verify_spaces

NO_VERIFY = click.option(
    "--no-verify",
    is_flag=True,
    help="Do not check the spaces against the connection (offline, e.g. in CI).",
)


def _spaces(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def scope_options(create: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options choosing which pages of the spaces an index holds, and who owns it."""
    empty = " (an empty value clears it)" if not create else ""
    options = [
        click.option(
            "--include-restricted/--exclude-restricted",
            default=False if create else None,
            help="Also index pages with a read restriction on themselves or an ancestor "
            "(their documents carry restricted, read_users, read_groups); default: exclude.",
        ),
        click.option(
            "--labels", help=f"Only pages with any of these labels (comma-separated){empty}."
        ),
        click.option("--exclude-labels", help=f"Leave out pages with any of these labels{empty}."),
        click.option("--under", help=f"Only these pages and their subtrees (page ids){empty}."),
        click.option("--cql", help=f"An extra CQL clause pages must match (checked now){empty}."),
        click.option("--owner", "owners", multiple=True, help="Owner email (repeatable)."),
    ]

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def attachment_options(create: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--attachments/--no-attachments`` and ``--attachment-max-mb``."""
    toggle = click.option(
        "--attachments/--no-attachments",
        default=False if create else None,
        help="Also upload the pages' PDF, Office, CSV, text, Markdown and HTML attachments as "
        "files; default: off.",
    )
    cap = click.option(
        "--attachment-max-mb",
        type=int,
        default=20 if create else None,
        show_default=create,
        help="Skip attachments larger than this many MB.",
    )
    return lambda function: toggle(cap(function))


def _attachment_changes(attachments: bool | None, max_mb: int | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if attachments is not None:
        changes["attachments"] = attachments
    if max_mb is not None:
        changes["attachment_max_mb"] = max_mb
    return changes


def _scope_changes(
    include_restricted: bool | None,
    labels: str | None,
    exclude_labels: str | None,
    under: str | None,
    cql: str | None,
    owners: tuple[str, ...],
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if include_restricted is not None:
        changes["include_restricted"] = include_restricted
    for name, value in (("labels", labels), ("exclude_labels", exclude_labels), ("under", under)):
        if value is not None:
            changes[name] = _spaces(value)
    if cql is not None:
        changes["cql"] = cql
    if owners:
        changes["owners"] = list(owners)
    return changes


def _check_cql(store: StateStore, connection: str | None, spaces: list[str], cql: str) -> None:
    """One test query with the clause; a bad clause is refused before anything is written."""
    if not cql.strip():
        return
    registry = store.registry
    row = registry.connection_by_id(registry.resolve_connection(connection))
    with open_quick_client(store, row) as client:
        check_cql(client, spaces, cql)


def _describe(store: StateStore, index: Index) -> dict[str, Any]:
    connection = (
        store.registry.connection_by_id(index.connection_id).name if index.connection_id else None
    )
    return {
        "name": index.name,
        "spaces": index.spaces,
        "interval_minutes": index.interval_minutes,
        "enabled": index.enabled,
        "connection": connection,
        "target": index.target,
        "pipeline_name": index.pipeline_name,
        "pipeline_id": index.pipeline_id,
        "v2_index_id": index.v2_index_id,
        "migrating_to": index.migrating_to,
        "max_delete_fraction": index.max_delete_fraction,
        "full_listing_hours": index.full_listing_hours,
        "include_restricted": index.include_restricted,
        "labels": index.labels or [],
        "exclude_labels": index.exclude_labels or [],
        "under": index.under or [],
        "cql": index.cql,
        "attachments": index.attachments,
        "attachment_max_mb": index.attachment_max_mb,
        "owners": index.owners,
        "created_at": index.created_at,
    }


_FULL_LISTING = "--full-listing-hours"
_FULL_LISTING_HELP = (
    "List each space completely at least every N hours (deletions, restriction changes); "
    "change runs and the cheap probe cover the time between."
)


_TARGET = click.option(
    "--target",
    help="Where documents go in LlamaCloud: pipeline (Index v1) or index (Index v2).",
)


def _check_target(target: str) -> None:
    """Refuses an unknown target, and ``index`` when the LlamaCloud plan lacks Index v2."""
    check_target(target)
    if target == Target.INDEX:
        with llamacloud_sink(target) as sink:
            sink.check_available()


def _target_change(index: Index, target: str) -> None:
    """Refuses to switch an index that already holds documents (that is `index migrate`)."""
    if target != index.target and index.target_id() is not None:
        raise fail(
            f"index {index.name!r} already has documents on its {index.target} target: "
            f"move them with `confluence-pipeline index migrate {index.name} --to {target}`"
        )


def _verify(store: StateStore, connection: str | None, spaces: list[str]) -> None:
    """Refuses spaces the connection cannot see, before anything is written."""
    registry = store.registry
    row = registry.connection_by_id(registry.resolve_connection(connection))
    with open_quick_client(store, row) as client:
        verify_spaces(client, spaces)


def _register(store: StateStore) -> None:
    """Mirrors the index registry into the Dagster instance's partition keys at once, so a
    partition can be materialized right after `index create`."""
    indexes = store.registry.list_indexes()
    with dagster_instance() as instance:
        register_partitions(
            instance, [i.name for i in indexes], [s for i in indexes for s in i.spaces]
        )


@click.group()
def index() -> None:
    """Declare the indexes to keep in sync."""


@index.command("create")
@click.argument("name")
@click.option("--spaces", required=True, help="Comma-separated space keys, e.g. ENG,OPS.")
@click.option("--interval", default=60, show_default=True, help="Minutes between syncs.")
@click.option("--connection", help="Connection name (optional when there is only one).")
@click.option("--max-delete-fraction", default=0.5, show_default=True, type=float)
@click.option(_FULL_LISTING, type=int, default=168, show_default=True, help=_FULL_LISTING_HELP)
@click.option("--disabled", is_flag=True, help="Create it paused (the sensor skips it).")
@scope_options(create=True)
@attachment_options(create=True)
@_TARGET
@NO_VERIFY
def create(
    name: str,
    spaces: str,
    interval: int,
    connection: str | None,
    max_delete_fraction: float,
    full_listing_hours: int,
    disabled: bool,
    include_restricted: bool,
    labels: str | None,
    exclude_labels: str | None,
    under: str | None,
    cql: str | None,
    owners: tuple[str, ...],
    attachments: bool,
    attachment_max_mb: int,
    target: str | None,
    no_verify: bool,
) -> None:
    """Create an index over some spaces (checked against the connection first)."""
    _check_target(target or Target.PIPELINE)
    scope = _scope_changes(include_restricted, labels, exclude_labels, under, cql, owners)
    scope.update(_attachment_changes(attachments, attachment_max_mb))
    with open_state() as store:
        if not no_verify:
            _verify(store, connection, _spaces(spaces))
        if cql:
            _check_cql(store, connection, _spaces(spaces), cql)
        store.registry.create_index(
            **scope,
            name=name,
            spaces=_spaces(spaces),
            pipeline_name=pipeline_name(name),
            interval_minutes=interval,
            connection=connection,
            enabled=not disabled,
            max_delete_fraction=max_delete_fraction,
            full_listing_hours=full_listing_hours,
            target=target or Target.PIPELINE,
        )
        _register(store)
    console.print(f"created index {name}", markup=False)


@index.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """List indexes."""
    with open_state() as store:
        data = [_describe(store, i) for i in store.registry.list_indexes()]
    if as_json:
        print_json(data)
        return
    print_table(
        "Indexes",
        [
            "name",
            "spaces",
            "interval (min)",
            "full listing (h)",
            "enabled",
            "connection",
            "target",
            "pipeline",
            "attachments",
        ],
        [
            [
                d["name"],
                d["spaces"],
                d["interval_minutes"],
                d["full_listing_hours"],
                d["enabled"],
                d["connection"],
                d["target"],
                d["pipeline_name"],
                f"on (max {d['attachment_max_mb']} MB)" if d["attachments"] else "off",
            ]
            for d in data
        ],
    )


@index.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """Show one index and its last syncs."""
    with open_state() as store:
        data = _describe(store, store.registry.get_index(name))
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"{key}: {value}", markup=False)


@index.command("update")
@click.argument("name")
@click.option("--spaces", help="Replace the space keys (comma-separated).")
@click.option("--interval", type=int, help="Minutes between syncs.")
@click.option("--connection", help="Connection name.")
@click.option("--max-delete-fraction", type=float)
@click.option(_FULL_LISTING, type=int, help=_FULL_LISTING_HELP)
@click.option("--enable/--disable", default=None, help="Resume or pause scheduled syncs.")
@scope_options(create=False)
@attachment_options(create=False)
@_TARGET
@NO_VERIFY
def update(
    name: str,
    spaces: str | None,
    interval: int | None,
    connection: str | None,
    max_delete_fraction: float | None,
    full_listing_hours: int | None,
    enable: bool | None,
    include_restricted: bool | None,
    labels: str | None,
    exclude_labels: str | None,
    under: str | None,
    cql: str | None,
    owners: tuple[str, ...],
    attachments: bool | None,
    attachment_max_mb: int | None,
    target: str | None,
    no_verify: bool,
) -> None:
    """Change an index."""
    changes = _scope_changes(include_restricted, labels, exclude_labels, under, cql, owners)
    changes.update(_attachment_changes(attachments, attachment_max_mb))
    if spaces is not None:
        changes["spaces"] = _spaces(spaces)
    if interval is not None:
        changes["interval_minutes"] = interval
    if connection is not None:
        changes["connection"] = connection
    if max_delete_fraction is not None:
        changes["max_delete_fraction"] = max_delete_fraction
    if full_listing_hours is not None:
        changes["full_listing_hours"] = full_listing_hours
    if enable is not None:
        changes["enabled"] = enable
    if target is not None:
        changes["target"] = target
    if not changes:
        raise fail("nothing to update: give at least one option (see --help)")
    with open_state() as store:
        if target is not None:
            _target_change(store.registry.get_index(name), target)
            _check_target(target)
        if not no_verify and (spaces is not None or connection is not None):
            _verify_update(store, name, changes)
        _check_cql_update(store, name, changes)
        store.registry.update_index(name, **changes)
        _register(store)
    console.print(f"updated index {name}", markup=False)


def _check_cql_update(store: StateStore, name: str, changes: dict[str, Any]) -> None:
    """Tests the index's CQL clause after ``changes`` when they set one."""
    if changes.get("cql"):
        connection, spaces = _after(store, name, changes)
        _check_cql(store, connection, spaces, changes["cql"])


def _after(store: StateStore, name: str, changes: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The index's connection name and spaces once ``changes`` apply."""
    current = store.registry.get_index(name)
    connection = changes.get("connection")
    if connection is None and current.connection_id is not None:
        connection = store.registry.connection_by_id(current.connection_id).name
    return connection, list(changes.get("spaces", current.spaces))


def _verify_update(store: StateStore, name: str, changes: dict[str, Any]) -> None:
    """Checks the index's spaces after ``changes`` against its connection after them."""
    _verify(store, *_after(store, name, changes))


@index.command("delete")
@click.argument("name")
@click.option("--purge-documents", is_flag=True, help="Also delete its documents from LlamaCloud.")
def delete(name: str, purge_documents: bool) -> None:
    """Delete an index (its LlamaCloud documents stay unless --purge-documents)."""
    with open_state() as store:
        existing = store.registry.get_index(name)
        target_id = existing.target_id()
        if purge_documents and target_id:
            with llamacloud_sink(existing.target) as sink:
                for stored_id in store.attachments.stored_ids(existing.id):
                    sink.delete_file(target_id, stored_id)
                store.attachments.forget_index(existing.id)
                ids = sink.list_document_ids(target_id)
                sink.delete(target_id, sorted(ids))
        store.registry.delete_index(name)
    console.print(f"deleted index {name}", markup=False)


@index.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@NO_VERIFY
def apply(file: Path, no_verify: bool) -> None:
    """Create or update indexes to match a YAML file (`indexes: [{name, spaces, ...}]`)."""
    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise fail(f"{file}: not valid YAML ({exc.__class__.__name__})") from None
    entries = document.get("indexes") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fail(f"{file}: expected a mapping with a list `indexes` of mappings")
    allowed = {
        "name",
        "spaces",
        "interval_minutes",
        "connection",
        "enabled",
        "max_delete_fraction",
        "full_listing_hours",
        "include_restricted",
        "labels",
        "exclude_labels",
        "under",
        "cql",
        "owners",
        "target",
        "attachments",
        "attachment_max_mb",
    }
    for position, entry in enumerate(entries, 1):
        unknown = set(entry) - allowed
        if unknown or "name" not in entry or not isinstance(entry.get("spaces"), list):
            raise fail(
                f"{file}: index #{position} needs `name` and a list `spaces`"
                + (f"; unknown keys: {', '.join(sorted(unknown))}" if unknown else "")
            )
    for position, entry in enumerate(entries, 1):
        try:
            check_name("index", str(entry["name"]))
            check_index_fields(entry)
        except RegistryError as exc:
            raise fail(f"{file}: index #{position} ({entry['name']}): {exc}") from None
    for target in {str(e["target"]) for e in entries if "target" in e}:
        _check_target(target)
    with open_state() as store:
        existing = {i.name: i for i in store.registry.list_indexes()}
        for entry in entries:  # every check before the first write
            if "connection" in entry or entry["name"] not in existing:
                store.registry.resolve_connection(entry.get("connection"))
        for entry in entries:
            if entry["name"] in existing and "target" in entry:
                _target_change(existing[entry["name"]], str(entry["target"]))
        if not no_verify:
            for entry in entries:
                if entry["name"] in existing:
                    _verify_update(store, entry["name"], entry)
                    _check_cql_update(store, entry["name"], entry)
                else:
                    _verify(store, entry.get("connection"), entry["spaces"])
                    if entry.get("cql"):
                        _check_cql(store, entry.get("connection"), entry["spaces"], entry["cql"])
        for entry in entries:
            fields = {k: v for k, v in entry.items() if k != "name"}
            if entry["name"] in existing:
                store.registry.update_index(entry["name"], **fields)
                console.print(f"updated index {entry['name']}", markup=False)
            else:
                store.registry.create_index(
                    name=entry["name"], pipeline_name=pipeline_name(entry["name"]), **fields
                )
                console.print(f"created index {entry['name']}", markup=False)
        _register(store)


@index.command("migrate")
@click.argument("name")
@click.option("--to", "to", required=True, help="The target to move to: pipeline or index.")
@click.option("--keep-old", is_flag=True, help="Keep the old pipeline or index in LlamaCloud.")
def migrate(name: str, to: str, keep_old: bool) -> None:
    """Move an index's documents to its other LlamaCloud target, then switch it there."""
    check_target(to)
    with open_state() as store:
        existing = store.registry.get_index(name)
        if existing.target == to:
            raise fail(f"index {name!r} is already on the {to} target")
        connection = store.registry.connection_by_id(connection_id(existing))
        with (
            open_client(store, connection) as client,
            llamacloud_sink(existing.target) as source,
            llamacloud_sink(to) as dest,
        ):
            result = migrate_index(
                store,
                client,
                source,
                dest,
                existing,
                keep_old=keep_old,
                log=lambda line: console.print(line, markup=False),
            )
    console.print(
        f"migrated index {name} from {result.source} to {result.target}: {result.pages} pages "
        f"({result.reused} already there, {result.copied_from_source} copied, "
        f"{result.fetched} fetched from Confluence, {result.gone} gone); old target "
        + ("deleted" if result.old_deleted else "kept"),
        markup=False,
    )
