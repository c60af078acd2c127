"""Encryption of credentials at rest: Fernet with a key derived from ``SECRET_KEY``."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from confluence_pipeline.errors import PipelineError

_INFO = b"confluence_pipeline credentials v1"


class SecretKeyMismatch(PipelineError):
    """Stored credentials were encrypted with another SECRET_KEY."""


class InvalidSecretKey(PipelineError, ValueError):
    """The key given to :class:`TokenCipher` cannot be used (empty)."""


class TokenCipher:
    """Encrypts and decrypts credential strings with a key derived from a secret."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise InvalidSecretKey("the secret key is empty: set SECRET_KEY")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        """Returns the plaintext; raises ``SecretKeyMismatch`` if the key differs."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise SecretKeyMismatch(
                "stored credentials cannot be decrypted: SECRET_KEY differs from the one "
                "used when they were saved (restore it, or reconnect)"
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(<redacted>)"
