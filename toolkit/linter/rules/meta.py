"""X: ftkit meta rules - problems with the linter's own suppressions and baseline.

X001 and X002 are produced by the engine itself once the whole run is known (a baseline
entry nothing matched; an in-record ignore nothing used); their classes carry the
documentation and the configured severity. X003 checks the shape of ``metadata.ftkit``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from toolkit.diagnostics import Severity, pointer
from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRule, Finding, register

#: Codes the engine emits itself; it never calls their rule objects.
ENGINE_CODES = frozenset({"X001", "X002"})


@register
class StaleBaselineEntry(DatasetRule):
    code = "X001"
    name = "stale-baseline-entry"
    summary = "A baseline entry matches no current problem: the problem was fixed or the example removed."
    why = (
        "A baseline lets an existing dataset adopt the linter while only new problems fail. Entries that "
        "no longer match anything hide nothing today, but they would silently absorb the same problem if it "
        "came back in that example. Re-write the baseline (`ftkit lint --write-baseline`) to shrink it."
    )
    bad = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], '
        '"metadata": {"id": "ex-1"}}'
    )
    good = bad
    default_severity = Severity.WARNING
    # The bad example needs a baseline file beside it (one that lists a problem for "id:ex-1"),
    # so the docs test exercises this rule through the baseline tests instead.
    needs_baseline = True

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:  # pragma: no cover - engine-produced
        return ()


@register
class UnusedSuppression(DatasetRule):
    code = "X002"
    name = "unused-suppression"
    summary = "`metadata.ftkit.ignore` names a rule that reports nothing on this example."
    why = (
        "A suppression that suppresses nothing is noise, and it will silently hide the problem if it "
        "appears later in an edited example. Remove codes from the ignore list once the example is clean."
    )
    bad = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], '
        '"metadata": {"ftkit": {"ignore": ["X003"], "reason": "left over"}}}'
    )
    good = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], '
        '"metadata": {}}'
    )
    default_severity = Severity.WARNING

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:  # pragma: no cover - engine-produced
        return ()


@register
class InvalidSuppression(ExampleRule):
    code = "X003"
    name = "invalid-suppression"
    summary = "`metadata.ftkit` is malformed or its ignore list names an unknown rule."
    why = (
        "A suppression the linter cannot read suppresses nothing: the example keeps failing, or worse, the "
        "author believes a problem was reviewed when it was not. `ignore` must be a list of rule codes, "
        "names or family prefixes; `reason` a string."
    )
    bad = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], '
        '"metadata": {"ftkit": {"ignore": "pii everywhere"}}}'
    )
    good = (
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], '
        '"metadata": {"ftkit": {"ignore": ["X002"], "reason": "reviewed: shows the ignore syntax"}}}'
    )
    default_severity = Severity.ERROR

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        # Most examples carry no suppression block: settled without a generator (and without the
        # Mapping ABC test for the usual plain dict or missing metadata).
        meta = ctx.record.get("metadata")
        if meta is None or (type(meta) is dict and "ftkit" not in meta):
            return ()
        if not isinstance(meta, Mapping) or "ftkit" not in meta:
            return ()
        return self._check(meta)

    def _check(self, meta: Mapping[str, Any]) -> Iterable[Finding]:
        block = meta["ftkit"]
        if not isinstance(block, Mapping):
            yield Finding("`metadata.ftkit` must be an object like {\"ignore\": [\"P001\"], \"reason\": \"...\"}",
                          pointer=pointer("metadata", "ftkit"))
            return
        from toolkit.linter.suppression import SUPPRESSION_KEYS, parse_selector

        for key in block:
            if key not in SUPPRESSION_KEYS:
                yield Finding(f"`metadata.ftkit` has unknown key {key!r} (known: {', '.join(SUPPRESSION_KEYS)})",
                              pointer=pointer("metadata", "ftkit", key))
        ignore = block.get("ignore")
        if ignore is not None:
            if not isinstance(ignore, list):
                yield Finding("`metadata.ftkit.ignore` must be a list of rule codes or names",
                              pointer=pointer("metadata", "ftkit", "ignore"))
            else:
                for index, item in enumerate(ignore):
                    if not isinstance(item, str) or not parse_selector(item):
                        yield Finding(f"`metadata.ftkit.ignore` names an unknown rule {item!r}",
                                      pointer=pointer("metadata", "ftkit", "ignore", index),
                                      hint="use a rule code (P001), a name (pii-email) or a family prefix (P)")
        reason = block.get("reason")
        if reason is not None and not isinstance(reason, str):
            yield Finding("`metadata.ftkit.reason` must be a string", pointer=pointer("metadata", "ftkit", "reason"))
