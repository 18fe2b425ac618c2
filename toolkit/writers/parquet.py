"""Apache Parquet: one row per example, written in row groups as the stream arrives.

Columns: ``messages`` (a list of structs: ``role``, ``content``, ``name``, ``weight``,
``tool_calls`` (list of ``id``, ``type``, ``function{name, arguments}``), ``tool_call_id``),
``tools`` (the tool definitions as a JSON string: their schemas differ row to row),
``parallel_tool_calls``, and ``metadata`` (the provenance block as a JSON string, for the
same reason). The schema is fixed, so files from different runs concatenate, and the output
is byte-identical for the same input with the same pyarrow version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from toolkit.io.jsonl import atomic_writer
from toolkit.model import Example, content_text
from toolkit.writers.base import Record, Writer

ROW_GROUP = 2048

TOOL_CALL = pa.struct([
    ("id", pa.string()),
    ("type", pa.string()),
    ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())])),
])
MESSAGE = pa.struct([
    ("role", pa.string()),
    ("content", pa.string()),
    ("name", pa.string()),
    ("weight", pa.int64()),
    ("tool_calls", pa.list_(TOOL_CALL)),
    ("tool_call_id", pa.string()),
])
SCHEMA = pa.schema([
    ("messages", pa.list_(MESSAGE)),
    ("tools", pa.string()),
    ("parallel_tool_calls", pa.bool_()),
    ("metadata", pa.string()),
])


def example_row(example: Example) -> Record:
    """The row of one example in :data:`SCHEMA` (nested JSON-compatible values)."""
    messages = []
    for message in example.messages:
        messages.append({
            "role": message.role,
            "content": None if message.content is None else content_text(message.content),
            "name": message.name,
            "weight": message.weight,
            "tool_calls": None if message.tool_calls is None else [
                {"id": c.id, "type": c.type, "function": {"name": c.function.name, "arguments": c.function.arguments}}
                for c in message.tool_calls
            ],
            "tool_call_id": message.tool_call_id,
        })
    return {
        "messages": messages,
        "tools": None if example.tools is None else orjson.dumps(example.tools).decode(),
        "parallel_tool_calls": example.parallel_tool_calls,
        "metadata": None if example.metadata is None else orjson.dumps(example.metadata).decode(),
    }


def row_to_example(row: Record) -> Example:
    """Read a row back into an :class:`Example` (for tests and for ``ftkit`` tools reading Parquet)."""
    messages = []
    for m in row["messages"]:
        data = {k: v for k, v in m.items() if v is not None}
        data.setdefault("content", None)
        messages.append(data)
    record: Record = {"messages": messages}
    if row.get("tools") is not None:
        record["tools"] = orjson.loads(row["tools"])
    if row.get("parallel_tool_calls") is not None:
        record["parallel_tool_calls"] = row["parallel_tool_calls"]
    if row.get("metadata") is not None:
        record["metadata"] = orjson.loads(row["metadata"])
    return Example.from_dict(record)


class ParquetWriter(Writer):
    name = "parquet"
    description = "Apache Parquet, one row per example (OpenAI-style messages)"
    suffix = ".parquet"
    roles = ("system", "developer", "user", "assistant", "tool")

    def encode(self, example: Example) -> Record:
        self.check(example)
        row = example_row(example)
        if example.metadata is None:
            row["metadata"] = None
        return row

    def with_metadata(self, record: Record, example: Example) -> Record:  # pragma: no cover - rows carry it already
        return record

    def write(self, path: str | os.PathLike[str], records: Iterable[Record]) -> int:
        count = 0
        with atomic_writer(path, gzip_output=False) as out:
            writer = pq.ParquetWriter(out, SCHEMA, compression="zstd")
            try:
                batch: list[Record] = []
                for record in records:
                    batch.append(record)
                    count += 1
                    if len(batch) >= ROW_GROUP:
                        writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
                        batch = []
                if batch or count == 0:
                    writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            finally:
                writer.close()
        return count


def read_parquet_examples(path: str | os.PathLike[str]) -> Iterable[Example]:
    """Stream the examples of a Parquet file written by :class:`ParquetWriter`."""
    file = pq.ParquetFile(Path(path))
    for batch in file.iter_batches(batch_size=ROW_GROUP):
        for row in batch.to_pylist():
            yield row_to_example(row)
