"""`demo`: sandboxes, a connection, an index over two spaces, a sync and a no-op re-sync through
Dagster, and a summary. Everything runs through the same commands a user types."""

from __future__ import annotations

import os
import shutil
import time

import click

from confluence_pipeline.cli.connections import connect
from confluence_pipeline.cli.indexes import create
from confluence_pipeline.cli.output import console, fail, print_table
from confluence_pipeline.cli.sandbox import require_sandbox
from confluence_pipeline.cli.syncing import sync
from confluence_pipeline.settings import Settings

_MARKER = ".demo-home"


def _reset_home() -> None:
    home = Settings.from_env().home
    if any(home.iterdir()) and not (home / _MARKER).exists():
        raise fail(
            f"{home} holds data that is not from a demo; point CONFLUENCE_PIPELINE_HOME "
            "at an empty folder for the demo"
        )
    for child in home.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    (home / _MARKER).write_text("created by `confluence-pipeline demo`; safe to delete\n")


@click.command()
@click.option("--pages-per-space", default=300, show_default=True, type=click.IntRange(1, 20_000))
@click.pass_context
def demo(ctx: click.Context, pages_per_space: int) -> None:
    """Run the whole pipeline once on the sandboxes (resets the demo home folder first)."""
    require_sandbox()
    from confluence_pipeline.sandbox import confluence, llamacloud
    from confluence_pipeline.sandbox.admin import ConfluenceAdmin, LlamaCloudAdmin
    from confluence_pipeline.sandbox.server import ServerThread

    os.environ.pop("DAGSTER_HOME", None)
    os.environ.pop("CONFLUENCE_PIPELINE_DATABASE_URL", None)
    _reset_home()
    console.print(f"demo home: {Settings.from_env().home}", markup=False)
    confluence_app = confluence.create_app(spaces=3, pages_per_space=pages_per_space, seed=0)
    with (
        ServerThread(confluence_app) as wiki,
        ServerThread(llamacloud.create_app()) as cloud,
    ):
        os.environ.update(
            LLAMA_CLOUD_API_KEY="sandbox-key",
            LLAMA_CLOUD_PROJECT_ID="sandbox-project",
            LLAMA_CLOUD_BASE_URL=cloud.url,
        )
        wiki_admin, cloud_admin = ConfluenceAdmin(wiki.url), LlamaCloudAdmin(cloud.url)
        spaces = wiki_admin.spaces()[:2]
        keys = [space["key"] for space in spaces]
        ctx.invoke(
            connect,
            site=wiki.url,
            email="demo@example.com",
            api_token="sandbox-token",
            name="sandbox",
            replace=False,
        )
        ctx.invoke(
            create,
            name="demo",
            spaces=",".join(keys),
            interval=60,
            connection=None,
            max_delete_fraction=0.5,
            disabled=False,
        )
        phases = []
        for phase in ("full sync", "no-op re-sync"):
            before_wiki, before_cloud = wiki_admin.stats(), cloud_admin.stats()
            started = time.monotonic()
            ctx.invoke(sync, name="demo", spaces=(), full=False, allow_mass_delete=False)
            seconds = time.monotonic() - started
            after_wiki, after_cloud = wiki_admin.stats(), cloud_admin.stats()
            phases.append(
                [
                    phase,
                    sum(s["pages"] for s in spaces),
                    f"{seconds:.1f}",
                    after_wiki["requests_total"] - before_wiki["requests_total"],
                    after_wiki["bytes_sent"] - before_wiki["bytes_sent"],
                    after_cloud["requests_total"] - before_cloud["requests_total"],
                    after_cloud["documents_upserted"] - before_cloud["documents_upserted"],
                ]
            )
        indexed = sum(p["documents"] for p in cloud_admin.pipelines())
    print_table(
        "Demo summary",
        [
            "phase",
            "pages",
            "seconds",
            "confluence requests",
            "confluence bytes",
            "llamacloud requests",
            "documents upserted",
        ],
        phases,
    )
    expected = sum(s["pages"] for s in spaces)
    console.print(
        f"LlamaCloud index holds {indexed} documents for {expected} pages in "
        f"{', '.join(keys)}: {'all synced' if indexed == expected else 'MISMATCH'}",
        markup=False,
    )
    console.print(
        f"browse the runs: CONFLUENCE_PIPELINE_HOME={Settings.from_env().home} make dev",
        markup=False,
    )
    if indexed != expected:
        raise fail("the index does not match the sandbox")
