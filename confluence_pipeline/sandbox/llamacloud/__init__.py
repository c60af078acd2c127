"""A LlamaCloud emulator: the v1 pipeline and document routes the official SDK calls."""

from .app import create_app

__all__ = ["create_app"]
