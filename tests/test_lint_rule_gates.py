"""The S/T rules' shortcuts give exactly what the rules report without them.

``findings`` groups the validation problems by code once per example, and the S/T rules share
a gate (``ExampleRule.gate``: "the example has a validation problem") that lets the engine skip
them all at once. Both must change nothing.
"""

from __future__ import annotations

import itertools

import pytest

import toolkit
from toolkit.linter import engine
from toolkit.linter.rule import ExampleContext, load_all_rules
from toolkit.linter.rules import structure, tokens
from toolkit.linter.rules._validation import problems

RECORDS = [record for bad, good, _ in structure.EXAMPLES.values() for record in (bad, good)]
RECORDS += [record for bad, good, _, _ in tokens.EXAMPLES.values() for record in (bad, good)]
RECORDS += [{"messages": "nope"}, {"prompt": "x", "completion": "y"}, {"messages": [1, {"role": "user"}]}]
OPTIONS = [{}, {"target": "together"}, {"target": "bedrock"}, {"target": "mistral"}, {"target": "openai"}]
CODES = sorted(structure.EXAMPLES) + sorted(tokens.EXAMPLES)


@pytest.mark.parametrize("options", OPTIONS)
def test_gate_false_means_no_s_or_t_rule_reports(options):
    registry = load_all_rules()
    for record in RECORDS:
        ctx = ExampleContext(record)
        for code in CODES:
            opts = dict(options, **({"max-tokens": 64} if code == "T001" else {}))
            rule = registry[code](opts)
            fresh = ExampleContext(record)  # the check alone, no cache left by the gate
            found = list(rule.check(fresh))
            expected = [d for d in problems(ExampleContext(record), rule.opts, count=code == "T001") if d.code == code]
            assert [(f.message, f.pointer, f.hint, f.severity) for f in found] == \
                [(d.message, d.pointer, d.hint, d.severity) for d in expected]
            assert rule.gate(ctx) or not found, (code, record)


def test_rules_with_equal_options_share_one_gate():
    registry = load_all_rules()
    gates = {registry[code]({"target": "openai"}).gate for code in sorted(structure.EXAMPLES) + ["T002", "T003"]}
    assert len(gates) == 1
    assert registry["T001"]({"target": "openai"}).gate not in gates
    assert registry["S001"]({"target": "mistral"}).gate not in gates


def _ungated(rules):
    return [(None, [rule]) for rule in rules]


@pytest.mark.parametrize("options", OPTIONS[:3])
def test_engine_with_gates_reports_what_it_reports_without(monkeypatch, options):
    records = [record for record, _ in itertools.product(RECORDS, range(2))]
    gated = [d.to_dict() for d in toolkit.lint(records, target=options.get("target"), select=["S", "T", "Q"])]
    monkeypatch.setattr(engine, "_gated_segments", _ungated)
    plain = [d.to_dict() for d in toolkit.lint(records, target=options.get("target"), select=["S", "T", "Q"])]
    assert gated == plain
    assert any(d["code"].startswith("S") for d in gated)


TRAINABLE_MESSAGES = [
    {"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b", "weight": 0},
    {"role": "assistant", "content": "c", "weight": 0.0}, {"role": "assistant", "content": "d", "weight": 1},
    {"role": "assistant", "content": "e", "weight": None}, {"role": "assistant", "content": "f", "weight": False},
    {"role": "user", "content": "g"}, {"role": "system", "content": "h", "weight": 1}, {"content": "i"},
    {"role": "assistant", "content": None, "tool_calls": []}, "not a message",
]


@pytest.mark.parametrize("start", range(0, len(TRAINABLE_MESSAGES), 3))
def test_trainable_indexes_are_the_trainable_assistant_messages(start):
    from toolkit.linter.rules._textfix import trainable_assistant, trainable_indexes

    messages = TRAINABLE_MESSAGES[start:] + TRAINABLE_MESSAGES[:start]
    ctx = ExampleContext({"messages": messages})
    expected = tuple(index for index, message in enumerate(ctx.messages) if trainable_assistant(message))
    assert trainable_indexes(ctx) == expected
    assert trainable_indexes(ctx) is trainable_indexes(ctx)  # cached
    assert expected  # the cases hold trainable replies


def _json_objects(text):
    """The JSON objects among the lines of ``text`` (other lines are skipped)."""
    import json

    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def _gate_records():
    """Every rule's documented bad and good record, and the planted dataset's records."""
    from pathlib import Path

    out = []
    for cls in load_all_rules().values():
        for text in (cls.bad, cls.good):
            out.extend(_json_objects(text))
    out.append({"messages": [  # PII only in a tool call's arguments
        {"role": "user", "content": "Update my contact details please."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "update_contact", "arguments": '{"email": "jane.doe@gmail.com", "phone": "+1 415 555 0134"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "assistant", "content": "Done, your details are updated."}]})
    planted = Path(__file__).parent / "fixtures" / "lint" / "planted.jsonl"
    out.extend(_json_objects(planted.read_text(encoding="utf-8")))
    return out


def test_every_gate_is_exact_on_the_documented_and_planted_records():
    registry = load_all_rules()
    records = _gate_records()
    gated = 0
    for code, cls in sorted(registry.items()):
        for options in ({}, dict(cls.example_options)):
            try:
                rule = cls(options)
            except (ValueError, TypeError, OSError):
                continue
            if getattr(rule, "gate", None) is None:
                continue
            gated += 1
            for record in records:
                closed = not rule.gate(ExampleContext(record))
                if closed:
                    assert not list(rule.check(ExampleContext(record)) or ()), (code, record)
    assert gated >= 2 * (len(structure.EXAMPLES) + 3 + 8 + 6)  # S, T, P and K001-K006


@pytest.mark.parametrize("config", [None, "planted"])
def test_engine_with_gates_reports_what_it_reports_without_on_the_planted_dataset(monkeypatch, config):
    from pathlib import Path

    folder = Path(__file__).parent / "fixtures" / "lint"
    settings = str(folder / "planted.ftkit.toml") if config else None
    gated = [d.to_dict() for d in toolkit.lint(str(folder / "planted.jsonl"), settings)]
    monkeypatch.setattr(engine, "_gated_segments", _ungated)
    plain = [d.to_dict() for d in toolkit.lint(str(folder / "planted.jsonl"), settings)]
    assert gated == plain
    assert {d["code"][0] for d in gated} >= {"S", "T", "P", "K"}
