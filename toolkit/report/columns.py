"""Per-example figures as plain functions over a batch of records.

One implementation serves every path: ``ftkit stats`` and ``ftkit report`` stream records
through :func:`token_row`; the Hugging Face (``toolkit.hf``) and polars
(``toolkit.polars_ext``) pipelines call :func:`compute_columns` on each batch. So a column
added to a ``datasets.Dataset`` holds exactly what the command line reports.

Columns (all estimates where tokens are involved; the encoding is named by the caller):

* ``tokens``, ``prompt_tokens``, ``trainable_tokens``: :func:`toolkit.tokens.count_example`;
* ``valid`` and ``validation_codes``: :func:`toolkit.validation.validate` for a target;
* ``lint_codes``: codes of the *per-example* lint rules that fire (dataset-scope rules,
  such as duplicates, need the whole dataset and cannot be computed batch by batch);
* ``knowledge_score`` and ``route``: :func:`toolkit.knowledge.analyze` (``"knowledge"`` or
  ``"behavior"``).
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping, Sequence

from toolkit.model import Example
from toolkit.tokens import count_example

ALL_COLUMNS = (
    "tokens",
    "prompt_tokens",
    "trainable_tokens",
    "valid",
    "validation_codes",
    "lint_codes",
    "knowledge_score",
    "route",
)
DEFAULT_COLUMNS = ("tokens", "trainable_tokens", "lint_codes", "knowledge_score", "valid")

ROLES = ("system", "developer", "user", "assistant", "tool")


class ColumnUnavailable(RuntimeError):
    """A column needs a part of ftkit that is not installed or not importable."""


def system_prompt_key(text: str) -> str:
    """A short stable key for a system prompt (sha1 of its exact text)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def token_row(record: Mapping[str, Any], encoding: Any, *, limit: int | None = None) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Token figures for one record: an example row and its ``(role, tokens)`` message rows.

    ``encoding`` is a tiktoken ``Encoding``. The example row has ``tokens``,
    ``prompt_tokens``, ``trainable_tokens``, ``messages``, per-role message counts,
    ``weight0`` (assistant messages with ``weight: 0``), ``over_limit``, ``system_key``
    and ``conversation_id``.
    """
    example = Example.from_dict(record)
    count = count_example(example, encoding)
    row: dict[str, Any] = {
        "tokens": count.total,
        "prompt_tokens": count.prompt,
        "trainable_tokens": count.trainable,
        "tool_definition_tokens": count.tools,
        "messages": len(example.messages),
        "weight0": 0,
        "over_limit": bool(limit is not None and count.total > limit),
        "system_key": None,
        "conversation_id": example.conversation_id,
    }
    for role in ROLES:
        row[f"n_{role}"] = 0
    message_rows: list[tuple[str, int]] = []
    for message, tokens in zip(example.messages, count.per_message):
        role = message.role if isinstance(message.role, str) else "(invalid)"
        key = f"n_{role}"
        if key in row:
            row[key] += 1
        if role == "assistant" and message.weight == 0:
            row["weight0"] += 1
        message_rows.append((role, tokens))
    system = example.system_prompt
    if system is not None:
        row["system_key"] = system_prompt_key(system)
    return row, message_rows


def _codes_by_index(diagnostics: Iterable[Any], n: int, *, errors_only: bool = False) -> list[list[str]]:
    """Group diagnostics by record: the record's 1-based position in the batch is its ``line``."""
    out: list[set[str]] = [set() for _ in range(n)]
    for diagnostic in diagnostics:
        line = getattr(diagnostic, "line", None)
        if line is None or not 1 <= line <= n:
            continue
        if errors_only and getattr(getattr(diagnostic, "severity", None), "value", "error") != "error":
            continue
        out[line - 1].add(diagnostic.code)
    return [sorted(codes) for codes in out]


def validation_codes(records: Sequence[Mapping[str, Any]], *, target: str | None = None, model: str | None = None) -> list[list[str]]:
    """Error codes ``toolkit.validation.validate`` reports for each record of a batch.

    The dataset-wide minimum-count check is left out: it is not a property of a record.
    """
    try:
        from toolkit.validation import validate
    except ImportError as exc:  # pragma: no cover - depends on the validation module
        raise ColumnUnavailable(f"the 'valid' column needs toolkit.validation: {exc}") from exc
    # Plain dicts: validate numbers them 1..n, which maps each diagnostic to its row.
    diagnostics = validate([dict(r) for r in records], target=target or "openai", model=model, min_examples=False)
    return _codes_by_index(diagnostics, len(records), errors_only=True)


