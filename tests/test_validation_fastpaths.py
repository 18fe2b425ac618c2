"""The checker's fast path for plain ``{"role", "content": str}`` messages reports and parses
what its general path does, for every OpenAI-style target, on random messages with odd roles,
empty, white-space, non-ASCII and control-character texts. A weight of 1 on such a message
sends it down the general path and changes nothing the message walk looks at."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from toolkit.validation.checker import RecordChecker, _collector
from toolkit.validation.targets import TARGETS

_OPENAI_STYLE = sorted(name for name, target in TARGETS.items() if target.family == "openai")
_CHECKERS = {name: RecordChecker(name, limit_only=True) for name in _OPENAI_STYLE}

_TEXT = st.one_of(st.sampled_from(["", " ", "\n\t", "Hi", "héllo", "\x00\x1f", "<|im_end|>", "[INST] x", "\u2028", "ok"]),
                  st.text(max_size=12))
_ROLE = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "model", "bot", "", ["user"], None, 1])
_MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": _ROLE, "content": _TEXT}),
    st.fixed_dictionaries({"role": _ROLE, "content": st.one_of(_TEXT, st.none(), st.integers(-3, 3))},
                          optional={"weight": st.sampled_from([0, 1]), "name": st.just("n"), "tool_call_id": st.just("c1")}),
    st.just("not a message"),
)


def _walk(checker: RecordChecker, messages: list) -> tuple[list, list]:
    found: list = []
    msgs = checker._openai_record({"messages": messages}, _collector(found, "f", 1))
    return ([(d.code, d.message, d.pointer, d.severity, d.hint) for d in found],
            [(m.texts, m.trainable, m.extra) for m in msgs])


def _general(messages: list) -> list:
    """``messages`` with a weight of 1 on each plain message (the general path for it)."""
    return [{**m, "weight": 1} if type(m) is dict and len(m) == 2 and type(m.get("content")) is str else m
            for m in messages]


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_OPENAI_STYLE), st.lists(_MESSAGE, max_size=6))
@example("openai", [{"role": "user", "content": "Hi"}, {"role": "function", "content": ""}, {"role": "tool", "content": " "}])
@example("fireworks", [{"role": "developer", "content": ""}, {"role": "assistant", "content": "\n"}])
def test_plain_message_fast_path_matches_the_general_path(target, messages):
    checker = _CHECKERS[target]
    assert _walk(checker, messages) == _walk(checker, _general(messages))
