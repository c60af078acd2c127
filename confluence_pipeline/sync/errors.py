"""The error a sync step raises when it cannot go on."""

from confluence_pipeline.errors import PipelineError


class SyncError(PipelineError):
    """A sync cannot proceed; the message is one line for the user."""
