"""Request bodies as the real API validates them (FastAPI + pydantic), for 422 parity."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class DocumentIn(BaseModel):
    """``CloudDocumentCreate``."""

    model_config = ConfigDict(extra="ignore")

    text: str
    metadata: dict[str, Any]
    id: str | None = None
    excluded_embed_metadata_keys: list[str] | None = None
    excluded_llm_metadata_keys: list[str] | None = None
    page_positions: list[int] | None = None


class PipelineIn(BaseModel):
    """``PipelineCreate`` (upsert and create)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    pipeline_type: Literal["MANAGED", "PLAYGROUND"] | None = None
    embedding_config: dict[str, Any] | None = None
    transform_config: dict[str, Any] | None = None


class PipelineUpdate(PipelineIn):
    """``PipelineUpdate``: every field optional."""

    name: str | None = Field(default=None, min_length=1)  # type: ignore[assignment]


class RetrieveIn(BaseModel):
    """``RetrievalParams`` (the fields the emulator uses; the rest are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    query: str
    dense_similarity_top_k: int | None = Field(default=None, ge=1)
    dense_similarity_cutoff: float | None = None
    rerank_top_n: int | None = Field(default=None, ge=1)
    enable_reranking: bool | None = None
    search_filters: dict[str, Any] | None = None


DOCUMENTS = TypeAdapter(list[DocumentIn])
PIPELINE = TypeAdapter(PipelineIn)
PIPELINE_UPDATE = TypeAdapter(PipelineUpdate)
RETRIEVE = TypeAdapter(RetrieveIn)


def body_fields(model: BaseModel) -> dict[str, Any]:
    """The fields the client actually sent (explicit nulls included)."""
    return model.model_dump(exclude_unset=True)
