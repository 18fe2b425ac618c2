"""Per-target rules: each target accepts its clean layout and reports exactly the expected codes for broken ones."""

from __future__ import annotations

import pytest

from toolkit.validation import TARGETS, RecordChecker, detect_target

U = {"role": "user", "content": "Where is my order?"}
A = {"role": "assistant", "content": "Let me check that for you."}
S = {"role": "system", "content": "Be brief."}


def codes(target: str, record, **options) -> list[str]:
    found, _ = RecordChecker(target, **options).check(record, "f.jsonl", 1)
    return sorted(d.code for d in found)


def severities(target: str, record) -> dict[str, str]:
    found, _ = RecordChecker(target).check(record, "f.jsonl", 1)
    return {d.code: d.severity.value for d in found}


def vx(*turns):
    return {"contents": [{"role": r, "parts": [{"text": t}]} for r, t in turns]}


def sg(*turns, **extra):
    return {"conversations": [{"from": f, "value": v} for f, v in turns], **extra}


CLEAN = {
    "openai": {"messages": [S, U, A]},
    "azure": {"messages": [S, U, A]},
    "together": {"messages": [S, U, A, U, A]},
    "fireworks": {"messages": [S, U, A]},
    "mistral": {"messages": [S, U, A]},
    "vertex": {"systemInstruction": {"parts": [{"text": "Be brief."}]}, **vx(("user", "hi"), ("model", "Hello!"))},
    "bedrock": {"system": "Be brief.", "messages": [U, A]},
    "sharegpt": sg(("human", "hi"), ("gpt", "Hello!"), system="Be brief."),
    "alpaca": {"instruction": "Summarise the ticket.", "input": "Parcel late.", "output": "Late parcel."},
    "trl": {"prompt": [U], "completion": [A]},
    "openai-dpo": {"input": {"messages": [S, U]}, "preferred_output": [A], "non_preferred_output": [{"role": "assistant", "content": "No."}]},
}


def test_every_target_has_a_clean_case():
    assert set(CLEAN) == set(TARGETS)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_clean_record_has_no_problem_and_is_detected(target):
    assert codes(target, CLEAN[target]) == []
    detected = detect_target(CLEAN[target])
    assert detected == TARGETS[target].schema or (target, detected) in {("azure", "openai"), ("together", "openai"),
                                                                          ("fireworks", "openai"), ("mistral", "openai")}


