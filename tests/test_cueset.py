"""CueSet: one RE2 scan answers, per group, whether any of its literal cues occurs in a text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit._cueset import CueSet, cue_set

# small alphabets make cues occur often, overlap and nest; the rest covers escapes, NUL and non-ASCII
_ALPHABET = st.sampled_from(list("ab .\\|*(?[{^$\0é€😀\n"))
_CUES = st.text(_ALPHABET, min_size=0, max_size=4)
# texts may hold a lone surrogate (JSON "\udce9" decodes to one), which RE2's UTF-8 input cannot
_TEXT_ALPHABET = st.sampled_from(list("ab .\\|*(?[{^$\0é€😀\n\udce9"))


def _expected(groups, text):
    return frozenset(k for k, group in enumerate(groups) if any(cue in text for cue in group))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_CUES, max_size=5), min_size=1, max_size=6), st.text(_TEXT_ALPHABET, max_size=40))
def test_found_is_the_groups_with_a_substring_in_the_text(groups, text):
    cues = CueSet(groups)
    assert cues.found(text) == _expected(groups, text)
    assert cues.any_in(text) == bool(_expected(groups, text))


def test_overlapping_and_nested_cues_are_all_found():
    # a leftmost-first scan would report "<</sys>>" and hide "</" inside it; the set reports both
    cues = CueSet([("<</sys>>",), ("</",), ("sys",), ("absent",), ()])
    assert cues.found("x <</sys>> y") == {0, 1, 2}
    assert cues.found("") == frozenset()


def test_regex_metacharacters_are_literal():
    cues = cue_set(["a.b", "(x)", "[", "\\d"])
    assert not cues.any_in("axb x 5")
    assert cues.any_in("a.b")
    assert cue_set(["\\d"]).any_in("a \\d b")


def test_empty_cue_is_in_every_text_and_empty_group_in_none():
    cues = CueSet([("",), ()])
    assert cues.found("") == {0}
    assert cues.found("anything") == {0}
    assert len(cues) == 2 and cues.groups == (("",), ())


_ASCII_CUES = st.text(st.sampled_from(list("abAB .\\|*\0é")), min_size=0, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_ASCII_CUES, max_size=4), min_size=1, max_size=5),
       st.text(st.sampled_from(list("abAB .\\|*\0\n")), max_size=30))
def test_lowered_ascii_mode_answers_for_the_lower_cased_text(groups, text):
    """For ASCII text, ``lowered_ascii=True`` finds what a plain set finds in ``text.lower()``
    (cues with capitals or non-ASCII characters can occur in neither)."""
    assert CueSet(groups, lowered_ascii=True).found(text) == CueSet(groups).found(text.lower())
