"""`sandbox`: the local emulators of Confluence Cloud and LlamaCloud, until Ctrl-C.

This command and `demo` are the only production code that imports ``confluence_pipeline.sandbox``,
lazily, because they are its entry points. The Docker image leaves the emulators out: there both
commands stop with one error line (``require_sandbox``)."""

from __future__ import annotations

import click

from confluence_pipeline.cli.output import console, fail

SANDBOX_MISSING = (
    "the sandbox (the Confluence Cloud and LlamaCloud emulators) is not installed here: install "
    "confluence_pipeline from a checkout with the `sandbox` extra, pip install -e '.[sandbox]'"
)


def require_sandbox() -> None:
    """Exits with one ``error:`` line where ``confluence_pipeline.sandbox`` or its servers'
    packages are missing."""
    try:
        import confluence_pipeline.sandbox.server  # noqa: F401
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing.startswith("confluence_pipeline.sandbox") or missing.split(".")[0] in (
            "starlette",
            "uvicorn",
        ):
            raise fail(SANDBOX_MISSING) from None
        raise


@click.command()
@click.option("--confluence-port", default=8790, show_default=True, type=click.IntRange(0, 65535))
@click.option("--llamacloud-port", default=8791, show_default=True, type=click.IntRange(0, 65535))
@click.option("--spaces", default=3, show_default=True, type=click.IntRange(1, 500))
@click.option("--pages-per-space", default=50, show_default=True, type=click.IntRange(0, 200_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0, 60_000))
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0))
@click.option(
    "--ingest-delay-ms",
    default=0,
    show_default=True,
    type=click.IntRange(0, 3_600_000),
    help="How long LlamaCloud takes to make accepted documents searchable.",
)
@click.option(
    "--points-per-hour",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Meter Confluence requests against this hourly points budget (0: off), with "
    "Atlassian's rate-limit headers and 429s once spent.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
def sandbox(
    confluence_port: int,
    llamacloud_port: int,
    spaces: int,
    pages_per_space: int,
    seed: int,
    latency_ms: int,
    fault_rate: float,
    ingest_delay_ms: int,
    points_per_hour: int,
    host: str,
) -> None:
    """Serve the Confluence Cloud and LlamaCloud emulators on real ports until stopped."""
    require_sandbox()
    from confluence_pipeline.sandbox import confluence, llamacloud
    from confluence_pipeline.sandbox.server import free_port, serve_until_signal

    wiki = confluence.create_app(
        spaces=spaces,
        pages_per_space=pages_per_space,
        seed=seed,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        points_per_hour=points_per_hour,
    )
    media_port = free_port(host)  # where attachment downloads redirect
    wiki.state.sandbox.attachments.media_url = f"http://{host}:{media_port}"
    apps = {
        "confluence": (wiki, confluence_port or free_port(host)),
        "media": (confluence.create_media_app(wiki.state.sandbox), media_port),
        "llamacloud": (
            llamacloud.create_app(
                latency_ms=latency_ms,
                fault_rate=fault_rate,
                seed=seed,
                ingest_delay_ms=ingest_delay_ms,
            ),
            llamacloud_port or free_port(host),
        ),
    }

    def ready(urls: dict[str, str]) -> None:
        console.print(
            f"sandbox ready: confluence={urls['confluence']} llamacloud={urls['llamacloud']}\n"
            f"  connect:  confluence-pipeline connect --site {urls['confluence']} "
            "--email demo@example.com --api-token sandbox-token\n"
            f"  env:      LLAMA_CLOUD_BASE_URL={urls['llamacloud']} "
            "LLAMA_CLOUD_API_KEY=sandbox-key LLAMA_CLOUD_PROJECT_ID=sandbox-project",
            markup=False,
            soft_wrap=True,
        )

    serve_until_signal(apps, host=host, on_ready=ready)
    console.print("sandbox stopped", markup=False)
