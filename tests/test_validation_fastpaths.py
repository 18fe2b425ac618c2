"""The checker's fast path for plain ``{"role", "content": str}`` messages reports and parses
what its general path does (forced by giving the checker no plain roles), for every target,
on random messages with odd roles, empty, white-space, non-ASCII and control-character texts."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from toolkit.validation.checker import RecordChecker
from toolkit.validation.targets import TARGET_NAMES

_CHECKERS = {name: (RecordChecker(name, limit_only=True), RecordChecker(name, limit_only=True)) for name in TARGET_NAMES}
for _fast, _general in _CHECKERS.values():
    _general._plain_roles = frozenset()  # never the fast path

_TEXT = st.one_of(st.sampled_from(["", " ", "\n\t", "Hi", "héllo", "\x00\x1f", "<|im_end|>", "[INST] x", "\u2028", "ok"]),
                  st.text(max_size=12))
_ROLE = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "model", "bot", "", ["user"], None, 1])
_MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": _ROLE, "content": _TEXT}),
    st.fixed_dictionaries({"role": _ROLE, "content": st.one_of(_TEXT, st.none(), st.integers(-3, 3))},
                          optional={"weight": st.sampled_from([0, 1]), "name": st.just("n"), "tool_call_id": st.just("c1")}),
    st.just("not a message"),
)


def _view(result):
    found, parsed = result
    diags = [(d.code, d.message, d.pointer, d.severity, d.hint) for d in found]
    msgs = [(m.texts, m.trainable, m.extra) for m in parsed[0]] if parsed else None
    return diags, msgs


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(TARGET_NAMES), st.lists(_MESSAGE, max_size=6))
@example("openai", [{"role": "user", "content": "Hi"}, {"role": "function", "content": ""}, {"role": "tool", "content": " "}])
@example("fireworks", [{"role": "developer", "content": ""}, {"role": "assistant", "content": "\n"}])
def test_plain_message_fast_path_matches_the_general_path(target, messages):
    fast, general = _CHECKERS[target]
    for record in ({"messages": messages}, {"input": {"messages": messages}, "preferred_output": [], "non_preferred_output": []}):
        assert _view(fast.check_structure(record, "f", 1)) == _view(general.check_structure(record, "f", 1))
        assert fast._plain_roles is None or fast._plain_roles  # a target accepts some role
