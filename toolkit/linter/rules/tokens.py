"""T: tokens and length - ``ftkit validate``'s token checks as lint rules.

T001 counts tokens (an estimate with the model's tiktoken encoding, o200k_base by default)
and compares them with the per-example limit: ``max-tokens``, else the model's documented
training limit, else the target's default. T002 and T003 need no counting.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping


from toolkit.linter.rule import ExampleContext, ExampleRule, Finding, register
from toolkit.linter.rules._validation import MAX_TOKENS_OPTION, MODEL_OPTION, TARGET_OPTION, check_target_option, findings, rule_key, validation_gate
from toolkit.validation.codes import CHECKS

U = {"role": "user", "content": "Where is my order?"}
A = {"role": "assistant", "content": "Let me check that for you."}


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


EXAMPLES: dict[str, tuple[Any, Any, dict[str, Any], tuple]] = {
    "T001": ({"messages": [U, {"role": "assistant", "content": "Let me check that for you. " * 20}]}, {"messages": [U, A]},
             {"max-tokens": 64}, (TARGET_OPTION, MODEL_OPTION, MAX_TOKENS_OPTION)),
    "T002": ({"messages": [U, {**A, "weight": 0}]}, {"messages": [U, {**A, "weight": 1}]}, {}, (TARGET_OPTION,)),
    "T003": ({"messages": [U, {"role": "assistant", "content": "Let me check that for you.<|im_end|>"}]}, {"messages": [U, A]}, {},
             (TARGET_OPTION,)),
}


class _TokenRule(ExampleRule):
    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_target_option(self.code, self.opts["target"])
        self._key = rule_key(self.opts, self.code == "T001")
        self.gate = validation_gate(self.opts, self.code == "T001")  # no validation problem: no T rule reports

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        return findings(self.code, ctx, self.opts, count=self.code == "T001", key=self._key)


def _make(code: str) -> type:
    doc = CHECKS[code]
    bad, good, example_options, options = EXAMPLES[code]
    cls = type(f"Rule{code}", (_TokenRule,), {
        "__doc__": doc.summary, "__module__": __name__, "code": code, "name": doc.name, "summary": doc.summary,
        "why": f"{doc.why} Fix: {doc.hint}.", "bad": _line(bad), "good": _line(good), "default_severity": doc.severity,
        "example_options": example_options, "options": options,
    })
    return register(cls)


for _code in EXAMPLES:
    globals()[f"Rule{_code}"] = _make(_code)
