"""Attachments as files, over real HTTP against both sandboxes (and the Confluence sandbox's
media host): settings, what is uploaded or skipped, versions, deletions, restricted pages,
both LlamaCloud targets, and the credentials that must never reach the media host."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from confluence_pipeline.confluence import AttachmentTooLarge
from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.llamacloud import open_sink
from confluence_pipeline.mcp.retrieval import PipelineRetriever
from confluence_pipeline.state import RegistryError, StateStore, StoredAttachment
from confluence_pipeline.sync import upload as upload_module
from confluence_pipeline.sync.migrate import migrate_index
from confluence_pipeline_tests.test_cli import Cli
from confluence_pipeline_tests.world import API_KEY, PROJECT, World, make_world

MB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml",
            f"<w:document><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def _pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <<>> stream\nBT /F1 12 Tf 72 712 Td ("
        + text.encode()
        + b") Tj ET\nendstream endobj\n%%EOF\n"
    )


@pytest.fixture(params=["pipeline", "index"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """One space of 8 pages, index ``docs`` on each LlamaCloud target, attachments off; the
    environment points Dagster's resources at it."""
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", spaces=1, pages_per_space=8) as world:
        world.connect()
        world.create_index(target=request.param)
        world.export(monkeypatch)
        yield world


def _files(world: World) -> dict[str, dict[str, Any]]:
    """The index's attachment files by attachment id: ``text`` and ``metadata``."""
    index = world.index()
    target_id = index.target_id()
    assert target_id is not None
    if index.target == "pipeline":
        files = world.cloud.pipeline_files(target_id)
        assert all(file["stored"] for file in files)  # the project file behind each one
    else:
        files = list(world.cloud.files_by_unique_id(target_id).values())
    return {f["metadata"]["attachment_id"]: f for f in files if "attachment_id" in f["metadata"]}


def _listings(world: World) -> int:
    return int(
        world.wiki.stats()["requests_by_route"].get("GET /wiki/api/v2/pages/{id}/attachments", 0)
    )


def test_attachments_are_off_by_default_and_cost_no_request(world: World) -> None:
    space = world.space_keys[0]
    page = world.page_ids(space)[1]
    world.wiki.attach(page, "notes.txt", "text/plain", b"never uploaded")
    result = world.sync(space)
    assert result.upload.attachments is None
    routes = world.wiki.stats()["requests_by_route"]
    assert not [route for route in routes if "attachment" in route], routes
    assert world.wiki.media_requests() == []
    assert _files(world) == {}


def test_new_version_deleted_and_trashed_page_on_both_targets(world: World) -> None:
    space = world.space_keys[0]
    page, other = world.page_ids(space)[2:4]
    world.store.registry.update_index("docs", attachments=True, attachment_max_mb=1)
    report = world.wiki.attach(
        page, "report.pdf", "application/pdf", _pdf("Quarterly revenue grew")
    )
    notes = world.wiki.attach(page, "notes.txt", "text/plain", b"first draft of the notes")
    spec = world.wiki.attach(other, "spec.docx", DOCX, _docx("Widget specification"))
    table = world.wiki.attach(other, "table.csv", "text/csv", b"region,total\nnorth,12\n")
    world.wiki.attach(page, "photo.png", "image/png", b"\x89PNG\r\n\x1a\n")
    world.wiki.attach(page, "demo.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42")
    world.wiki.attach(other, "data.bin", "application/octet-stream", b"\x00\x01")
    world.wiki.attach(other, "huge.txt", "text/plain", b"x" * (MB + 1))

    first = world.sync(space).upload.attachments
    assert first is not None
    assert (first.pages_listed, first.uploaded, first.failed) == (8, 4, 0)
    assert (first.skipped_images, first.skipped_video) == (1, 1)
    assert (first.skipped_unknown, first.skipped_oversized) == (1, 1)
    files = _files(world)
    assert set(files) == {report, notes, spec, table}
    assert "Quarterly revenue grew" in files[report]["text"]
    assert "Widget specification" in files[spec]["text"]
    meta = files[notes]["metadata"]
    page_doc = next(d for d in world.documents().values() if d["metadata"].get("page_id") == page)
    assert meta["page_id"] == page and meta["file_name"] == "notes.txt"
    assert meta["media_type"] == "text/plain" and meta["space_key"] == space
    assert meta["title"] == page_doc["metadata"]["title"]
    assert meta["breadcrumb"] == f"{page_doc['metadata']['breadcrumb']} > {meta['title']}"
    assert meta["labels"] == page_doc["metadata"]["labels"]
    assert "preview=" in meta["url"] and meta["url"].startswith(world.wiki_url)
    hits = PipelineRetriever(API_KEY, base_url=world.cloud_url).retrieve(
        world.index(), "quarterly revenue", top_k=3, filters={}
    )
    assert hits and hits[0].metadata["attachment_id"] == report

    # the downloads went to the media host, which never saw the credentials
    received = world.wiki.media_requests()
    assert len(received) == 4
    assert not [h for h in received if "authorization" in h or "cookie" in h]

    # a new version replaces the file; the page is edited so its attachments are looked at
    assert world.wiki.attach(page, "notes.txt", "text/plain", b"second draft") == notes
    world.wiki.edit_page(page, "<p>edited</p>")
    second = world.sync(space).upload.attachments
    assert second is not None
    assert (second.pages_listed, second.uploaded, second.unchanged) == (1, 1, 1)
    files = _files(world)
    assert len(files) == 4 and files[notes]["text"] == "second draft"
    assert files[notes]["metadata"]["version"] == 2

    # a deleted attachment's file goes (the guard allows 1 of 4)
    world.wiki.delete_attachment(table)
    world.wiki.edit_page(other, "<p>edited too</p>")
    third = world.sync(space).upload.attachments
    assert third is not None and (third.deleted, third.deletions_refused) == (1, 0)
    assert set(_files(world)) == {report, notes, spec}

    # a trashed page takes its files along, in the same run
    world.wiki.trash_page(page)
    result = world.sync(space)
    assert result.upload.deleted == 1
    assert result.upload.attachments is not None and result.upload.attachments.deleted == 2
    assert set(_files(world)) == {spec}
    assert not world.store.attachments.known(world.index().id, space).keys() - {spec}
    if world.index().target == "pipeline":
        assert len(world.cloud.project_files()) == 1  # the project files went too


