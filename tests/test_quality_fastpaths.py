"""The early returns of Q001, Q004, Q006 and Q007 (and the A rules' shared scan) report what
the straightforward per-message computation reports, on random texts with non-ASCII,
control and white-space characters."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.linter.rule import ExampleContext, load_all_rules
from toolkit.linter.rules import quality
from toolkit.linter.rules._textfix import trainable_indexes
from toolkit.linter.rules.quality import _VISIBLE, placeholder_pattern

RULES = load_all_rules()

_PIECES = st.sampled_from(
    ["Hello", "ok", ".", " ", "  ", "\t", "\n", "\n\n\n", " \n", "\t\n", "\r\n", "\r", "\x00", "\x01", "\x7f", "\x85",
     "\xa0", "\u200b", "\ufeff", "\ufffd", "cafÃ©", "donâ€™t", "é", "e\u0301", "İ", "\u2028", "\u3000", "[Your Name]",
     "x" * 120, " " * 120, "ñ" * 50]
)
_TEXTS = st.one_of(st.lists(_PIECES, max_size=6).map("".join), st.text(max_size=30))
_CONTENT = st.one_of(_TEXTS, st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": _TEXTS}), max_size=2))
_MESSAGES = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool"]), "content": _CONTENT},
        optional={"weight": st.sampled_from([0, 1]), "tool_calls": st.just([{"id": "c1"}])},
    ),
    max_size=5,
)


def _shown(findings):
    return [(f.message, f.pointer, f.hint, f.severity, [(s.start, s.end, s.text) for s in f.spans],
             f.fix.description if f.fix else None) for f in findings or ()]


def _q001_reference(rule, ctx):
    """Q001 as written before its early exit for long replies."""
    minimum = rule.opts["min-chars"]
    messages, texts = ctx.messages, ctx.texts
    indexes = trainable_indexes(ctx) if rule.opts["trainable-only"] else \
        [index for index, message in enumerate(messages) if message.get("role") == "assistant"]
    out = []
    for index in indexes:
        message, text = messages[index], texts[index]
        if message.get("tool_calls") or message.get("function_call"):
            continue
        visible = len(_VISIBLE.findall(text, 0, 200)) if len(text) < 200 else minimum
        pointer = ctx.content_pointer(index)
        if not text.strip():
            out.append(("empty", pointer))
        elif visible < minimum and not placeholder_pattern().fullmatch(text.strip()):
            out.append(("near", pointer))
    return out


@settings(max_examples=400, deadline=None)
@given(_MESSAGES, st.sampled_from([1, 3, 250]), st.booleans())
def test_q001_early_exit_matches_the_reference(messages, minimum, trainable_only):
    rule = RULES["Q001"]({"min-chars": minimum, "trainable-only": trainable_only})
    ctx = ExampleContext({"messages": messages})
    got = [("near" if "near-empty" in f.message else "empty", f.pointer)
           for f in rule.check(ctx)]
    assert got == _q001_reference(rule, ExampleContext({"messages": messages}))


@settings(max_examples=400, deadline=None)
@given(_MESSAGES)
def test_q004_q006_q007_early_returns_drop_nothing(messages):
    for code in ("Q004", "Q006", "Q007"):
        rule = RULES[code]()
        fast = _shown(rule.check(ExampleContext({"messages": messages})))
        full = _shown(rule._check(ExampleContext({"messages": messages})))
        assert fast == full, code


@settings(max_examples=500, deadline=None)
@given(st.lists(_TEXTS, max_size=6))
def test_all_clean_ascii_is_each_text_clean_ascii(texts):
    # clean ASCII: ASCII without a character _INVISIBLE matches
    assert quality._all_clean_ascii(texts) == all(t.isascii() and not quality._INVISIBLE.search(t) for t in texts)


@settings(max_examples=500, deadline=None)
@given(_TEXTS.filter(bool))
def test_whitespace_suspect_holds_for_every_text_q006_would_change(text):
    if not quality._whitespace_suspect(text):
        unified = text.replace("\r\n", "\n").replace("\r", "\n")
        assert text == text.strip() and "\r" not in text
        assert not quality._TRAILING_LINE_SPACE.search(unified) and not quality._MANY_NEWLINES.search(unified)


_META_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(["P001", "pii-email", "P", "nonsense", "X003"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["ignore", "reason", "ftkit", "other"]), inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), _META_VALUES, _META_VALUES.map(lambda block: {"ftkit": block})))
def test_x003_early_return_drops_nothing(metadata):
    from collections.abc import Mapping

    record = {"messages": [{"role": "user", "content": "Hi"}]}
    if metadata is not None:
        record["metadata"] = metadata
    rule = RULES["X003"]()
    fast = _shown(rule.check(ExampleContext(record)))
    meta = record.get("metadata")
    # before the early return: nothing unless metadata is a mapping with an "ftkit" key
    full = _shown(rule._check(meta)) if isinstance(meta, Mapping) and "ftkit" in meta else []
    assert fast == full
