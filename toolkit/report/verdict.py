"""The fine-tune-or-RAG decision, made executable and stated in numbers.

Fine-tuning teaches *behavior* (tone, format, procedure, when to ask and when to act);
retrieval supplies *knowledge* (prices, policies, plan names, account facts) that changes
and must stay current. This module weighs a dataset on three measures and ends with one
plain recommendation, ``rag``, ``fine-tune`` or ``both``, and the numbers behind it:

1. **What the examples teach**: the share of examples whose assistant turns state facts
   (:func:`toolkit.knowledge.analyze` labels each example), and the facts taught most often.
2. **How consistent the behavior is**: the share of examples free of voice/format (V) and
   text-quality (Q) lint findings. A model learns inconsistency as faithfully as consistency.
3. **Economics**: a fine-tuned model no longer needs the instructions and few-shot examples
   in every prompt (``prompt_tokens_saved``), but its tokens cost more than the base model's
   and some providers bill hosting by the hour. Per request::

       base  = (P + S) x base_input + O x base_output
       tuned =  P      x ft_input   + O x ft_output
       daily saving = R x (base - tuned) - 24 x hosting_per_hour
       break-even   = training cost / daily saving   (never, if the saving is <= 0)

   with P the prompt tokens that remain, S the tokens saved, O the output tokens and R the
   requests per day. The extra tokens a RAG prompt adds (retrieved passages) are priced the
   same way so both options are on one scale.

All token and money figures are estimates (tiktoken counts, list prices with a date).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from toolkit.diagnostics import Diagnostic

# Defaults; every one is overridable in [tool.ftkit.report] and from the CLI.
DEFAULTS: dict[str, Any] = {
    "knowledge_share_rag": 0.5,  # at least this share teaching facts, and little behavior left: RAG
    "knowledge_share_both": 0.15,  # at least this share teaching facts: route them to RAG, tune the rest
    "consistency_min": 0.8,  # below this, fix the data before training
    "break_even_max_days": 365,  # fine-tuning that pays back later than this is not a cost win
    "min_examples": 50,  # fewer examples than this rarely teach a behavior reliably
    "rag_passages": 3,
    "rag_passage_tokens": 256,  # assumed passage size when no --kb is given
    "top_facts": 10,
}

_PRUNE_AT = 200_000  # distinct facts kept before the singletons are pruned (bounded memory)


# --------------------------------------------------------------------------- knowledge


@dataclass
class KnowledgeSummary:
    """How many examples teach knowledge vs behavior, and the facts taught most often."""

    available: bool
    reason: str = ""
    analysed: int = 0
    knowledge: int = 0
    behavior: int = 0
    mean_score: float = 0.0
    top_facts: list[dict[str, Any]] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.knowledge / self.analysed if self.analysed else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "reason": self.reason,
            "analysed": self.analysed,
            "knowledge": self.knowledge,
            "behavior": self.behavior,
            "knowledge_share": round(self.share, 4),
            "mean_score": round(self.mean_score, 4),
            "spans_by_kind": dict(sorted(self.by_kind.items())),
            "top_facts": self.top_facts,
        }


@dataclass
class _KnowledgeTally:
    """What one chunk of examples contributes to the knowledge summary (mergeable)."""

    analysed: int = 0
    knowledge: int = 0
    score_sum: float = 0.0
    facts: Counter = field(default_factory=Counter)  # (kind, value) -> mentions
    examples_per_fact: Counter = field(default_factory=Counter)  # (kind, value) -> examples
    by_kind: Counter = field(default_factory=Counter)

    def merge(self, other: "_KnowledgeTally") -> None:
        self.analysed += other.analysed
        self.knowledge += other.knowledge
        self.score_sum += other.score_sum
        self.facts.update(other.facts)
        self.examples_per_fact.update(other.examples_per_fact)
        self.by_kind.update(other.by_kind)
        if len(self.facts) > _PRUNE_AT:
            # Bounded memory: facts seen in one example so far cannot be "most repeated" yet.
            for key in [k for k, v in self.examples_per_fact.items() if v <= 1]:
                del self.examples_per_fact[key]
                self.facts.pop(key, None)


def _tally_chunk(records: list[Mapping[str, Any]], options: Mapping[str, Any]) -> _KnowledgeTally:
    """Analyse one chunk of records (runs in a worker process for large inputs)."""
    from toolkit.knowledge import ROUTING_OPTIONS, analyze
    from toolkit.report.columns import route_of

    tally = _KnowledgeTally()
    for record in records:
        result = analyze(record, options.get("options") or ROUTING_OPTIONS)
        tally.analysed += 1
        tally.score_sum += float(result.score)
        if route_of(result) == "knowledge":
            tally.knowledge += 1
        seen: set[tuple[str, str]] = set()
        for span in getattr(result, "spans", []) or []:
            if getattr(span, "grounded", None):
                continue  # the context already holds it: not taught
            kind = str(getattr(span, "kind", None) or getattr(span, "label", None) or "fact")
            value = str(getattr(span, "value", None) or getattr(span, "text", ""))
            if not value:
                continue
            key = (kind, value)
            tally.facts[key] += 1
            tally.by_kind[kind] += 1
            if key not in seen:
                tally.examples_per_fact[key] += 1
                seen.add(key)
    return tally


def _chunks(records: Iterable[Mapping[str, Any]], size: int) -> Iterable[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


CHUNK = 256


def summarize_knowledge(
    records: Iterable[Mapping[str, Any]],
    *,
    top: int = DEFAULTS["top_facts"],
    jobs: int | None = 1,
    **analyze_options: Any,
) -> KnowledgeSummary:
    """Run :func:`toolkit.knowledge.analyze` over a stream of records and summarise it.

    ``jobs`` > 1 (``None``: one per CPU) analyses chunks in worker processes, with at most
    two chunks per worker in flight so memory stays bounded; results merge in order, so
    the summary is the same for any ``jobs``.
    """
    try:
        from toolkit.knowledge import analyze  # noqa: F401 - availability check
    except ImportError as exc:
        return KnowledgeSummary(available=False, reason=f"toolkit.knowledge.analyze is not available ({exc})")
    import os
    from collections import deque

    workers = max(1, (os.cpu_count() or 1) if jobs is None else jobs)
    total = _KnowledgeTally()
    chunks = _chunks(records, CHUNK)
    if workers == 1:
        for chunk in chunks:
            total.merge(_tally_chunk(chunk, analyze_options))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        first = next(chunks, None)
        second = next(chunks, None) if first is not None else None
        if second is None:  # one chunk: not worth a pool
            if first is not None:
                total.merge(_tally_chunk(first, analyze_options))
        else:
            context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                pending: deque = deque()
                for chunk in (c for cs in ((first, second), chunks) for c in cs):
                    pending.append(pool.submit(_tally_chunk, chunk, analyze_options))
                    while len(pending) >= 2 * workers:
                        total.merge(pending.popleft().result())
                while pending:
                    total.merge(pending.popleft().result())

    summary = KnowledgeSummary(
        available=True,
        analysed=total.analysed,
        knowledge=total.knowledge,
        behavior=total.analysed - total.knowledge,
        mean_score=total.score_sum / total.analysed if total.analysed else 0.0,
        by_kind=dict(total.by_kind),
    )
    ranked = sorted(total.examples_per_fact.items(), key=lambda item: (-item[1], item[0]))
    summary.top_facts = [
        {"kind": kind, "value": value, "examples": count, "mentions": total.facts[(kind, value)]}
        for (kind, value), count in ranked[:top]
        if count > 1
    ]
    return summary


# --------------------------------------------------------------------------- consistency


@dataclass
class LintSummary:
    """Lint findings by rule and severity, and the behavior-consistency figure from V/Q rules."""

    available: bool
    reason: str = ""
    examples: int = 0
    by_code: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> {name, error, warning, info}
    examples_with_vq: int = 0

    @property
    def consistency(self) -> float | None:
        if not self.available or not self.examples:
            return None
        return 1.0 - self.examples_with_vq / self.examples

    def to_dict(self) -> dict[str, Any]:
        consistency = self.consistency
        return {
            "available": self.available,
            "reason": self.reason,
            "examples": self.examples,
            "examples_with_voice_or_quality_findings": self.examples_with_vq,
            "behavior_consistency": None if consistency is None else round(consistency, 4),
            "by_code": dict(sorted(self.by_code.items(), key=lambda item: _code_key(item[0]))),
        }


def _code_key(code: str) -> tuple[str, int]:
    family = code.rstrip("0123456789")
    digits = code[len(family):]
    return family, int(digits) if digits.isdigit() else 0


def summarize_lint(diagnostics: Iterable[Diagnostic], n_examples: int) -> LintSummary:
    """Count diagnostics by code and severity; examples with any V or Q finding are inconsistent."""
    summary = LintSummary(available=True, examples=n_examples)
    vq: set[tuple[str | None, int | None]] = set()
    for diagnostic in diagnostics:
        entry = summary.by_code.setdefault(diagnostic.code, {"name": diagnostic.name, "error": 0, "warning": 0, "info": 0})
        entry[diagnostic.severity.value] += 1
        if diagnostic.code[:1] in ("V", "Q"):
            vq.add((diagnostic.file, diagnostic.line))
    summary.examples_with_vq = min(len(vq), n_examples)
    return summary


def lint_files(files: list[str], n_examples: int, *, config_path: str | None = None, jobs: int | None = None) -> LintSummary:
    """Lint files with the project's configuration (default rules) and summarise the findings."""
    try:
        from toolkit.linter import lint_files as run_lint
    except ImportError as exc:
        return LintSummary(available=False, reason=f"toolkit.linter is not available ({exc})")
    try:
        # The project's configuration is discovered from the cwd, as `ftkit lint` does.
        diagnostics = run_lint(files, config=config_path, jobs=jobs)
    except Exception as exc:  # noqa: BLE001 - the report still renders; the reason is shown
        return LintSummary(available=False, reason=f"lint failed: {exc}")
    return summarize_lint(diagnostics, n_examples)