def test_unchanged_sync_lists_no_attachments_and_full_sync_finds_new_ones(world: World) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True)
    world.sync(space)
    assert _listings(world) == 8  # one listing per page accepted
    page = world.page_ids(space)[4]
    added = world.wiki.attach(page, "late.md", "text/markdown", b"# Late addition")

    world.sync(space)  # no page changed: nothing listed, nothing found
    assert _listings(world) == 8 and _files(world) == {}

    result = world.sync(space, full=True)
    assert result.upload.attachments is not None and result.upload.attachments.uploaded == 1
    assert _listings(world) == 16 and set(_files(world)) == {added}


def test_a_restricted_pages_attachments_follow_it(world: World) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True)
    secret = world.wiki.create_page(space, "Salaries", "<p>secret</p>")
    world.wiki.restrict(secret, groups=["hr"])
    world.wiki.attach(secret, "salaries.csv", "text/csv", b"name,salary\n")
    result = world.sync(space)
    assert result.plan.restricted == 1
    assert result.upload.attachments is not None and result.upload.attachments.pages_listed == 8
    assert _files(world) == {} and world.wiki.media_requests() == []

    public = world.wiki.create_page(space, "Handbook", "<p>handbook</p>")
    kept = world.wiki.attach(public, "handbook.txt", "text/plain", b"welcome aboard")
    world.sync(space)
    assert set(_files(world)) == {kept}
    world.wiki.restrict(public, users=["557058:someone"])  # no version bump
    world.wiki.edit_page(world.page_ids(space)[0], "<p>nudge</p>")  # next full listing
    result = world.sync(space)
    assert result.upload.attachments is not None and result.upload.attachments.deleted == 1
    assert _files(world) == {}


@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_removing_most_attachment_files_is_refused_until_full(world: World) -> None:
    space = world.space_keys[0]
    page = world.page_ids(space)[1]
    world.store.registry.update_index("docs", attachments=True)
    ids = [
        world.wiki.attach(page, f"part{n}.txt", "text/plain", f"part {n}".encode())
        for n in range(3)
    ]
    world.sync(space)
    for attachment_id in ids[:2]:
        world.wiki.delete_attachment(attachment_id)
    world.wiki.edit_page(page, "<p>edited</p>")
    refused = world.sync(space).upload.attachments
    assert refused is not None and (refused.deletions_refused, refused.deleted) == (2, 0)
    assert len(_files(world)) == 3
    allowed = world.sync(space, full=True).upload.attachments
    assert allowed is not None and allowed.deleted == 2 and set(_files(world)) == {ids[2]}


@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_download_never_sends_credentials_to_the_media_host(world: World) -> None:
    space = world.space_keys[0]
    page = world.page_ids(space)[0]
    attachment = world.wiki.attach(page, "a.txt", "text/plain", b"0123456789" * 10)
    with world.client() as client:
        assert client.download_attachment(page, attachment, 1000) == b"0123456789" * 10
        with pytest.raises(AttachmentTooLarge, match="over the 50 bytes cap"):
            client.download_attachment(page, attachment, 50)
    path = f"/wiki/rest/api/content/{page}/child/attachment/{attachment}/download"
    redirect = httpx.get(world.wiki_url + path, auth=("demo@example.com", "sandbox-token"))
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert not location.startswith(world.wiki_url)  # another host (port)
    # the media host would catch a leak: credentials are refused there
    assert httpx.get(location, auth=("demo@example.com", "sandbox-token")).status_code == 401
    assert httpx.get(location).content == b"0123456789" * 10
    received = world.wiki.media_requests()
    assert sum("authorization" in headers for headers in received) == 1  # ours, just above
    assert len(received) == 4