def example_rule_codes() -> list[str]:
    """Codes of the registered per-example lint rules that are on by default."""
    from toolkit.linter.rule import load_all_rules

    try:
        from toolkit.linter.rules.meta import ENGINE_CODES
    except ImportError:  # pragma: no cover - older linter
        ENGINE_CODES = frozenset()
    return [
        code for code, rule in load_all_rules().items()
        if rule.scope == "example" and rule.default_enabled and code not in ENGINE_CODES
    ]


def lint_codes(records: Sequence[Mapping[str, Any]], *, select: Sequence[str] | None = None, config: Any = None) -> list[list[str]]:
    """Codes of per-example lint rules that fire on each record of a batch."""
    try:
        from toolkit.linter import lint
    except ImportError as exc:  # pragma: no cover - depends on the linter module
        raise ColumnUnavailable(f"the 'lint_codes' column needs toolkit.linter.lint: {exc}") from exc
    codes = list(select) if select is not None else example_rule_codes()
    if not codes:
        return [[] for _ in records]
    # Plain dicts: the engine numbers them 1..n, which maps each diagnostic to its row.
    diagnostics = lint([dict(r) for r in records], config=False if config is None else config, select=codes, jobs=1)
    return _codes_by_index(diagnostics, len(records))


def knowledge_columns(records: Sequence[Mapping[str, Any]], **options: Any) -> tuple[list[float], list[str]]:
    """``(knowledge_score, route)`` for each record, from ``toolkit.knowledge.analyze``."""
    try:
        from toolkit.knowledge import ROUTING_OPTIONS, analyze
    except ImportError as exc:  # pragma: no cover - depends on the knowledge module
        raise ColumnUnavailable(f"the 'knowledge_score' column needs toolkit.knowledge.analyze: {exc}") from exc
    scores: list[float] = []
    routes: list[str] = []
    for record in records:
        result = analyze(record, options.get("options") or ROUTING_OPTIONS)
        scores.append(round(float(result.score), 6))
        routes.append(route_of(result))
    return scores, routes


def route_of(result: Any) -> str:
    """``"knowledge"`` or ``"behavior"`` from a KnowledgeResult's label."""
    label = str(getattr(result, "label", "") or "").lower()
    return "knowledge" if label in ("knowledge", "error", "warning", "mixed") else "behavior"


def compute_columns(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str] = DEFAULT_COLUMNS,
    *,
    target: str | None = None,
    model: str | None = None,
    encoding: str | None = None,
    lint_select: Sequence[str] | None = None,
    lint_config: Any = None,
) -> dict[str, list[Any]]:
    """Compute the requested columns for a batch of records (dicts); one list per column.

    Raises ``ValueError`` for an unknown column name and :class:`ColumnUnavailable` when a
    column needs a module that is missing.
    """
    unknown = [c for c in columns if c not in ALL_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(ALL_COLUMNS)}")
    out: dict[str, list[Any]] = {}
    wanted = set(columns)
    if wanted & {"tokens", "prompt_tokens", "trainable_tokens"}:
        from toolkit.tokens import resolve_encoding

        enc = resolve_encoding(model, encoding)
        # The same per-record function `ftkit stats` streams through.
        rows = [token_row(record, enc)[0] for record in records]
        for name in ("tokens", "prompt_tokens", "trainable_tokens"):
            if name in wanted:
                out[name] = [row[name] for row in rows]
    if wanted & {"valid", "validation_codes"}:
        codes = validation_codes(records, target=target, model=model)
        if "valid" in wanted:
            out["valid"] = [not c for c in codes]
        if "validation_codes" in wanted:
            out["validation_codes"] = codes
    if "lint_codes" in wanted:
        out["lint_codes"] = lint_codes(records, select=lint_select, config=lint_config)
    if wanted & {"knowledge_score", "route"}:
        scores, routes = knowledge_columns(records)
        if "knowledge_score" in wanted:
            out["knowledge_score"] = scores
        if "route" in wanted:
            out["route"] = routes
    return {name: out[name] for name in columns}