# --------------------------------------------------------------------------- economics


@dataclass
class Economics:
    """Per-request and per-day money of a fine-tuned model vs the base model with long prompts."""

    provider: str
    model: str
    training_cost: float
    prompt_tokens: float  # P: prompt tokens per request that remain after fine-tuning
    output_tokens: float  # O
    prompt_tokens_saved: float  # S
    requests_per_day: float  # R
    base_per_request: float | None
    tuned_per_request: float | None
    hosting_per_day: float
    daily_saving: float | None
    break_even_days: float | None  # None = never (or prices unknown)
    rag_tokens: float
    rag_tokens_source: str
    rag_per_day_base: float | None
    rag_per_day_tuned: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def r(value: float | None, digits: int = 6) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "provider": self.provider,
            "model": self.model,
            "estimate": True,
            "training_cost_usd": r(self.training_cost, 4),
            "prompt_tokens_per_request": r(self.prompt_tokens, 2),
            "output_tokens_per_request": r(self.output_tokens, 2),
            "prompt_tokens_saved": r(self.prompt_tokens_saved, 2),
            "requests_per_day": r(self.requests_per_day, 2),
            "base_cost_per_request_usd": r(self.base_per_request, 8),
            "tuned_cost_per_request_usd": r(self.tuned_per_request, 8),
            "hosting_per_day_usd": r(self.hosting_per_day, 4),
            "daily_saving_usd": r(self.daily_saving, 4),
            "break_even_days": r(self.break_even_days, 4),
            "rag_tokens_per_request": r(self.rag_tokens, 2),
            "rag_tokens_source": self.rag_tokens_source,
            "rag_cost_per_day_base_usd": r(self.rag_per_day_base, 4),
            "rag_cost_per_day_tuned_usd": r(self.rag_per_day_tuned, 4),
            "notes": self.notes,
        }


