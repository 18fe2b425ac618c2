"""The canonical model round-trips losslessly through JSON: Example and Conversation, unknown keys included."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.model import Conversation, Example, Message, Speaker, content_text

text = st.text(max_size=30)
key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(key, inner, max_size=3)),
                          max_leaves=8)


def unknown(reserved: set[str]):
    """Extra keys a producer may add, avoiding the model's own field names."""
    return st.dictionaries(key.filter(lambda k: k not in reserved), json_value, max_size=3)


text_part = st.builds(lambda t: {"type": "text", "text": t}, text)
image_part = st.builds(lambda u: {"type": "image_url", "image_url": {"url": u}}, text)
content = st.one_of(text, st.lists(st.one_of(text_part, image_part), max_size=3))
tool_call = st.builds(
    lambda i, n, a, extra: {"id": i, "type": "function", "function": {"name": n, "arguments": a}, **extra},
    text.filter(bool), key, text, unknown({"id", "type", "function"}),
)

MESSAGE_KEYS = {"role", "content", "name", "weight", "tool_calls", "tool_call_id"}


@st.composite
def message(draw):
    role = draw(st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]))
    m: dict = {"role": role}
    if draw(st.booleans()):
        m["content"] = draw(st.one_of(content, st.none()))
    if draw(st.booleans()):
        m["name"] = draw(key)
    if role == "assistant":
        if draw(st.booleans()):
            m["weight"] = draw(st.sampled_from([0, 1]))
        if draw(st.booleans()):
            m["tool_calls"] = draw(st.lists(tool_call, min_size=1, max_size=3))
    if role == "tool":
        m["tool_call_id"] = draw(text)
    m.update(draw(unknown(MESSAGE_KEYS)))
    return m


@st.composite
def example(draw):
    e: dict = {"messages": draw(st.lists(message(), max_size=5))}
    if draw(st.booleans()):
        e["tools"] = [{"type": "function", "function": {"name": draw(key), "parameters": {"type": "object"}}}]
    if draw(st.booleans()):
        e["parallel_tool_calls"] = draw(st.booleans())
    if draw(st.booleans()):
        e["metadata"] = draw(st.dictionaries(key, json_value, max_size=4))
    e.update(draw(unknown({"messages", "tools", "parallel_tool_calls", "metadata"})))
    return e


@given(example())
@settings(max_examples=120, deadline=None)
def test_example_round_trip_is_lossless(record):
    restored = Example.from_dict(orjson.loads(orjson.dumps(record))).to_dict()
    assert restored == record
    # and through JSON text again, byte-identically
    assert orjson.dumps(Example.from_dict(restored).to_dict()) == orjson.dumps(restored)


def test_content_null_and_absent_stay_distinct():
    with_null = {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    without = {"role": "assistant", "tool_calls": with_null["tool_calls"]}
    assert Message.from_dict(with_null).to_dict() == with_null
    assert Message.from_dict(without).to_dict() == without


def test_message_views():
    m = Message.from_dict({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}},
                                                            {"type": "text", "text": "b"}], "weight": 0})
    assert m.text == "a\nb" and not m.trainable
    assert Message.from_dict({"role": "assistant", "content": "x"}).trainable
    assert content_text(None) == "" and content_text(5) == ""  # type: ignore[arg-type]


CONVERSATION_KEYS = {"id", "turns", "customer_id", "channel", "subject", "status", "csat", "tags", "language", "created_at",
                     "participants", "source", "metadata"}
TURN_KEYS = {"speaker", "text", "time", "author", "author_id", "id", "tool_calls", "tool_call_id", "metadata"}


@st.composite
def turn(draw):
    t: dict = {"speaker": draw(st.sampled_from([s.value for s in Speaker])), "text": draw(text)}
    for k in ("time", "author", "author_id", "id"):
        if draw(st.booleans()):
            t[k] = draw(text)
    if draw(st.booleans()):
        t["tool_calls"] = [{"name": draw(key), "arguments": draw(st.dictionaries(key, json_value, max_size=3)), "id": draw(text)}]
    if draw(st.booleans()):
        t["tool_call_id"] = draw(text)
    if draw(st.booleans()):
        t["metadata"] = draw(st.dictionaries(key, json_value, min_size=1, max_size=3))
    return t


@st.composite
def conversation(draw):
    c: dict = {"id": draw(text), "turns": draw(st.lists(turn(), max_size=5))}
    for k in ("customer_id", "channel", "subject", "status", "language", "created_at"):
        if draw(st.booleans()):
            c[k] = draw(text)
    if draw(st.booleans()):
        c["csat"] = draw(st.one_of(st.integers(1, 5), st.sampled_from(["good", "bad"])))
    if draw(st.booleans()):
        c["tags"] = draw(st.lists(text, min_size=1, max_size=3))
    if draw(st.booleans()):
        c["participants"] = [{"id": draw(text), "name": draw(text), "kind": "agent", **draw(unknown({"id", "name", "email", "phone", "kind"}))}]
    if draw(st.booleans()):
        c["source"] = {"file": draw(text), "record": draw(st.integers(1, 1000))}
    if draw(st.booleans()):
        c["metadata"] = draw(st.dictionaries(key, json_value, min_size=1, max_size=4))
    return c


@given(conversation())
@settings(max_examples=80, deadline=None)
def test_conversation_round_trip_is_lossless(record):
    restored = Conversation.from_dict(orjson.loads(orjson.dumps(record))).to_dict()
    assert restored == record


@given(conversation(), unknown(CONVERSATION_KEYS), unknown(TURN_KEYS))
@settings(max_examples=50, deadline=None)
def test_conversation_keeps_unknown_keys(record, extra, turn_extra):
    record = {**record, **extra}
    if record["turns"]:
        record["turns"][0] = {**record["turns"][0], **turn_extra}
    assert Conversation.from_dict(record).to_dict() == record