CASES = [
    # role order and alternation differ per provider
    ("openai", {"messages": [U, U, A]}, []),  # OpenAI accepts consecutive user turns
    ("together", {"messages": [U, U, A]}, ["S005"]),
    ("mistral", {"messages": [U, U, A]}, ["S005"]),
    ("together", {"messages": [A, U, A]}, ["S005"]),
    ("bedrock", {"messages": [A, U, A]}, ["S005"]),
    ("bedrock", {"messages": [U, A, U]}, ["S006"]),
    ("mistral", {"messages": [U, A, U]}, ["S006"]),
    ("openai", {"messages": [U, A, U]}, ["S006"]),
    ("vertex", vx(("user", "a"), ("user", "b"), ("model", "c")), ["S005"]),
    ("vertex", vx(("user", "a"), ("model", "b"), ("user", "c")), ["S006"]),
    ("vertex", vx(("model", "a"), ("user", "b"), ("model", "c")), ["S005"]),
    ("sharegpt", sg(("human", "a"), ("human", "b"), ("gpt", "c")), ["S005"]),
    ("sharegpt", sg(("gpt", "a"), ("human", "b"), ("gpt", "c")), ["S005"]),
    ("sharegpt", sg(("human", "a"), ("system", "b"), ("gpt", "c")), ["S004"]),
    # system position
    ("fireworks", {"messages": [U, S, A]}, ["S004"]),
    ("together", {"messages": [U, S, A]}, ["S004"]),
    # roles the layout allows but the provider does not
    ("together", {"messages": [{"role": "developer", "content": "x"}, U, A]}, ["S002"]),
    ("bedrock", {"messages": [S, U, A]}, ["S002"]),
    ("vertex", vx(("user", "a"), ("assistant", "b")), ["S002", "S006"]),
    # weights
    ("openai", {"messages": [U, {**A, "weight": True}]}, ["S016"]),
    ("mistral", {"messages": [U, {**A, "weight": 0}, U, A]}, []),
    ("bedrock", {"messages": [U, {**A, "weight": 0}]}, ["S018"]),
    ("trl", {"messages": [U, {**A, "weight": 1}]}, ["S018"]),
    ("openai", {"messages": [U, {**A, "weight": 0}, U, {**A, "weight": 0}]}, ["T002"]),
    ("sharegpt", {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b", "weight": 0}]}, ["T002"]),
    # images
    ("mistral", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, A]}, ["S018"]),
    ("openai", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, A]}, []),
    # tool calls
    ("mistral", {"messages": [U, {"role": "assistant", "tool_calls": [{"id": "call_12345", "type": "function",
                                                                       "function": {"name": "f", "arguments": "{}"}}]}],
                 "tools": [{"type": "function", "function": {"name": "f"}}]}, ["S019"]),
    ("openai", {"messages": [U, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                                      "function": {"name": "f", "arguments": "[1]"}}]}],
                "tools": [{"type": "function", "function": {"name": "f"}}]}, ["S011"]),
    ("openai", {"messages": [U, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                                      "function": {"name": "g", "arguments": "{}"}}]}],
                "tools": [{"type": "function", "function": {"name": "f"}}]}, ["S013"]),
    ("openai", {"messages": [U, A], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "obj"}}},
                                             {"type": "function", "function": {"name": "f"}}]}, ["S015", "S015"]),
    ("vertex", {"contents": [{"role": "user", "parts": [{"text": "a"}]},
                             {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                             {"role": "model", "parts": [{"text": "b"}]}]}, ["S005", "S008", "S013"]),
    ("vertex", {"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
                             {"role": "model", "parts": [{"text": "b"}]}]}, ["S009"]),
    ("sharegpt", sg(("human", "a"), ("function_call", "{bad"), ("observation", "{}"), ("gpt", "b")), ["S011"]),
    ("sharegpt", sg(("human", "a"), ("observation", "{}"), ("gpt", "b")), ["S005", "S009"]),
    ("openai", {"messages": [U, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                                                                     {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}],
                "tools": [{"type": "function", "function": {"name": "f"}}], "parallel_tool_calls": False}, ["S018"]),
    # empty content
    ("bedrock", {"messages": [U, {"role": "assistant", "content": ""}]}, ["S007"]),
    ("alpaca", {"instruction": "x", "output": " "}, ["S007"]),
    ("trl", {"text": ""}, ["S007"]),
    # trl layouts
    ("trl", {"prompt": "q", "completion": [A]}, ["S001"]),
    ("trl", {"prompt": [U], "completion": [U]}, ["S005"]),
    ("trl", {"prompt": [U], "chosen": [A], "rejected": [A]}, ["S021"]),
    ("trl", {"question": "q"}, ["S003"]),
    # DPO shape
    ("openai-dpo", {"input": {"messages": [U, A]}, "preferred_output": [A], "non_preferred_output": [{"role": "assistant", "content": "no"}]}, ["S020"]),
    ("openai-dpo", {"input": {"messages": [U]}, "preferred_output": [A, A], "non_preferred_output": [A]}, ["S020"]),
    ("openai-dpo", {"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [A]}, ["S021"]),
    # special tokens in any format
    ("alpaca", {"instruction": "[INST] summarise [/INST]", "output": "ok"}, ["T003"]),
    ("vertex", vx(("user", "hi"), ("model", "<start_of_turn>model hello")), ["T003"]),
    ("sharegpt", sg(("human", "hi"), ("gpt", "hello <|eot_id|>")), ["T003"]),
]


@pytest.mark.parametrize("target,record,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_target_rules(target, record, expected):
    assert codes(target, record) == expected


def test_severity_depends_on_what_the_provider_documents():
    # OpenAI trains on an example that ends with the user, so it is a warning; Mistral rejects it.
    assert severities("openai", {"messages": [U, A, U]}) == {"S006": "warning"}
    assert severities("mistral", {"messages": [U, A, U]}) == {"S006": "error"}
    assert severities("openai", {"messages": [{"role": "user", "content": ""}, A]}) == {"S007": "warning"}
    assert severities("openai", {"messages": [U, {"role": "assistant", "content": ""}]}) == {"S007": "error"}


def test_token_limit_sources():
    long = {"messages": [U, {"role": "assistant", "content": "hello " * 40_000}]}
    found, figures = RecordChecker("bedrock").check({"messages": long["messages"]}, "f", 3)
    t001 = [d for d in found if d.code == "T001"]
    assert t001 and "32,000-token limit" in t001[0].message and t001[0].pointer == "/messages"
    assert figures.total > 32_000
    assert codes("openai", long) == []  # 65,536 without a model
    assert codes("openai", long, model="gpt-4") == ["T001"]
    assert codes("openai", long, max_tokens=100_000, model="gpt-4") == []


def test_special_token_spans_point_into_the_text():
    found, _ = RecordChecker("openai").check({"messages": [U, {"role": "assistant", "content": "ok <|endoftext|> and [INST]"}]})
    (d,) = found
    assert d.code == "T003" and d.pointer == "/messages/1/content"
    assert [(s.start, s.end, s.text) for s in d.spans] == [(3, 16, "<|endoftext|>"), (21, 27, "[INST]")]


def test_fast_path_agrees_with_the_schema():
    """The fast check never calls a record valid that the schema rejects."""
    from jsonschema import Draft202012Validator

    from toolkit.config import load_schema

    records = [
        {"messages": [U, A]}, {"messages": [U, {**A, "weight": 1}]}, {"messages": [{**U, "weight": 1}, A]},
        {"messages": [U, {**A, "weight": 2}]}, {"messages": [U, {**A, "name": ""}]}, {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "developer", "content": "x"}, U, A]}, {"messages": []}, {"messages": [U, A], "metadata": []},
        {"messages": [U, {**A, "content": None}]}, {"messages": [U, {**A, "weight": True}]},
    ]
    for target in ("openai", "mistral"):
        checker = RecordChecker(target)
        schema = Draft202012Validator(load_schema(target))
        for record in records:
            if checker._fast_valid(record):
                assert schema.is_valid(record), (target, record)