def economics(
    line: Any,  # cost.CostLine
    *,
    prompt_tokens: float,
    output_tokens: float,
    prompt_tokens_saved: float,
    requests_per_day: float,
    rag_tokens: float,
    rag_tokens_source: str,
) -> Economics:
    """Apply the break-even formula in the module docstring to one provider/model cost line."""
    M = 1_000_000
    notes: list[str] = []
    P, O, S, R = prompt_tokens, output_tokens, prompt_tokens_saved, requests_per_day
    have_prices = None not in (line.base_input_price, line.base_output_price, line.input_price, line.output_price)
    hosting_day = 24 * line.hosting_per_hour
    base = tuned = saving = breakeven = rag_base = rag_tuned = None
    if have_prices:
        base = ((P + S) * line.base_input_price + O * line.base_output_price) / M
        tuned = (P * line.input_price + O * line.output_price) / M
        saving = R * (base - tuned) - hosting_day
        if saving > 0:
            breakeven = line.training_cost / saving
        rag_base = R * rag_tokens * line.base_input_price / M
        rag_tuned = R * rag_tokens * line.input_price / M
        if line.input_price > line.base_input_price:
            notes.append(
                f"a fine-tuned {line.model} costs ${line.input_price:g}/1M input tokens vs ${line.base_input_price:g} for the base model"
            )
    else:
        notes.append(f"no inference prices for {line.provider}/{line.model} in the price table")
    if hosting_day:
        notes.append(f"hosting a fine-tuned deployment costs ${hosting_day:,.2f}/day whether used or not")
    if line.storage_per_month:
        notes.append(f"storage ${line.storage_per_month:g}/month per fine-tuned model (not in the daily figures)")
    return Economics(
        provider=line.provider,
        model=line.model,
        training_cost=line.training_cost,
        prompt_tokens=P,
        output_tokens=O,
        prompt_tokens_saved=S,
        requests_per_day=R,
        base_per_request=base,
        tuned_per_request=tuned,
        hosting_per_day=hosting_day,
        daily_saving=saving,
        break_even_days=breakeven,
        rag_tokens=rag_tokens,
        rag_tokens_source=rag_tokens_source,
        rag_per_day_base=rag_base,
        rag_per_day_tuned=rag_tuned,
        notes=notes,
    )


