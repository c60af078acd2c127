"""The ``confluence-pipeline`` command: one clear line and a non-zero exit on any error."""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from confluence_pipeline.cli.connections import connect, connections, disconnect
from confluence_pipeline.cli.demo import demo
from confluence_pipeline.cli.indexes import index
from confluence_pipeline.cli.output import errors
from confluence_pipeline.cli.sandbox import sandbox
from confluence_pipeline.cli.secret_key import secret
from confluence_pipeline.cli.syncing import history, sync
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime import allocator


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Keep Confluence Cloud spaces searchable in LlamaCloud indexes."""


for command in (sandbox, connect, connections, disconnect, index, sync, history, secret, demo):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    allocator.tune()
    try:
        # without standalone mode click returns an Exit's code instead of raising it
        code = cli.main(args=argv, prog_name="confluence-pipeline", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        errors.print("aborted", markup=False)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PipelineError as exc:
        _error(str(exc))
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _error(f"state database: {detail}")
    except KeyboardInterrupt:
        _error("interrupted")
    except Exception as exc:
        if os.environ.get("CONFLUENCE_PIPELINE_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (CONFLUENCE_PIPELINE_DEBUG=1 for details)")


def _error(message: str) -> None:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    errors.print(f"error: {first_line}", markup=False, soft_wrap=True)
    sys.exit(1)
