"""Input and output: streaming JSONL (with line numbers and per-line errors) and atomic writes."""

from toolkit.io.jsonl import JsonlLine, LineError, atomic_writer, dumps, read_jsonl, read_records, write_jsonl

__all__ = ["JsonlLine", "LineError", "atomic_writer", "dumps", "read_jsonl", "read_records", "write_jsonl"]