def kb_passage_tokens(kb: str | Path, encoding: Any, *, target: int = DEFAULTS["rag_passage_tokens"]) -> tuple[float, int]:
    """Mean tokens of a KB passage and how many passages: the KB's documents cut into ~``target``-token chunks.

    ``kb`` is a folder of Markdown / text / HTML files, or a JSONL file of documents
    (``text``, ``content``, ``body``, ``answer`` or ``document`` field). Paragraphs are
    packed into passages of up to ``target`` tokens, as a typical RAG chunker does.
    """
    import html
    import re

    from toolkit.io.jsonl import read_jsonl

    path = Path(kb)
    texts: list[str] = []
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.suffix.lower() in (".md", ".markdown", ".txt", ".html", ".htm", ".rst")):
            text = file.read_text(encoding="utf-8", errors="replace")
            if file.suffix.lower() in (".html", ".htm"):
                text = html.unescape(re.sub(r"<[^>]+>", " ", text))
            texts.append(text)
    elif path.is_file() and path.suffix.lower() == ".json":
        import json

        data = json.loads(path.read_text(encoding="utf-8"))
        texts.extend(_json_texts(data))
    elif path.is_file():
        for item in read_jsonl(path):
            if item.ok:
                for key in ("text", "content", "body", "answer", "document"):
                    if isinstance(item.value.get(key), str):
                        texts.append(item.value[key])
                        break
    else:
        raise FileNotFoundError(f"{kb}: no such knowledge base file or folder")
    sizes: list[int] = []
    for text in texts:
        current = 0
        for paragraph in re.split(r"\n\s*\n", text):
            n = len(encoding.encode_ordinary(paragraph.strip())) if paragraph.strip() else 0
            if not n:
                continue
            if current and current + n > target:
                sizes.append(current)
                current = 0
            current += n
        if current:
            sizes.append(current)
    if not sizes:
        raise ValueError(f"{kb}: no text found in the knowledge base")
    return sum(sizes) / len(sizes), len(sizes)


def _json_texts(data: Any) -> list[str]:
    """All string leaves of a JSON document longer than a few words (e.g. ABCD guidelines.json)."""
    out: list[str] = []
    if isinstance(data, str):
        if len(data.split()) >= 4:
            out.append(data)
    elif isinstance(data, list):
        for item in data:
            out.extend(_json_texts(item))
    elif isinstance(data, dict):
        for value in data.values():
            out.extend(_json_texts(value))
    return out


# --------------------------------------------------------------------------- decision


@dataclass
class Verdict:
    recommendation: str  # "rag" | "fine-tune" | "both" ("none" only when there are no examples)
    headline: str
    reasons: list[str]
    cautions: list[str]
    knowledge: KnowledgeSummary
    lint: LintSummary
    economics: Economics | None
    thresholds: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "headline": self.headline,
            "reasons": self.reasons,
            "cautions": self.cautions,
            "knowledge": self.knowledge.to_dict(),
            "lint": self.lint.to_dict(),
            "economics": None if self.economics is None else self.economics.to_dict(),
            "thresholds": self.thresholds,
            "estimate": True,
        }


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"


def _days(days: float) -> str:
    if days < 1:
        hours = days * 24
        return f"{hours:,.1f} hours" if hours >= 0.1 else "minutes"
    return f"{days:,.1f} days"


def _usd(x: float) -> str:
    return f"${x:,.2f}" if abs(x) >= 0.01 or x == 0 else f"${x:.4f}"


