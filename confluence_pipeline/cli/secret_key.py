"""`secret rotate`: re-encrypt stored credentials with a new ``SECRET_KEY``."""

from __future__ import annotations

import click

from confluence_pipeline.cli.context import open_state
from confluence_pipeline.cli.output import console, fail
from confluence_pipeline.settings import Settings
from confluence_pipeline.state.crypto import TokenCipher
from confluence_pipeline.state.rotation import RotationRefused, rotate_secrets


@click.group()
def secret() -> None:
    """The key that encrypts stored credentials (SECRET_KEY)."""


@secret.command()
@click.option(
    "--old-key-env",
    "variable",
    required=True,
    metavar="VAR",
    help="Environment variable holding the old key (the key itself never goes on the command "
    "line).",
)
def rotate(variable: str) -> None:
    """Re-encrypt every stored token and API token from the old key (in $VAR) to the current
    one (SECRET_KEY, or the key file), all in one transaction: a wrong old key changes
    nothing. Afterwards restart every worker with the new SECRET_KEY."""
    settings = Settings.from_env()
    old_key = settings.key_from(variable)
    if old_key == settings.secret_key():
        raise fail(f"{variable} holds the current key: set SECRET_KEY to the new one")
    with open_state() as store:
        try:
            count = rotate_secrets(store.engine, TokenCipher(old_key), store.cipher)
        except RotationRefused as exc:
            raise fail(f"{exc} (is {variable} the key the credentials were saved with?)") from None
    console.print(f"re-encrypted {count} connection secrets with the current key", markup=False)