def test_settings_and_attachment_state_on_each_database(store: StateStore) -> None:
    store.registry.add_connection(
        name="acme",
        site_url="https://acme.atlassian.net",
        cloud_id="c",
        auth_kind="api_token",
        email="a@example.com",
        secret="t",
    )
    index = store.registry.create_index(name="docs", spaces=["ENG"], pipeline_name="p")
    assert (index.attachments, index.attachment_max_mb) == (False, 20)
    for bad in (0, -1, "5", 2.5, True, 4096):
        with pytest.raises(RegistryError, match="attachment_max_mb must be a whole number"):
            store.registry.update_index("docs", attachment_max_mb=bad)
    with pytest.raises(RegistryError, match="attachments must be true or false"):
        store.registry.update_index("docs", attachments="yes")
    index = store.registry.update_index("docs", attachments=True, attachment_max_mb=5)
    assert (index.attachments, index.attachment_max_mb) == (True, 5)

    ledger = store.attachments
    first = StoredAttachment("att1", "10", "ENG", 1, "a.pdf", "cf-c-att-1", "file-1")
    assert ledger.record(index.id, first) is None
    moved = StoredAttachment("att1", "10", "OPS", 2, "a.pdf", "cf-c-att-1", "f2")
    assert ledger.record(index.id, moved) == first  # its page moved: the old file is surplus
    ledger.record(index.id, StoredAttachment("att2", "11", "OPS", 1, "b.md", "cf-c-att-2", "f3"))
    known = ledger.known(index.id, "OPS")
    assert (known["att1"].version, known["att1"].stored_id) == (2, "f2")
    assert ledger.known(index.id, "ENG") == {}
    assert sorted(ledger.stored_ids(index.id)) == ["f2", "f3"]
    ledger.forget(index.id, ["att2"])
    assert set(ledger.known(index.id, "OPS")) == {"att1"}
    ledger.queue(index.id, "ENG", {"10": {"title": "A"}, "11": {"title": "B"}})
    ledger.queue(index.id, "ENG", {"10": {"title": "A2"}})  # queued again: replaced
    assert ledger.queued(index.id, "ENG") == {"10": {"title": "A2"}, "11": {"title": "B"}}
    ledger.dequeue(index.id, ["11"])
    assert list(ledger.queued(index.id, "ENG")) == ["10"]
    store.registry.delete_index("docs")
    assert ledger.known(index.id, "ENG") == {}


def test_materialized_uploads_report_attachment_counts(world: World) -> None:
    space = world.space_keys[0]
    page = world.page_ids(space)[0]
    world.store.registry.update_index("docs", attachments=True)
    world.wiki.attach(page, "guide.html", "text/html", b"<h1>Setup guide</h1>")
    world.wiki.attach(page, "logo.svg", "image/svg+xml", b"<svg/>")
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        result = dg.materialize(
            sync_assets,
            partition_key=f"docs|{space}",
            resources={
                "state": StateResource(),
                "confluence": ConfluenceResource(),
                "llamacloud": LlamaCloudResource(),
            },
            instance=instance,
        )
    metadata = result.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    counts = {key: value.value for key, value in metadata.items() if key.startswith("attach")}
    assert counts["attachments_enabled"] is True
    assert (counts["attachments_uploaded"], counts["attachments_skipped_images"]) == (1, 1)
    assert counts["attachments_pages_listed"] == 8
    assert [f["text"] for f in _files(world).values()] == ["Setup guide"]