def decide(
    *,
    n_examples: int,
    knowledge: KnowledgeSummary,
    lint: LintSummary,
    econ: Economics | None,
    thresholds: Mapping[str, Any] | None = None,
) -> Verdict:
    """The recommendation and its reasons, each stated with the numbers that drove it."""
    t = {**DEFAULTS, **(thresholds or {})}
    reasons: list[str] = []
    cautions: list[str] = []
    if n_examples == 0:
        # Nothing to weigh: say so rather than recommend anything.
        return Verdict(recommendation="none", headline="No verdict: the input holds no usable examples",
                       reasons=[], cautions=["every line was unusable or the files were empty; see the problems listed by `ftkit stats`"],
                       knowledge=knowledge, lint=lint, economics=econ, thresholds={k: t[k] for k in sorted(t)})

    share = knowledge.share if knowledge.available else None
    if share is not None:
        fact = ""
        if knowledge.top_facts:
            top = knowledge.top_facts[0]
            fact = f"; the most repeated fact, {top['value']!r} ({top['kind']}), is taught in {top['examples']} examples"
        reasons.append(
            f"{knowledge.knowledge} of {knowledge.analysed} examples ({_pct(share)}) teach facts rather than behavior{fact}"
        )
    else:
        cautions.append(f"knowledge share unknown: {knowledge.reason}")

    consistency = lint.consistency
    if consistency is not None:
        reasons.append(
            f"behavior consistency {_pct(consistency)}: {lint.examples_with_vq} of {lint.examples} examples have voice/format or quality findings"
        )
        if consistency < t["consistency_min"]:
            cautions.append(
                f"consistency {_pct(consistency)} is below {_pct(t['consistency_min'])}: fix the V/Q findings first, or the model learns the inconsistency"
            )
    elif lint.reason:
        cautions.append(f"behavior consistency unknown: {lint.reason}")

    pays_back = None
    if econ is not None and econ.daily_saving is not None:
        if econ.break_even_days is not None:
            pays_back = econ.break_even_days <= t["break_even_max_days"]
            reasons.append(
                f"dropping {econ.prompt_tokens_saved:,.0f} prompt tokens per request at {econ.requests_per_day:,.0f} requests/day "
                f"saves {_usd(econ.daily_saving)}/day on {econ.model}; the {_usd(econ.training_cost)} training run pays back in "
                f"{_days(econ.break_even_days)}"
            )
        else:
            pays_back = False
            reasons.append(
                f"on {econ.model} a fine-tuned request costs {_usd(econ.tuned_per_request or 0)} vs {_usd(econ.base_per_request or 0)} "
                f"for the base model with {econ.prompt_tokens_saved:,.0f} more prompt tokens"
                + (f" plus {_usd(econ.hosting_per_day)}/day hosting" if econ.hosting_per_day else "")
                + ": fine-tuning never pays back on cost alone"
            )
        if econ.rag_per_day_base is not None and econ.rag_tokens:
            reasons.append(
                f"RAG adds ~{econ.rag_tokens:,.0f} tokens per request ({econ.rag_tokens_source}): "
                f"{_usd(econ.rag_per_day_base)}/day at {econ.requests_per_day:,.0f} requests/day on the base model"
            )
    if n_examples < t["min_examples"]:
        cautions.append(f"only {n_examples} examples: fewer than {t['min_examples']} rarely teach a behavior reliably")

    # The decision.
    if share is not None and share >= t["knowledge_share_both"]:
        behavior_share = 1.0 - share
        if share >= t["knowledge_share_rag"] and behavior_share < t["knowledge_share_both"]:
            recommendation = "rag"
            headline = (
                f"RAG: {_pct(share)} of the examples teach facts and only {_pct(behavior_share)} teach behavior; "
                "put the facts in a retrieval index where they can be updated, not in the weights"
            )
        else:
            recommendation = "both"
            headline = (
                f"Both: route the {knowledge.knowledge} fact-teaching examples ({_pct(share)}) to a RAG index "
                f"(`ftkit route`) and fine-tune on the {knowledge.behavior} behavior examples"
            )
    elif share is None and pays_back is False:
        recommendation = "rag"
        headline = "RAG / prompting: fine-tuning does not pay back on cost and the knowledge share is unknown"
    else:
        recommendation = "fine-tune"
        if share is not None:
            headline = f"Fine-tune: {_pct(1 - share)} of the examples teach behavior"
        else:
            headline = "Fine-tune, provided the examples teach behavior (their knowledge share could not be measured)"
        if pays_back:
            headline += f", and the run pays back in {_days(econ.break_even_days)}"  # type: ignore[union-attr]
        elif pays_back is False:
            headline += "; the win is consistency and latency, not cost"
    return Verdict(
        recommendation=recommendation,
        headline=headline,
        reasons=reasons,
        cautions=cautions,
        knowledge=knowledge,
        lint=lint,
        economics=econ,
        thresholds={k: t[k] for k in sorted(t)},
    )