# ---------------------------------------------------------------------- robustness: no record crashes a checker

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["", " ", "x", "{}", "[1]", '{"a": 1}', "call_1", "abc123XYZ", "<|im_end|>", "[INST]"]))
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                     max_leaves=6)
_roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "model", "human", "gpt",
                          "function_call", "observation", "agent", 3, None])
_call = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.sampled_from(["call_1", "abc123XYZ", ""]), _json), "type": st.one_of(st.just("function"), _json),
    "function": st.one_of(st.fixed_dictionaries({}, optional={"name": st.one_of(st.sampled_from(["f", "lookup", "bad name"]), _json),
                                                              "arguments": st.one_of(st.sampled_from(["{}", "{bad", "[1]", '{"a": 1}']), _json)}),
                          _json)})
_part = st.one_of(st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url", "x"])}, optional={"text": _json, "image_url": _json}),
                  st.fixed_dictionaries({}, optional={"text": _json, "functionCall": _json, "functionResponse": _json, "fileData": _json}),
                  _json)
_message = st.fixed_dictionaries({}, optional={
    "role": _roles, "from": _roles, "content": st.one_of(_json, st.lists(_part, max_size=3)), "value": _json,
    "parts": st.one_of(st.lists(_part, max_size=3), _json), "name": _json, "weight": _json,
    "tool_calls": st.one_of(st.lists(_call, max_size=3), _json), "tool_call_id": _json, "function_call": _json})