@pytest.mark.slow
@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_cli_settings_bad_values_yaml_and_sync_summary(world: World, tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", {**world.environment(), "CI": "1"})
    space = world.space_keys[0]
    created = cli("index", "create", "files", "--spaces", space, "--attachments", "--no-verify")
    assert created.returncode == 0, created.stderr

    def described(name: str) -> dict[str, Any]:
        listed = cli("index", "list", "--json")
        return next(i for i in json.loads(listed.stdout) if i["name"] == name)

    assert (described("files")["attachments"], described("files")["attachment_max_mb"]) == (
        True,
        20,
    )
    assert "attachments: False" in cli("index", "show", "docs").stdout
    for bad, message in (("0", "attachment_max_mb must be a whole number"), ("abc", "integer")):
        refused = cli("index", "update", "files", "--attachment-max-mb", bad)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert described("files")["attachment_max_mb"] == 20
    assert cli("index", "update", "files", "--no-attachments").returncode == 0
    assert described("files")["attachments"] is False

    yaml_file = tmp_path / "indexes.yaml"
    yaml_file.write_text(
        f"indexes:\n  - name: more\n    spaces: [{space}]\n"
        f"  - name: files\n    spaces: [{space}]\n    attachment_max_mb: -3\n"
    )
    refused = cli("index", "apply", str(yaml_file), "--no-verify")
    assert refused.returncode != 0 and "attachment_max_mb" in refused.stderr
    assert "more" not in cli("index", "list", "--json").stdout  # nothing was written
    yaml_file.write_text(
        f"indexes:\n  - name: docs\n    spaces: [{space}]\n"
        "    attachments: true\n    attachment_max_mb: 7\n"
    )
    assert cli("index", "apply", str(yaml_file), "--no-verify").returncode == 0
    assert (described("docs")["attachments"], described("docs")["attachment_max_mb"]) == (True, 7)

    world.wiki.attach(world.page_ids(space)[0], "faq.md", "text/markdown", b"# FAQ")
    synced = cli("sync", "docs")
    assert synced.returncode == 0, synced.stderr
    assert "attachments: 1 uploaded, 0 deleted, 0 skipped" in synced.stdout
    assert len(world.cloud.project_files()) == 1
    assert cli("index", "delete", "docs", "--purge-documents").returncode == 0
    assert world.cloud.project_files() == []  # attachment files purged with the documents


@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_migration_drops_the_old_targets_files_and_full_sync_uploads_anew(world: World) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True)
    moved = world.wiki.attach(world.page_ids(space)[1], "moving.txt", "text/plain", b"in transit")
    world.sync(space)
    assert len(world.cloud.project_files()) == 1
    with (
        world.client() as client,
        world.sink() as source,
        open_sink("index", API_KEY, PROJECT, base_url=world.cloud_url) as dest,
    ):
        migrate_index(world.store, client, source, dest, world.index())
    assert world.index().target == "index"
    assert world.cloud.project_files() == []  # the old target's files went with it
    assert world.store.attachments.known(world.index().id, space) == {}
    result = world.sync(space, full=True)
    assert result.upload.attachments is not None and result.upload.attachments.uploaded == 1
    assert _files(world)[moved]["text"] == "in transit"


@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_a_run_that_stops_before_the_attachments_leaves_them_to_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True)
    world.sync(space)
    page = world.page_ids(space)[5]
    added = world.wiki.attach(page, "minutes.txt", "text/plain", b"meeting minutes")
    world.wiki.edit_page(page, "<p>edited</p>")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(upload_module, "sync_attachments", crash)
        with pytest.raises(RuntimeError, match="worker killed"):
            world.sync(space)
    assert _files(world) == {}  # the page was recorded, its attachments not yet looked at

    result = world.sync(space)
    assert result.plan.new + result.plan.changed == 0  # nothing left for the pages themselves
    assert result.upload.attachments is not None and result.upload.attachments.pages_listed == 1
    assert set(_files(world)) == {added}
    assert world.store.attachments.queued(world.index().id, space) == {}


def test_turning_attachments_off_deletes_the_files_the_index_holds(world: World) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True)
    page = world.page_ids(space)[2]
    world.wiki.attach(page, "runbook.md", "text/markdown", b"# Runbook")
    world.sync(space)
    assert len(_files(world)) == 1

    world.store.registry.update_index("docs", attachments=False)
    listings = _listings(world)
    result = world.sync(space)

    assert result.upload.attachments is not None and result.upload.attachments.deleted == 1
    assert _files(world) == {}
    assert world.store.attachments.known(world.index().id, space) == {}
    assert _listings(world) == listings  # off: nothing listed, only deleted
    assert world.sync(space).upload.attachments is None


@pytest.mark.parametrize("world", ["pipeline"], indirect=True)
def test_a_files_metadata_follows_its_pages_restrictions(world: World) -> None:
    space = world.space_keys[0]
    world.store.registry.update_index("docs", attachments=True, include_restricted=True)
    page = world.page_ids(space)[3]
    attachment = world.wiki.attach(page, "plan.txt", "text/plain", b"the plan")
    world.sync(space)
    assert _files(world)[attachment]["metadata"].get("restricted") is not True
    downloads = len(world.wiki.media_requests())

    world.wiki.restrict(page, groups=["leads"])  # no version bump: seen at the full listing
    world.wiki.edit_page(world.page_ids(space)[0], "<p>nudge</p>")
    result = world.sync(space)

    metadata = _files(world)[attachment]["metadata"]
    assert (metadata["restricted"], metadata["read_groups"]) == (True, ["leads"])
    assert result.upload.attachments is not None and result.upload.attachments.uploaded == 1
    assert len(world.wiki.media_requests()) == downloads + 1
    assert len(_files(world)) == 1
