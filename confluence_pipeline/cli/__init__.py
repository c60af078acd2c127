"""The ``confluence-pipeline`` command: one clear line and a non-zero exit on any error."""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from confluence_pipeline.cli.lazy import LazyGroup
from confluence_pipeline.cli.output import DEBUG_ENV, debugging, errors
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.runtime import allocator

COMMANDS = {
    "sandbox": "confluence_pipeline.cli.sandbox:sandbox",
    "connect": "confluence_pipeline.cli.connections:connect",
    "connections": "confluence_pipeline.cli.connections:connections",
    "disconnect": "confluence_pipeline.cli.connections:disconnect",
    "index": "confluence_pipeline.cli.indexes:index",
    "sync": "confluence_pipeline.cli.syncing:sync",
    "history": "confluence_pipeline.cli.syncing:history",
    "secret": "confluence_pipeline.cli.secret_key:secret",
    "demo": "confluence_pipeline.cli.demo:demo",
    "mcp": "confluence_pipeline.cli.mcp:mcp",
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help=f"Details on errors (tracebacks, Dagster's step logs); also ${DEBUG_ENV}=1.",
)
def cli(verbose: bool) -> None:
    """Keep Confluence Cloud spaces searchable in LlamaCloud indexes."""
    if verbose:
        os.environ[DEBUG_ENV] = "1"


def main(argv: list[str] | None = None) -> None:
    """Runs the CLI; any failure ends in one ``error:`` line on stderr and exit status 1 (2
    for a command line click cannot parse)."""
    allocator.tune()
    try:
        # without standalone mode click returns an Exit's code instead of raising it
        code = cli.main(args=argv, prog_name="confluence-pipeline", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        _error("aborted")
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "confluence-pipeline"
        _error(f"{exc.format_message()} (see `{where} --help`)", code=exc.exit_code)
    except click.ClickException as exc:
        _error(exc.format_message(), code=exc.exit_code)
    except PipelineError as exc:
        _error(str(exc))
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _error(f"state database: {detail}")
    except KeyboardInterrupt:
        _error("interrupted")
    except Exception as exc:
        _error(f"unexpected {type(exc).__name__}: {exc} (--verbose for details)")


def _error(message: str, code: int = 1) -> NoReturn:
    if debugging():
        traceback.print_exc()
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    errors.print(f"error: {first_line}", markup=False)
    sys.exit(code)
