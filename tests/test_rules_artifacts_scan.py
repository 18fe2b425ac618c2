"""The A rules' shared cue scan: one scan of an example's texts tells each A rule whether it may match.

A wrong scan drops findings silently (the rule is skipped), so these tests build examples
where a rule must fire although another rule's cues, another scope's messages or non-ASCII
text are around, and check the scan against plain substring tests on random examples.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.linter import lint
from toolkit.linter.engine import _gated_segments
from toolkit.linter.rule import ExampleContext, load_all_rules
from toolkit.linter.rules import artifacts
from toolkit.linter.rules.artifacts import PatternRule

A_RULES = [cls() for code, cls in sorted(load_all_rules().items()) if code.startswith("A")]


def example(*messages: tuple[str, str] | dict) -> dict:
    return {"messages": [m if isinstance(m, dict) else {"role": m[0], "content": m[1]} for m in messages]}


def found(record: dict, **options: dict) -> list[tuple[str, str, str, list[tuple[int, int, str]]]]:
    """(code, pointer, message, spans) of the A diagnostics, as the engine reports them."""
    return [
        (d.code, d.pointer, d.message, [(s.start, s.end, s.text) for s in d.spans])
        for d in lint([record], select=["A"], options=options or None)
    ]


def codes(record: dict) -> list[str]:
    return [code for code, *_ in found(record)]


def test_a_cue_outside_the_rules_messages_does_not_make_it_fire_and_its_own_still_do():
    record = example(
        ("system", "You are ChatGPT. As an AI language model you say: I'm sorry, but I can't help with that."),
        ("user", "I am OpenAI's biggest fan; my knowledge cutoff is {{name}}."),
        ("assistant", "Open Orders, then Edit address."),
    )
    assert codes(record) == []
    record["messages"][1]["content"] += " [INST]"  # A001 reads the user's text too
    assert codes(record) == ["A001"]


def test_only_a001_reads_weight_zero_replies():
    context_reply = {"role": "assistant", "content": "As an AI language model, I am ChatGPT.<|im_end|>", "weight": 0}
    record = example(("user", "Hi"), context_reply, ("user", "And now?"), ("assistant", "Open Orders."))
    assert codes(record) == ["A001"]
    record["messages"][3]["content"] = "Open Orders. As an AI language model I know."
    assert found(record)[1][:2] == ("A003", "/messages/3/content")


def test_cues_that_overlap_or_nest_each_count_for_their_rule():
    # "<</sys>>" is an A001 cue holding A002's "</"; "<|begin_of_thought|>" holds A001's "<|"
    # and A002's "_of_thought|": a scan that reported one cue per position would lose a rule.
    assert codes(example(("user", "Hi"), ("assistant", "<</SYS>>Sure.</think>"))) == ["A001", "A002"]
    assert codes(example(("user", "Hi"), ("assistant", "<|begin_of_thought|>hmm<|end_of_thought|>Sure"))) == ["A002"]
    assert codes(example(("user", "Hi"), ("assistant", "<|im_end|><|begin_of_thought|>hmm"))) == ["A001", "A002"]


def test_every_rule_fires_in_one_example_each_in_its_message():
    replies = [
        "Sure.<|im_end|>",
        "<think>check</think>Sure.",
        "As an AI language model, sure.",
        "I am ChatGPT. Sure.",
        "As of my last update, sure.",
        "I'm sorry, but I can't assist with that.",
        "Hi {{first_name}}, sure.",
    ]
    messages = []
    for reply in replies:
        messages += [("user", "Can I change my address?"), ("assistant", reply)]
    diagnostics = found(example(*messages))
    assert [(code, pointer) for code, pointer, *_ in diagnostics] == [
        (f"A00{k + 1}", f"/messages/{2 * k + 1}/content") for k in range(7)
    ]


def test_non_ascii_text_whose_lower_case_is_longer_keeps_the_spans_of_the_original():
    reply = "İİ İstanbul: As an AI language model, I'm sorry, but I can't help with that."
    assert len(reply.lower()) != len(reply)
    diagnostics = found(example(("user", "Hi"), ("assistant", reply)))
    assert [code for code, *_ in diagnostics] == ["A003", "A006"]
    for _code, _pointer, _message, spans in diagnostics:
        for start, end, text in spans:
            assert reply[start:end] == text


def test_a004_on_non_ascii_text_needs_no_vendor_name_cue():
    # IGNORECASE matches the long s "ſ" to "s", lower-casing keeps it: "mistral" never occurs
    # in the lowered text, yet the pattern matches. The ASCII system prompt must not hide it.
    record = example(("system", "Be brief."), ("user", "Who are you?"), ("assistant", "I am Miſtral, how can I help?"))
    assert codes(record) == ["A004"]
    record["messages"][2]["content"] = "I am Mistral, how can I help?"
    assert codes(record) == ["A004"]
    record["messages"][2]["content"] = "I am Ava, how can I help? Our office is in İstanbul."
    assert codes(record) == []


def test_text_with_a_lone_surrogate_is_still_read():
    # JSON may escape half a surrogate pair ("\\udce9"); RE2 cannot take such a text
    ctx = ExampleContext(example(("user", "caf\udce9 [INST]"), ("assistant", "caf\udce9: as an AI language model, <|im_end|>")))
    assert A_RULES[0].gate(ctx)
    reported = [(rule.code, finding.pointer) for rule in A_RULES for finding in rule.check(ctx)]
    assert reported == [("A001", "/messages/0/content"), ("A001", "/messages/1/content"), ("A003", "/messages/1/content")]


def test_a004_options_and_a_rule_alone_on_a_fresh_context():
    record = example(("user", "Who are you?"), ("assistant", "I'm Claude, the assistant of Acme."))
    (rule_class,) = [type(rule) for rule in A_RULES if rule.code == "A004"]
    assert len(list(rule_class().check(ExampleContext(record)))) == 1
    assert list(rule_class({"allowed-names": ["Claude"]}).check(ExampleContext(record))) == []
    assert found(record, A004={"allowed-names": ["claude"]}) == []


def test_rules_defined_after_a_scan_join_the_shared_scan():
    record = example(("user", "zebra crossing"), ("assistant", "Sure, zebra."))
    ctx = ExampleContext(record)
    assert not A_RULES[0].gate(ctx)

    class AssistantZebra(PatternRule):  # a new cue group, in a scope scanned already
        code = "A998"
        name = "assistant-zebra"
        pattern = re.compile("zebra")
        cue = ("zebra",)
        what = "zebra"

    assert AssistantZebra.gate is A_RULES[0].gate and A_RULES[0].gate(ctx)
    assert [f.pointer for f in AssistantZebra().check(ctx)] == ["/messages/1/content"]

    class UserZebra(AssistantZebra):  # the same group, in a new scope
        code = "A999"
        name = "user-zebra"
        roles = ("user",)
        trainable_only = False

    assert [f.pointer for f in UserZebra().check(ctx)] == ["/messages/0/content"]
    assert [list(rule.check(ctx)) for rule in A_RULES] == [[]] * 7


def test_a_group_added_after_a_scan_is_looked_for():
    scan = artifacts._SharedCueScan()
    zebra = scan.add(("zebra",), (("assistant",), True))
    ctx = ExampleContext(example(("assistant", "zebra crossing")))
    assert scan.by_scope(ctx) == {(("assistant",), True): {zebra}}
    crossing = scan.add(("crossing",))  # a group no rule's gate looks for, like A004's vendor names
    assert scan.found("zebra crossing") == {zebra, crossing}
    assert scan.by_scope(ctx) == {(("assistant",), True): {zebra, crossing}}


_FRAGMENTS = st.sampled_from(
    sorted({cue for rule in A_RULES for cue in rule.cue} | set(artifacts._VENDOR_CUES))
    + ["As an AI language model", "I AM CHATGPT", "I'm Claude", "<|IM_END|>", "<think>x</think>", "I can't help with that",
       "{{name}}", "[Your Name]", "knowledge cutoff", "As of my last update", "İ", "Σ", "ſ", "\u212a", "é", "ß", "\0",
       "\udce9", "hello", " ", ".", "\n\n", "Human:", "### Response:"]
)
_TEXTS = st.lists(_FRAGMENTS, max_size=6).map("".join)
_MESSAGES = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]), "content": _TEXTS},
        optional={"weight": st.sampled_from([0, 1])},
    ),
    max_size=5,
)


def _naive_may_match(rule: PatternRule, ctx: ExampleContext) -> bool:
    """The rule's example-level pre-test as plain substring tests over its messages' lower-cased texts."""
    joined = "\0".join(
        text.lower() for message, text in zip(ctx.messages, ctx.texts)
        if text and message["role"] in rule.roles
        and not (rule.trainable_only and message["role"] == "assistant" and message.get("weight", 1) == 0))
    if not any(cue in joined for cue in rule.cue):
        return False
    return rule.code != "A004" or not joined.isascii() or any(cue in joined for cue in artifacts._VENDOR_CUES)


@settings(max_examples=400, deadline=None)
@given(_MESSAGES)
def test_the_shared_scan_answers_as_substring_tests_do_and_the_gate_drops_no_finding(messages):
    record = {"messages": messages}
    ctx = ExampleContext(record)
    by_scope = artifacts._CUE_SCAN.by_scope(ctx)
    for rule in A_RULES:
        assert rule._may_match(by_scope[rule._scope]) == _naive_may_match(rule, ctx), rule.code
    expected = [[(f.pointer, f.message) for f in rule._check(ExampleContext(record))] for rule in A_RULES]
    gated = []
    ctx = ExampleContext(record)
    for gate, group in _gated_segments(A_RULES):
        skip = gate is not None and not gate(ctx)
        gated += [[] if skip else [(f.pointer, f.message) for f in rule.check(ctx)] for rule in group]
    assert gated == expected


_CASED_FRAGMENTS = st.sampled_from(
    sorted({cue for rule in A_RULES for cue in rule.cue} | set(artifacts._VENDOR_CUES))
    + ["<|IM_END|>", "[INST]", "HUMAN:", "As An AI", "OpenAI", "İ", "Σ", "ſ", "\u212a", "é", "ß", "\0", "\x01", "\x7f",
       "\t", "\r\n", "\udce9", "K", "k", "S", "zebra", "ZEBRA", "Ünïcode"]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(_CASED_FRAGMENTS, max_size=8).map("".join), st.text(max_size=40)))
def test_the_scan_of_a_text_without_lower_casing_it_equals_the_scan_of_its_lower_case(text):
    scan = artifacts._CUE_SCAN
    assert scan._found_joined(text) == scan.found(text.lower())
    # odd cue groups: an empty cue (found everywhere), upper-case and non-ASCII cues (never in
    # lower-cased ASCII text), a Kelvin sign and a long s (RE2 folds them onto k and s)
    odd = artifacts._SharedCueScan()
    for cues in [("zebra",), ("",), ("ZEBRA",), ("\u212a",), ("ſ", "é"), ("\0", "\x01k"), ("s",)]:
        odd.add(cues, (("assistant",), True))
    assert odd._found_joined(text) == odd.found(text.lower())


def test_messages_with_unhashable_roles_or_weights_are_scanned_as_their_scope_says():
    messages = [
        {"role": ["assistant"], "content": "<|im_end|> As an AI language model"},
        {"role": "assistant", "content": "As an AI language model, I am ChatGPT <|im_end|>", "weight": [0]},
        {"role": "assistant", "content": "As an AI language model <|im_end|>", "weight": 0},
        {"role": "user", "content": "[INST] hi"},
    ]
    for k in range(len(messages) + 1):
        test_the_shared_scan_answers_as_substring_tests_do_and_the_gate_drops_no_finding.hypothesis.inner_test(messages[:k])
        test_the_shared_scan_answers_as_substring_tests_do_and_the_gate_drops_no_finding.hypothesis.inner_test(messages[k:])
