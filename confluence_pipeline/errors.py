"""The base class of the product's own errors."""


class PipelineError(Exception):
    """An error the product raises on purpose; its message is one line for the user (what went
    wrong, where, and what to do), so callers may show it as it is."""
