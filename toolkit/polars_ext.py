"""polars pipelines: ftkit's per-example figures as columns of a DataFrame or LazyFrame.

Two forms, both over the same plain batch function as the command line
(:func:`toolkit.report.columns.compute_columns`):

* :func:`add_columns` ``(df, columns, ...)`` on a ``DataFrame``: processes ``batch_size``
  rows at a time (``iter_slices``) and returns a new frame with the columns appended;
* :func:`ftkit_struct` ``(columns, ...)``: a ``pl.Expr`` (``map_batches`` over a struct of
  the row) that yields one struct column, for ``LazyFrame`` pipelines::

      import polars as pl
      from toolkit.polars_ext import ftkit_struct

      lf = pl.scan_ndjson("train.jsonl")
      out = (lf.with_columns(ftkit_struct(("tokens", "lint_codes"), model="gpt-4o-mini").alias("ftkit"))
               .unnest("ftkit").collect())

Rows are turned back into records with nulls that the frame added dropped (polars, like
Arrow, gives every struct field to every row), so the figures equal the CLI's.
"""

from __future__ import annotations

from typing import Any, Sequence

import polars as pl

from toolkit.hf import record_from_row
from toolkit.report.columns import ALL_COLUMNS, DEFAULT_COLUMNS, compute_columns

__all__ = ["add_columns", "column_dtypes", "ftkit_struct"]


def column_dtypes() -> dict[str, pl.DataType]:
    """The polars dtype of every column ftkit can add."""
    return {
        "tokens": pl.Int64(),
        "prompt_tokens": pl.Int64(),
        "trainable_tokens": pl.Int64(),
        "valid": pl.Boolean(),
        "validation_codes": pl.List(pl.Utf8),
        "lint_codes": pl.List(pl.Utf8),
        "knowledge_score": pl.Float64(),
        "route": pl.Utf8(),
    }


def _check(columns: Sequence[str]) -> tuple[str, ...]:
    columns = tuple(columns)
    unknown = [c for c in columns if c not in ALL_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(ALL_COLUMNS)}")
    return columns


def _compute(rows: list[dict[str, Any]], columns: tuple[str, ...], options: dict[str, Any]) -> pl.DataFrame:
    values = compute_columns([record_from_row(r) for r in rows], columns, **options)
    dtypes = column_dtypes()
    return pl.DataFrame({c: pl.Series(c, values[c], dtype=dtypes[c]) for c in columns})


def add_columns(
    df: pl.DataFrame,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    *,
    target: str | None = None,
    model: str | None = None,
    encoding: str | None = None,
    lint_select: Sequence[str] | None = None,
    lint_config: Any = None,
    batch_size: int = 1000,
) -> pl.DataFrame:
    """Return ``df`` with ftkit's columns appended (existing columns of those names replaced)."""
    columns = _check(columns)
    if "messages" not in df.columns:
        raise ValueError(f"the frame has no 'messages' column (columns: {', '.join(df.columns)})")
    options = {"target": target, "model": model, "encoding": encoding,
               "lint_select": list(lint_select) if lint_select is not None else None, "lint_config": lint_config}
    base = df.drop([c for c in columns if c in df.columns])
    parts = [_compute(chunk.to_dicts(), columns, options) for chunk in base.iter_slices(batch_size)]
    if not parts:
        dtypes = column_dtypes()
        added = pl.DataFrame({c: pl.Series(c, [], dtype=dtypes[c]) for c in columns})
    else:
        added = pl.concat(parts)
    return base.hstack(added)


def ftkit_struct(
    columns: Sequence[str] = DEFAULT_COLUMNS,
    *,
    target: str | None = None,
    model: str | None = None,
    encoding: str | None = None,
    lint_select: Sequence[str] | None = None,
    lint_config: Any = None,
) -> pl.Expr:
    """A ``pl.Expr`` computing ftkit's columns as one struct column (``.unnest`` it)."""
    columns = _check(columns)
    options = {"target": target, "model": model, "encoding": encoding,
               "lint_select": list(lint_select) if lint_select is not None else None, "lint_config": lint_config}
    dtypes = column_dtypes()
    struct_type = pl.Struct([pl.Field(c, dtypes[c]) for c in columns])

    def run(series: pl.Series) -> pl.Series:
        frame = _compute(series.to_list(), columns, options)
        return frame.to_struct("ftkit")

    return pl.struct(pl.all()).map_batches(run, return_dtype=struct_type)