_messages = st.one_of(st.lists(_message, max_size=5), _json)
_tools = st.one_of(st.lists(st.one_of(st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
    {"name": st.sampled_from(["f", "lookup"])}, optional={"parameters": st.one_of(st.just({"type": "object"}), _json)})}),
    st.fixed_dictionaries({"functionDeclarations": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["f", "g"])},
                                                                                   optional={"parameters": _json}), max_size=2)}),
    _json), max_size=2), _json, st.just('[{"name": "f"}]'))
_record = st.fixed_dictionaries({}, optional={
    "messages": _messages, "contents": _messages, "conversations": _messages, "tools": _tools, "functions": _json,
    "system": st.one_of(_json, st.lists(_part, max_size=2)), "systemInstruction": _json, "input": st.one_of(
        st.fixed_dictionaries({}, optional={"messages": _messages, "tools": _tools}), _json),
    "preferred_output": _messages, "non_preferred_output": _messages, "prompt": st.one_of(_messages, _json),
    "completion": _messages, "chosen": _messages, "rejected": _messages, "text": _json, "instruction": _json,
    "output": _json, "history": _json, "metadata": _json, "parallel_tool_calls": _json})

_CHECKERS = {t: RecordChecker(t) for t in sorted(TARGETS)}


@given(_record)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_no_record_crashes_any_checker(record):
    for target, checker in _CHECKERS.items():
        found, figures = checker.check(record, "f.jsonl", 7)
        for d in found:
            assert d.line == 7 and d.code in CHECKS_CODES and (d.pointer == "" or d.pointer.startswith("/")), (target, d)
        assert figures is not None and figures.total >= figures.trainable >= 0


from toolkit.validation.codes import CHECKS as _ALL_CHECKS  # noqa: E402

CHECKS_CODES = set(_ALL_CHECKS)


_good_call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
_fast_calls = st.sampled_from([
    None, [], [_good_call], [{**_good_call, "id": "abc123XYZ"}], [{**_good_call, "id": ""}],
    [{k: v for k, v in _good_call.items() if k != "type"}], [{**_good_call, "function": {"name": "look up", "arguments": "{}"}}],
    [{**_good_call, "function": {"name": "f", "arguments": {}}}], [{**_good_call, "extra": 1}], "x",
    [{**_good_call, "function": {"name": "f", "arguments": "{}", "x": 1}}],
])
_fast_content = st.sampled_from([None, "hi", "", [], [{"type": "text", "text": "a"}], [{"type": "text", "text": "a", "x": 1}],
                                 [{"type": "image_url", "image_url": {"url": "u"}}], 5, [{"type": "text"}]])


