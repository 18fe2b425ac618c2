"""S: schema and structure - the checks of ``ftkit validate``, as lint rules.

Each rule reports one S code of :mod:`toolkit.validation` for the configured target
(``target`` option, or the top-level ``target`` setting; ``auto`` detects the format per
example). Severity follows what the provider documents (an error where the provider rejects
the data, a warning where ftkit only recommends), unless configured otherwise.

Not wrapped here: S023 (more examples than the provider accepts), S024 (file size) and S025
(Azure BOM) need the whole file's bytes or millions of lines; ``ftkit validate`` reports them.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Iterable, Mapping


from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRef, ExampleRule, Finding, register
from toolkit.linter.rules._validation import MODEL_OPTION, TARGET_OPTION, check_target_option, example_target, findings, rule_key, validation_gate
from toolkit.validation.codes import CHECKS
from toolkit.validation.targets import get_target


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


U = {"role": "user", "content": "Where is my order?"}
A = {"role": "assistant", "content": "Let me check that for you."}
S = {"role": "system", "content": "Be brief."}
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {
    "type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def _call(cid: str = "call_1", name: str = "lookup_order", args: str = '{"order_id": "A1"}') -> dict:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def _answer(cid: str = "call_1") -> dict:
    return {"role": "tool", "tool_call_id": cid, "content": '{"status": "shipped"}'}


GOOD_TOOLS = {"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call()]}, _answer(), A], "tools": TOOLS}

# code -> (bad record, good record, example options)
EXAMPLES: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "S001": ({"messages": [U, {"role": "assistant", "content": 42}]}, {"messages": [U, A]}, {}),
    "S002": ({"messages": [{"role": "customer", "content": "Where is my order?"}, A]}, {"messages": [U, A]}, {}),
    "S003": ({"messages": []}, {"messages": [U, A]}, {}),
    "S004": ({"messages": [U, S, A]}, {"messages": [S, U, A]}, {}),
    "S005": ({"messages": [U, U, A]}, {"messages": [U, A]}, {"target": "together"}),
    "S006": ({"messages": [U, A, U]}, {"messages": [U, A]}, {}),
    "S007": ({"messages": [U, {"role": "assistant", "content": " "}]}, {"messages": [U, A]}, {}),
    "S008": ({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call()]}, A], "tools": TOOLS}, GOOD_TOOLS, {}),
    "S009": ({"messages": [U, _answer("call_9"), A]}, {"messages": [U, A]}, {}),
    "S010": ({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call(), _call()]}, _answer(), A], "tools": TOOLS},
             GOOD_TOOLS, {}),
    "S011": ({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call(args="{order_id: A1}")]}, _answer(), A],
              "tools": TOOLS}, GOOD_TOOLS, {}),
    "S012": ({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call(args='{"order_id": 17}')]}, _answer(), A],
              "tools": TOOLS}, GOOD_TOOLS, {}),
    "S013": ({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_call(name="refund_order")]}, _answer(), A],
              "tools": TOOLS}, GOOD_TOOLS, {}),
    "S014": ({"messages": [U, A], "tools": [{"type": "function", "function": {"name": "look up order"}}]},
             {"messages": [U, A], "tools": [{"type": "function", "function": {"name": "lookup_order"}}]}, {}),
    "S015": ({"messages": [U, A], "tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "obj"}}}]},
             {"messages": [U, A], "tools": TOOLS}, {}),
    "S016": ({"messages": [U, {**A, "weight": 0.5}]}, {"messages": [U, {**A, "weight": 1}]}, {}),
    "S017": ({"messages": [{**U, "weight": 1}, A]}, {"messages": [U, {**A, "weight": 1}]}, {}),
    "S018": ({"system": "Be brief.", "messages": [U, {**A, "weight": 0}]}, {"system": "Be brief.", "messages": [U, A]}, {"target": "bedrock"}),
    "S019": ({"messages": [U, {"role": "assistant", "tool_calls": [_call("call_abc123")]}, _answer("call_abc123"), A], "tools": TOOLS},
             {"messages": [U, {"role": "assistant", "tool_calls": [_call("abc123XYZ")]}, _answer("abc123XYZ"), A], "tools": TOOLS},
             {"target": "mistral"}),
    "S020": ({"input": {"messages": [U]}, "preferred_output": [A, A], "non_preferred_output": [{"role": "assistant", "content": "No."}]},
             {"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [{"role": "assistant", "content": "No."}]}, {}),
    "S021": ({"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [A]},
             {"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [{"role": "assistant", "content": "No."}]}, {}),
}


class _StructureRule(ExampleRule):
    """Reports one S code of ``ftkit validate`` for the configured target."""

    options = (TARGET_OPTION, MODEL_OPTION)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_target_option(self.code, self.opts["target"])
        self._key = rule_key(self.opts, False)
        self.gate = validation_gate(self.opts, False)  # no validation problem: no S rule reports

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        return findings(self.code, ctx, self.opts, key=self._key)


def _make(code: str) -> type:
    doc = CHECKS[code]
    bad, good, example_options = EXAMPLES[code]
    cls = type(f"Rule{code}", (_StructureRule,), {
        "__doc__": doc.summary, "__module__": __name__, "code": code, "name": doc.name, "summary": doc.summary,
        "why": f"{doc.why} Fix: {doc.hint}.", "bad": _line(bad), "good": _line(good), "default_severity": doc.severity,
        "example_options": example_options,
    })
    return register(cls)


for _code in EXAMPLES:
    globals()[f"Rule{_code}"] = _make(_code)


@register
class TooFewExamples(DatasetRule):
    """S022 per file: fewer examples than the target's minimum."""

    code = "S022"
    name = CHECKS["S022"].name
    summary = CHECKS["S022"].summary
    why = CHECKS["S022"].why
    bad = _line({"messages": [U, A]})
    good = "\n".join(_line({"messages": [U, {"role": "assistant", "content": f"Let me check order {n} for you."}]}) for n in range(10))
    default_severity = CHECKS["S022"].severity
    options = (TARGET_OPTION,)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        check_target_option(self.code, self.opts["target"])
        self._files: OrderedDict[str, list[Any]] = OrderedDict()  # file -> [count, target, first ref]

    def prepare(self, ctx: ExampleContext) -> str:
        """The example's target (detected per example with ``target = "auto"``)."""
        return example_target(ctx, self.opts)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        entry = self._files.get(ctx.file)
        if entry is None:
            self._files[ctx.file] = [1, self.prepared(ctx), ctx.ref]
        else:
            entry[0] += 1
        return ()

    def finish(self) -> Iterable[Finding]:
        for file, (count, target, first) in self._files.items():
            minimum = get_target(target).min_examples
            if count < minimum:
                where = ExampleRef(file=file, line=first.line, fingerprint=f"file:{file}", index=first.index)
                yield Finding(message=f"{count} example(s) in {file}; {target} needs at least {minimum}",
                              hint=CHECKS["S022"].hint, at=where)
