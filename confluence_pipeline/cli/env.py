"""Environment the sync needs, checked up front so a missing variable is one clear line."""

from __future__ import annotations

import os

from confluence_pipeline.cli.output import fail
from confluence_pipeline.llamacloud import LlamaCloudSink

REQUIRED_FOR_SYNC = ("LLAMA_CLOUD_API_KEY", "LLAMA_CLOUD_PROJECT_ID")


def require_env(*names: str) -> None:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise fail(
            f"{', '.join(missing)} not set (see README: Configuration); "
            "for the sandbox: LLAMA_CLOUD_API_KEY=sandbox-key "
            "LLAMA_CLOUD_PROJECT_ID=sandbox-project"
        )


def llamacloud_sink() -> LlamaCloudSink:
    require_env(*REQUIRED_FOR_SYNC)
    return LlamaCloudSink(
        os.environ["LLAMA_CLOUD_API_KEY"],
        os.environ["LLAMA_CLOUD_PROJECT_ID"],
        base_url=os.environ.get("LLAMA_CLOUD_BASE_URL") or None,
    )