@st.composite
def _fast_message(draw):
    m = {"role": draw(st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x"]))}
    for key, values in (("content", _fast_content), ("name", st.sampled_from([None, "", "n", 5, "look up"])),
                        ("weight", st.sampled_from([None, 0, 1, 2, True, 1.0, "1"])), ("tool_calls", _fast_calls),
                        ("tool_call_id", st.sampled_from([None, "call_1", "abc123XYZ", "", 5])),
                        ("function_call", st.sampled_from([None, {"name": "f", "arguments": "{}"}])),
                        ("foo", st.sampled_from([None, 1]))):
        if draw(st.booleans()):
            value = draw(values)
            if value is not None or key == "content":
                m[key] = value
    return m


_fast_tool = {"type": "function", "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}}}


@st.composite
def _fast_record(draw):
    r = {"messages": draw(st.lists(_fast_message(), max_size=5))}
    if draw(st.booleans()):
        r["tools"] = draw(st.sampled_from([[_fast_tool], [], "x", [{"function": _fast_tool["function"]}],
                                           [{**_fast_tool, "function": {**_fast_tool["function"], "strict": True}}],
                                           [{**_fast_tool, "function": {"name": "bad name"}}],
                                           [{**_fast_tool, "function": {"name": "f", "parameters": "x"}}],
                                           [{**_fast_tool, "extra": 1}]]))
    if draw(st.booleans()):
        r["parallel_tool_calls"] = draw(st.sampled_from([True, "yes", None]))
    if draw(st.booleans()):
        r["metadata"] = draw(st.sampled_from([{}, {"id": "x"}, [], "x"]))
    if draw(st.booleans()):
        r["label"] = 1
    return r


_SCHEMA_VALIDATORS: dict = {}


@given(_fast_record())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_never_accepts_what_the_schema_rejects(record):
    from jsonschema import Draft202012Validator

    from toolkit.config import load_schema

    for target in ("openai", "mistral"):
        if target not in _SCHEMA_VALIDATORS:
            _SCHEMA_VALIDATORS[target] = Draft202012Validator(load_schema(target))
        if _CHECKERS[target]._fast_valid(record):
            assert _SCHEMA_VALIDATORS[target].is_valid(record), (target, record)


def test_fast_path_covers_tools_and_tool_calls():
    record = {"messages": [U, {"role": "assistant", "content": None, "tool_calls": [_good_call]},
                           {"role": "tool", "tool_call_id": "call_1", "content": "{}"}, {**A, "weight": 1}],
              "tools": [_fast_tool], "parallel_tool_calls": False, "metadata": {"id": "x"}}
    assert _CHECKERS["openai"]._fast_valid(record)
    assert not _CHECKERS["mistral"]._fast_valid(record)  # 'call_1' is not a Mistral id: the schema reports it


# ---------------------------------------------------------------------- the {"role", "content": str} shortcuts

_OPENAI_STYLE = sorted(name for name, target in TARGETS.items() if target.family == "openai")
_plain_message = st.builds(lambda role, content: {"role": role, "content": content},
                           st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x"]),
                           st.sampled_from(["", " \n", "hi", "<|im_end|> hi", "x" * 300]))


@st.composite
def _mixed_record(draw):
    record = draw(_fast_record())
    record["messages"] = draw(st.lists(st.one_of(_plain_message, _fast_message()), max_size=6))
    return record


def _with_key_on_plain(record: dict, key: str, value) -> dict:
    """``record`` with ``key`` added to its ``{"role", "content": str}`` messages, which sends them down the general path."""
    messages = [{**m, key: value} if len(m) == 2 and type(m.get("content")) is str else m for m in record["messages"]]
    return {**record, "messages": messages}


def _openai_view(checker: RecordChecker, record: dict) -> tuple[list, list]:
    from toolkit.validation.checker import _collector

    found: list = []
    msgs = checker._openai_record(record, _collector(found, "f.jsonl", 1))
    return ([(d.code, d.message, d.pointer, d.severity, d.hint) for d in found],
            [(m.texts, m.trainable, m.extra) for m in msgs])


@given(_mixed_record())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_plain_messages_get_what_the_general_path_gives(record):
    from toolkit.validation.checker import _has_non_text_part, _joined

    for target in _OPENAI_STYLE:
        checker = _CHECKERS[target]
        # a non-empty name is accepted wherever a plain message is, and a weight of 1 changes nothing the
        # message walk looks at: both records must get the same answers
        assert checker._fast_valid(record) == checker._fast_valid(_with_key_on_plain(record, "name", "n")), target
        view = _openai_view(checker, record)
        assert view == _openai_view(checker, _with_key_on_plain(record, "weight", 1)), target
        assistants = [m for m in record["messages"] if m.get("role") == "assistant"]
        nothing_trains = checker.target.weight and any(m.get("weight") == 0 for m in assistants) and not any(
            m.get("weight") != 0 and (_joined(m.get("content")).strip() or m.get("tool_calls") or _has_non_text_part(m.get("content")))
            for m in assistants)
        assert ("T002" in [code for code, *_ in view[0]]) == bool(nothing_trains), target


def _order_as_documented(target, sequence, base, add, *, last_rule):
    """The ordering rules checked one by one, as ``RecordChecker._order`` must report them."""
    from toolkit.diagnostics import pointer
    from toolkit.validation.checker import _alternation_problem

    seen_turn = False
    for i, role, _ in sequence:
        if role in ("system", "developer"):
            if seen_turn and target.system_first:
                add("S004", f"{role} message after the conversation started (message {i})", pointer(*base, i),
                    severity=target.system_first)
        else:
            seen_turn = True
    turns = [(i, role, m) for i, role, m in sequence if role not in ("system", "developer")]
    if turns and target.first_user and turns[0][1] != "user":
        add("S005", f"the conversation starts with '{turns[0][1]}'; {target.name} requires the first turn to be the user's",
            pointer(*base, turns[0][0], "role"), severity=target.first_user)
    if target.alternate:
        for previous, current in zip(turns, turns[1:]):
            problem = _alternation_problem(previous[1], previous[2], current[1])
            if problem:
                add("S005", f"{problem} (messages {previous[0]} and {current[0]}); {target.name} requires user and "
                            "assistant turns to alternate", pointer(*base, current[0], "role"), severity=target.alternate)
    if last_rule and target.last_assistant:
        if not any(role == "assistant" for _, role, _ in turns):
            add("S006", "the example has no assistant message", pointer(*base) if base else "/messages",
                severity=target.last_assistant)
        elif turns[-1][1] != "assistant":
            add("S006", f"the last message is from '{turns[-1][1]}', not the assistant", pointer(*base, turns[-1][0]),
                severity=target.last_assistant)


@given(st.lists(st.tuples(st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]), st.booleans(),
                          st.integers(1, 2)), max_size=7),
       st.sampled_from([(), ("messages",), ("input", "messages")]), st.booleans())
@settings(max_examples=400, deadline=None)
def test_order_checks_report_what_the_rules_say(roles, base, last_rule):
    from toolkit.validation.checker import _collector

    positions = [sum(step for *_, step in roles[: k + 1]) for k in range(len(roles))]  # non-dict messages leave gaps
    sequence = [(i, role, {"role": role, "tool_calls": [_good_call]} if calls else {"role": role})
                for i, (role, calls, _) in zip(positions, roles)]
    for target, checker in _CHECKERS.items():
        found: list = []
        expected: list = []
        checker._order(sequence, base, _collector(found, "f.jsonl", 1), last_rule=last_rule)
        _order_as_documented(checker.target, sequence, base, _collector(expected, "f.jsonl", 1), last_rule=last_rule)
        assert found == expected, target


def test_pointers_escape_keys_per_rfc_6901():
    found, _ = RecordChecker("openai").check({"messages": [U, A], "a/b~c": 1})
    assert [(d.code, d.pointer) for d in found] == [("S001", "/a~1b~0c")]


@pytest.mark.parametrize("record,expected", [
    ({"messages": [U, A]}, "openai"),
    ({"messages": [U, {"role": "assistant", "tool_calls": [{"id": "abc123XYZ"}]}]}, "mistral"),
    ({"messages": [U, {"role": "assistant", "tool_calls": [{"id": "call_1"}]}]}, "openai"),
    ({"system": "Be brief.", "messages": [U, A]}, "bedrock"),
    ({"schemaVersion": "bedrock-conversation-2024", "messages": []}, "bedrock"),
    ({"contents": []}, "vertex"),
    ({"conversations": []}, "sharegpt"),
    ({"instruction": "x", "output": "y"}, "alpaca"),
    ({"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [A]}, "openai-dpo"),
    ({"prompt": "x", "completion": "y"}, "trl"),
    ({"prompt": [U], "chosen": [A], "rejected": [A]}, "trl"),
    ({"text": "hello", "id": 3}, "trl"),
    ({"question": "x", "answer": "y"}, None),
    ([1, 2], None),
])
def test_detect_target(record, expected):
    assert detect_target(record) == expected


def test_detect_target_reads_mappings_that_are_not_dicts():
    """detect_target checks for a dict first, then for any Mapping: read-only views are detected the same."""
    from types import MappingProxyType

    mistral = {"messages": [U, {"role": "assistant", "tool_calls": [{"id": "abcDEF123"}]}]}
    assert detect_target(MappingProxyType(mistral)) == detect_target(mistral) == "mistral"
    viewed = {"messages": [U, MappingProxyType({"role": "assistant", "tool_calls": [{"id": "abcDEF123"}]})]}
    assert detect_target(viewed) == "mistral"
