"""Assemble everything the report shows: stats, cost, knowledge, lint, splits, economics, verdict.

Each input file is streamed once per analysis (stats, knowledge, lint): no pass keeps the
records. :func:`build_report` returns plain JSON-compatible data; :func:`toolkit.report.html.render_html`
turns it into the page, and ``ftkit report --data-json`` writes the data itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from toolkit import __version__
from toolkit.report.cost import CostLine, PriceTable, cost_summary, cost_table, load_prices, training_cost
from toolkit.report.stats import DatasetStats, compute_stats, iter_valid_records
from toolkit.report.verdict import (
    DEFAULTS,
    KnowledgeSummary,
    LintSummary,
    decide,
    economics,
    kb_passage_tokens,
    lint_files,
    summarize_knowledge,
)

DEFAULT_ECONOMICS_MODEL = ("openai", "gpt-4o-mini-2024-07-18")
DEFAULT_REQUESTS_PER_DAY = 1000


class ReportInputError(ValueError):
    """A report input (manifest, KB, price file) is unreadable; the message names it."""


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read a ``split_manifest.json``; raise :class:`ReportInputError` naming the file."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read())
    except FileNotFoundError:
        raise ReportInputError(f"{path}: no such split manifest") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise ReportInputError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReportInputError(f"{path}: a split manifest must be a JSON object")
    return data


def pick_economics_line(table: PriceTable, stats: DatasetStats, *, model: str | None, provider: str | None,
                        epochs: int | None) -> tuple[CostLine, str]:
    """The provider/model the break-even uses: the user's model if priced, else gpt-4o-mini on OpenAI."""
    note = ""
    candidates = table.find(model, provider) if model else []
    if not candidates and provider and not model:
        candidates = table.models(provider)[:1]
    if candidates:
        # Prefer OpenAI when a name is priced on several providers (OpenAI and Azure).
        candidates.sort(key=lambda p: (p.provider != (provider or "openai"), p.provider, p.model))
        price = candidates[0]
    else:
        pname, mname = DEFAULT_ECONOMICS_MODEL
        found = [p for p in table.models(pname) if p.model == mname]
        price = found[0] if found else table.models()[0]
        note = (f"{model!r} has no price entry; " if model else "") + f"break-even computed for {price.provider}/{price.model}"
    return training_cost(table, price, stats.totals(), epochs=epochs), note


def _records(files: Sequence[str]) -> Iterator[dict[str, Any]]:
    for item in iter_valid_records(files):
        if isinstance(item.value.get("messages"), list) and item.value["messages"]:
            yield item.value


def build_report(
    files: Sequence[str],
    *,
    model: str | None = None,
    encoding: str | None = None,
    epochs: int | None = None,
    prices: str | Path | None = None,
    provider: str | None = None,
    providers: Sequence[str] | None = None,
    manifest: str | Path | None = None,
    kb: str | Path | None = None,
    prompt_tokens_saved: float | None = None,
    requests_per_day: float | None = None,
    prompt_tokens: float | None = None,
    output_tokens: float | None = None,
    rag_tokens: float | None = None,
    thresholds: Mapping[str, Any] | None = None,
    with_lint: bool = True,
    with_knowledge: bool = True,
    title: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Compute the report's data. Raises ``OSError`` for unreadable inputs, :class:`ReportInputError`
    and ``PriceTableError`` for malformed ones."""
    t = {**DEFAULTS, **(thresholds or {})}
    say = progress or (lambda message: None)
    say("statistics and token counts")
    stats = compute_stats(list(files), model=model, encoding=encoding)
    table = load_prices(prices)
    lines = cost_table(table, stats.totals(), epochs=epochs, providers=list(providers) if providers else None)
    line, econ_note = pick_economics_line(table, stats, model=model, provider=provider, epochs=epochs)

    manifest_data = load_manifest(manifest) if manifest else None

    if with_knowledge:
        say(f"knowledge analysis of {stats.examples:,} examples")
    knowledge = (
        summarize_knowledge(_records(files), top=int(t["top_facts"]), jobs=jobs)
        if with_knowledge
        else KnowledgeSummary(available=False, reason="skipped (--no-knowledge)")
    )
    if with_lint:
        say("lint")
    lint = lint_files(list(files), stats.examples, jobs=jobs) if with_lint else LintSummary(available=False, reason="skipped (--no-lint)")

    # Per-request token figures: the user's, else the dataset's own averages.
    cautions: list[str] = []
    n = stats.examples or 1
    P = float(prompt_tokens) if prompt_tokens is not None else stats.prompt_tokens / n
    assistant = stats.role_tokens.get("assistant")
    O = float(output_tokens) if output_tokens is not None else (assistant.mean if assistant and assistant.mean else 0.0)
    S = float(prompt_tokens_saved) if prompt_tokens_saved is not None else 0.0
    R = float(requests_per_day) if requests_per_day is not None else float(DEFAULT_REQUESTS_PER_DAY)
    if prompt_tokens_saved is None:
        cautions.append("no --prompt-tokens-saved given: the break-even assumes a fine-tuned model saves no prompt tokens; "
                        "pass the size of the instructions and few-shot examples it would no longer need")
    if requests_per_day is None:
        cautions.append(f"no --requests-per-day given: assumed {DEFAULT_REQUESTS_PER_DAY:,}")
    if rag_tokens is not None:
        rag, rag_source = float(rag_tokens), "--rag-tokens"
    elif kb is not None:
        from toolkit.tokens import resolve_encoding

        try:
            mean_passage, n_passages = kb_passage_tokens(kb, resolve_encoding(model, encoding), target=int(t["rag_passage_tokens"]))
        except (OSError, ValueError) as exc:
            raise ReportInputError(str(exc)) from exc
        rag = mean_passage * int(t["rag_passages"])
        rag_source = f"{int(t['rag_passages'])} passages x {mean_passage:,.0f} tokens, mean of {n_passages:,} KB passages"
    else:
        rag = float(t["rag_passages"]) * float(t["rag_passage_tokens"])
        rag_source = f"assumed {int(t['rag_passages'])} passages x {int(t['rag_passage_tokens'])} tokens; pass --kb to measure"
    econ = economics(line, prompt_tokens=P, output_tokens=O, prompt_tokens_saved=S, requests_per_day=R,
                     rag_tokens=rag, rag_tokens_source=rag_source)
    if econ_note:
        econ.notes.insert(0, econ_note)
    verdict = decide(n_examples=stats.examples, knowledge=knowledge, lint=lint, econ=econ, thresholds=t)
    verdict.cautions.extend(cautions)

    return {
        "format": "ftkit-report/1",
        "version": __version__,
        "title": title,
        "stats": stats.to_dict(),
        "histograms": stats.histograms_dict(),
        "cost": cost_summary(table, lines),
        "verdict": verdict.to_dict(),
        "manifest": manifest_data,
    }
