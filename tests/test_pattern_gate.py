"""re2_superset / PatternGate: an RE2 pattern that matches wherever a Python pattern does on ASCII text.

The gate may only ever widen: a pattern it rules out must not match. These tests throw
patterns with every construct the rewrite handles (lookarounds, backreferences, lazy,
possessive and atomic repeats, class shorthands with Python's meaning, IGNORECASE, anchors)
at generated ASCII text, including the whitespace characters RE2's ``\\s`` does not know.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit._pattern_gate import PatternGate, UnsupportedPattern, re2_exact, re2_superset

PATTERNS = [
    r"\bwe\s+(?:do\s+)?offer\b(?!\s+free)",
    r"(?<!at )no fee",
    r"(?i)Free\s+Shipping",
    r"\b(\w+)\s+\1\b",  # backreference
    r"(?>ab|a)c",  # atomic group: Python never matches "abc" through the second branch
    r"a++b",
    r"x{2,5}?y",
    r"q{1001}",
    r"[^\W\d_]{3}",
    r"[\s]x[\S]",
    r"\sx\S",
    r"[^a-c\d]z",
    r"[^\n]end$",
    r"^start",
    r"(?m)^line",
    r"\Bin\B",
    r"\d+(?:\.\d+)?\s*%",
    r"(?:(?P<q>['\"]).*?(?P=q))",
    r"(?(1)a|b)(c)?",
    r"(?s:a.b)",
    r"a.b",
    r"\Aabc\Z",
    r"(?i:[a-c]X)",
    r"[^x]",
    r"(?i)[^x]y",
]
_ALPHABET = st.sampled_from(list("abcxyzqABCXYZ \t\n\x0b\x0c\r\x1c\x1f_0123456789.%'\"-") + ["we", "offer", "free",
                                                                                          "shipping", "no fee", "at "])
_TEXTS = st.lists(_ALPHABET, max_size=30).map("".join)
_GATE = PatternGate([re.compile(p) for p in PATTERNS])


@settings(max_examples=600, deadline=None)
@given(_TEXTS)
def test_the_gate_never_rules_out_a_match(text):
    gate = _GATE  # built once (hypothesis tests cannot take function-scoped fixtures)
    possible = gate.possible(text)
    for k, pattern in enumerate(gate.patterns):
        if pattern.search(text):
            assert k in possible, (pattern.pattern, text)


def test_gate_is_exact_where_rewriting_changes_nothing():
    gate = _GATE
    # no lookaround, atomic group, backreference, possessive repeat or dropped anchor: the same answer
    exact = [k for k, p in enumerate(PATTERNS) if not re.search(r"\(\?[<=!>(]|\\1|\(\?P=|\$|\\Z|\+\+|\(\?m\)", p)]
    for text in ["we offer free shipping", "FREE   shipping", "word word", "xxy", "7.5 %", "\x1cx!", "ab c", "in in",
                 "'quoted'", "a\nb", "start", "Ax", "zzz"]:
        possible = gate.possible(text)
        for k in exact:
            assert (k in possible) == (re.search(PATTERNS[k], text) is not None), (PATTERNS[k], text)


def test_python_whitespace_is_kept_in_class_shorthands():
    # Python's \s takes \x0b and \x1c-\x1f; RE2's \s does not: the rewrite spells the class out
    gate = PatternGate([re.compile(r"a\sb"), re.compile(r"a\Sb")])
    assert gate.possible("a\x0bb") == {0}
    assert gate.possible("a\x1fb") == {0}
    assert gate.possible("a-b") == {1}


def test_rewrite_refuses_what_it_cannot_widen():
    with pytest.raises(UnsupportedPattern):
        re2_superset(re.compile(rb"bytes"))
    with pytest.raises(UnsupportedPattern):
        re2_superset(re.compile(r"x", re.ASCII))


def test_empty_class_never_matches():
    # "[^\x00-\x7f]" has no ASCII member: the gate must say it cannot match ASCII text
    gate = PatternGate([re.compile(r"[^\x00-\x7f]"), re.compile(r"a")])
    assert gate.possible("abc") == {1}


def _exact_or_none(pattern: str):
    try:
        return re2_exact(re.compile(pattern))
    except UnsupportedPattern:
        return None


_EXACT = {p: _exact_or_none(p) for p in PATTERNS + [r"(?i)\bfree\s+(?:ship|shipping)\b", r"x+?y", r"\b(?:a|ab)c",
                                                      r"\d+(?:\.\d+)?", r"(?i)[^\W\d_]+", r"ſ", r"(?i)ſ",
                                                      r"a.*?b", r"a.*b", r"(?:a|ab)(?:bc)?", r"c[ab]{1,3}?"]}


def test_re2_exact_refuses_what_it_cannot_keep_exact():
    kept = {p for p, fast in _EXACT.items() if fast is not None}
    for refused in [r"(?<!at )no fee", r"\b(\w+)\s+\1\b", r"(?>ab|a)c", r"a++b", r"[^\n]end$", r"(?m)^line",
                    r"q{1001}", r"(?(1)a|b)(c)?", r"a*"]:
        assert refused not in kept, refused
    assert r"x{2,5}?y" in kept and r"\Bin\B" in kept and r"(?i)[^x]y" in kept


@settings(max_examples=600, deadline=None)
@given(_TEXTS)
def test_re2_exact_finds_the_same_spans(text):
    data = text.encode()
    for pattern, fast in _EXACT.items():
        if fast is not None:
            assert [m.span() for m in fast.finditer(data)] == [m.span() for m in re.finditer(pattern, text)], pattern
