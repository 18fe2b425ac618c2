"""Writers: one module per target format; each knows only :class:`~toolkit.model.Example`.

``get_writer(name, **options)`` returns a fresh writer; ``WRITERS`` maps the target names
(the same names as ``ftkit validate --format``) to their classes.
"""

from __future__ import annotations

from typing import Any

from toolkit.writers.base import CannotExpress, Writer, describe_example, sidecar_path
from toolkit.writers.bedrock import BedrockWriter
from toolkit.writers.fireworks import FireworksWriter
from toolkit.writers.hf import HFWriter
from toolkit.writers.mistral import MistralWriter
from toolkit.writers.openai import AzureWriter, OpenAIWriter
from toolkit.writers.parquet import ParquetWriter, read_parquet_examples
from toolkit.writers.sharegpt import ShareGPTWriter
from toolkit.writers.together import TogetherWriter
from toolkit.writers.trl import TRLWriter
from toolkit.writers.vertex import VertexWriter

WRITERS: dict[str, type[Writer]] = {
    cls.name: cls
    for cls in (
        OpenAIWriter,
        AzureWriter,
        TogetherWriter,
        FireworksWriter,
        MistralWriter,
        VertexWriter,
        BedrockWriter,
        ShareGPTWriter,
        TRLWriter,
        ParquetWriter,
        HFWriter,
    )
}

TARGETS = tuple(WRITERS)


def get_writer(name: str, **options: Any) -> Writer:
    """A new writer for target ``name``; options go to its constructor (``style=`` for trl ...)."""
    try:
        cls = WRITERS[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}") from None
    return cls(**options)


__all__ = [
    "CannotExpress",
    "TARGETS",
    "WRITERS",
    "Writer",
    "describe_example",
    "get_writer",
    "read_parquet_examples",
    "sidecar_path",
]
