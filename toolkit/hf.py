"""Hugging Face ``datasets`` pipelines: ftkit's per-example figures as dataset columns.

:func:`add_columns` runs ``Dataset.map(batched=True, num_proc=...)`` with one plain function
over a batch of records, :func:`toolkit.report.columns.compute_columns`, the same function
behind ``ftkit stats`` and ``ftkit lint`` figures, so the columns equal what the command line
reports. Nothing is materialised as a Python list of the whole dataset: ``map`` hands each
worker one batch at a time and writes the result to Arrow.

Example::

    from datasets import load_dataset
    import toolkit.hf

    ds = load_dataset("json", data_files="train.jsonl", split="train")
    ds = toolkit.hf.add_columns(ds, columns=("tokens", "trainable_tokens", "lint_codes"),
                                model="gpt-4o-mini", num_proc=2)
    clean = ds.filter(lambda row: not row["lint_codes"])

Arrow stores every struct field for every row, so a message without ``weight`` comes back
as ``"weight": None``; :func:`record_from_row` drops those nulls to recover the record as
it was written, which is what the command line sees.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from toolkit.report.columns import ALL_COLUMNS, DEFAULT_COLUMNS, compute_columns

__all__ = ["ALL_COLUMNS", "DEFAULT_COLUMNS", "add_columns", "column_features", "record_from_row"]


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset row as the JSONL record it came from: null struct fields Arrow added are dropped.

    Top-level ``None`` columns are dropped too; ``content: None`` of an assistant message
    that only calls tools is kept as absent, which every ftkit check treats the same way.
    """
    return {k: _strip_nulls(v) for k, v in row.items() if v is not None}


def column_features() -> dict[str, Any]:
    """The ``datasets`` feature type of every column ftkit can add."""
    from datasets import Sequence as HFSequence
    from datasets import Value

    return {
        "tokens": Value("int64"),
        "prompt_tokens": Value("int64"),
        "trainable_tokens": Value("int64"),
        "valid": Value("bool"),
        "validation_codes": HFSequence(Value("string")),
        "lint_codes": HFSequence(Value("string")),
        "knowledge_score": Value("float64"),
        "route": Value("string"),
    }


def _map_batch(batch: Mapping[str, list[Any]], *, columns: Sequence[str], options: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``Dataset.map`` worker: rebuild the batch's records, compute the columns (module level: picklable)."""
    keys = list(batch)
    n = len(batch[keys[0]]) if keys else 0
    records = [record_from_row({k: batch[k][i] for k in keys}) for i in range(n)]
    return compute_columns(records, columns, **options)


def add_columns(
    ds: Any,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    *,
    target: str | None = None,
    model: str | None = None,
    encoding: str | None = None,
    lint_select: Sequence[str] | None = None,
    lint_config: Any = None,
    num_proc: int | None = None,
    batch_size: int = 1000,
    desc: str | None = "ftkit columns",
) -> Any:
    """Return ``ds`` (a ``datasets.Dataset`` or a streaming ``IterableDataset``) with ftkit's columns added.

    ``columns`` is any of :data:`ALL_COLUMNS`: ``tokens``, ``prompt_tokens``,
    ``trainable_tokens`` (estimates with ``model``'s encoding, or ``encoding``), ``valid`` and
    ``validation_codes`` (for ``target``), ``lint_codes`` (per-example lint rules, or
    ``lint_select``), ``knowledge_score`` and ``route``. Existing columns of the same name are
    replaced. ``num_proc`` runs batches in worker processes (``Dataset`` only; an
    ``IterableDataset`` computes each batch lazily as it is iterated).
    """
    from datasets import Features, IterableDataset

    columns = tuple(columns)
    unknown = [c for c in columns if c not in ALL_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(ALL_COLUMNS)}")
    names = ds.column_names
    if names is not None and "messages" not in names:
        raise ValueError(f"the dataset has no 'messages' column (columns: {', '.join(names)})")
    replaced = [c for c in columns if names and c in names]
    if replaced:
        ds = ds.remove_columns(replaced)
    kinds = column_features()
    options = {
        "target": target,
        "model": model,
        "encoding": encoding,
        "lint_select": list(lint_select) if lint_select is not None else None,
        "lint_config": lint_config,
    }
    if isinstance(ds, IterableDataset):
        # A streaming dataset: batches are computed lazily as it is iterated (no worker pool).
        features = Features({**ds.features, **{c: kinds[c] for c in columns}}) if ds.features is not None else None
        return ds.map(_map_batch, batched=True, batch_size=batch_size, fn_kwargs={"columns": columns, "options": options},
                      features=features)
    features = Features({**ds.features, **{c: kinds[c] for c in columns}})
    return ds.map(
        _map_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        fn_kwargs={"columns": columns, "options": options},
        features=features,
        desc=desc,
    )
