"""Bridge from the lint rules of the S and T families to :mod:`toolkit.validation`.

``ftkit lint`` and ``ftkit validate`` run the same checks: every S/T rule asks the target's
:class:`~toolkit.validation.checker.RecordChecker` for the example's problems and keeps the
ones with its own code. The result is cached on the :class:`ExampleContext`, so the record is
validated once per option set, not once per rule.
"""

from __future__ import annotations

from typing import Any, Iterable

from toolkit.diagnostics import Diagnostic
from toolkit.linter.rule import ExampleContext, Finding, RuleOption
from toolkit.validation.checker import RecordChecker
from toolkit.validation.detect import detect_target
from toolkit.validation.targets import TARGET_NAMES, get_target

TARGET_OPTION = RuleOption(
    "target", "str", "auto",
    f"Target format whose rules apply: auto (detect per example) or one of {', '.join(TARGET_NAMES)}. "
    "Filled from the top-level `target` setting when not set here.",
)
MODEL_OPTION = RuleOption("model", "str", "", "Model to train (chooses the tokenizer and the per-example token limit); "
                                               "filled from the top-level `model` setting.")
MAX_TOKENS_OPTION = RuleOption("max-tokens", "int", 0, "Per-example token limit; 0 = the model's documented limit, "
                                                       "else the target's default.")

_CHECKERS: dict[tuple[Any, ...], RecordChecker] = {}


def check_target_option(code: str, value: str) -> None:
    if value != "auto":
        try:
            get_target(value)
        except ValueError as exc:
            raise ValueError(f"{code}: option 'target': {exc}") from None


def _checker(target: str, model: str | None, max_tokens: int | None) -> RecordChecker:
    key = (target, model, max_tokens)
    checker = _CHECKERS.get(key)
    if checker is None:
        # Lint needs no token figures, only whether the limit is exceeded: the checker skips the
        # tokenizer when the text's UTF-8 size already proves the count is under the limit.
        checker = _CHECKERS[key] = RecordChecker(target, model=model, max_tokens=max_tokens, count_tokens=True,
                                                 limit_only=True)
    return checker


def resolve_target(opts: dict[str, Any], record: Any) -> str:
    target = opts.get("target") or "auto"
    if target == "auto":
        return detect_target(record) or "openai"
    return target


def example_target(ctx: ExampleContext, opts: dict[str, Any]) -> str:
    """:func:`resolve_target` for an example, detected once per example (not once per S/T rule)."""
    target = opts.get("target") or "auto"
    if target == "auto":
        detected = ctx.__dict__.get("_ftkit_target")
        if detected is None:
            detected = ctx.__dict__["_ftkit_target"] = detect_target(ctx.record) or "openai"
        return detected
    return target


def problems(ctx: ExampleContext, opts: dict[str, Any], *, count: bool = False) -> list[Diagnostic]:
    """All validation problems of the example for these options (cached on the context).

    The structural checks run once per example and option set; ``count=True`` (T001) adds the
    token check on the same parse.
    """
    target = example_target(ctx, opts)
    model = opts.get("model") or None
    max_tokens = opts.get("max-tokens") or None
    key = (target, model, max_tokens)
    cache = ctx.__dict__.setdefault("_ftkit_validation", {})
    entry = cache.get(key)
    if entry is None:
        record = ctx.record
        found, parsed = _checker(target, model, max_tokens).check_structure(
            record if type(record) is dict else dict(record), ctx.file, ctx.line)
        entry = cache[key] = [found, parsed, None]
    if not count:
        return entry[0]
    if entry[2] is None:
        tokens = _checker(target, model, max_tokens).check_tokens(entry[1], ctx.file, ctx.line)[0] if entry[1] else []
        entry[2] = entry[0] + tokens if tokens else entry[0]
    return entry[2]


def rule_key(opts: dict[str, Any], count: bool = False) -> tuple[Any, ...]:
    """What decides an S/T rule's validation result besides the example (rules compute it once)."""
    return (opts.get("target") or "auto", opts.get("model") or None, opts.get("max-tokens") or None, count)


def _by_code(ctx: ExampleContext, opts: dict[str, Any], count: bool, key: tuple[Any, ...]) -> dict[str, list[Diagnostic]]:
    """The example's validation problems grouped by code (cached per :func:`rule_key`; empty when none)."""
    by_rule = ctx.__dict__.get("_ftkit_validation_by_rule")
    if by_rule is None:
        by_rule = ctx.__dict__["_ftkit_validation_by_rule"] = {}
    grouped = by_rule.get(key)
    if grouped is None:
        grouped = {}
        for diagnostic in problems(ctx, opts, count=count):
            grouped.setdefault(diagnostic.code, []).append(diagnostic)
        by_rule[key] = grouped
    return grouped


def findings(code: str, ctx: ExampleContext, opts: dict[str, Any], *, count: bool = False,
             key: tuple[Any, ...] | None = None) -> Iterable[Finding]:
    """The example's validation problems with this code, as findings.

    ``key`` is :func:`rule_key` of ``opts`` and ``count``: with it, the 20-odd S/T rules find
    the example's problems with one look-up each (the problems are grouped by code once).
    """
    if key is None:
        key = rule_key(opts, count)
    found = _by_code(ctx, opts, count, key).get(code)
    if not found:
        return ()
    return [Finding(message=d.message, pointer=d.pointer, hint=d.hint, spans=list(d.spans), severity=d.severity)
            for d in found]


class _Gate:
    """``gate(ctx)``: whether the example has any validation problem for one option set.

    When it has none (the common case) no S/T rule with these options can report, so the
    engine skips them all after this one call (see ``ExampleRule.gate``).
    """

    __slots__ = ("opts", "count", "key")

    def __init__(self, opts: dict[str, Any], count: bool, key: tuple[Any, ...]) -> None:
        self.opts, self.count, self.key = opts, count, key

    def __call__(self, ctx: ExampleContext) -> bool:
        return bool(_by_code(ctx, self.opts, self.count, self.key))


_GATES: dict[tuple[Any, ...], _Gate] = {}


def validation_gate(opts: dict[str, Any], count: bool = False) -> _Gate:
    """The gate shared by every S/T rule whose validation result is :func:`rule_key` ``(opts, count)``.

    Rules with equal keys get the same object, so the engine tests it once for all of them.
    ``opts`` only has to give that key (the first rule's options are kept).
    """
    key = rule_key(opts, count)
    gate = _GATES.get(key)
    if gate is None:
        gate = _GATES[key] = _Gate({"target": key[0], "model": key[1], "max-tokens": key[2]}, count, key)
    return gate
