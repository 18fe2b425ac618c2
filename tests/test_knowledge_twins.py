"""The knowledge extractor's lower-cased twins of its case-insensitive patterns find exactly the same spans.

``toolkit.knowledge.extract.lowered_twin`` speeds up IGNORECASE patterns by running a
case-sensitive copy on lower-cased ASCII text; these tests prove the copy equivalent on
generated text built from the words the patterns look for, in random casing.
"""

from __future__ import annotations

import importlib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.knowledge import extract as X

A = importlib.import_module("toolkit.knowledge.analyze")  # the package re-exports a function of that name

WORDS = [
    "we", "they", "it", "this", "that", "the", "plan", "don't", "do", "not", "never", "only", "offer", "ship", "refunds",
    "are", "is", "non-refundable", "free", "of", "charge", "you", "can", "your", "order", "has", "been", "shipped",
    "balance", "due", "jan", "january", "may", "june", "sept", "5th", "21st", "2024", "12/05", "2024-01-31", "on",
    "next", "monday", "fridays", "tomorrow", "tonight", "yesterday", "week", "promo", "codes", "available", "included",
    "coming", "soon", "fee", "is", "a", "$5", "30", "days", "hotel", "allows", "pets", "Avenue", "Main", "Street",
    "how", "much", "long", "when", "what", "time", "does", "open", "there", "my", "booking", "confirm", "right?",
    "which", "called", "where", "phone", "number", "link", "so", "and", "i'm", "is that correct", "can I return",
]
SEPARATORS = [" ", "  ", ", ", ". ", "! ", "? ", "\n", " - ", "'s "]

PATTERNS = [(X.DATE_RE, X.DATE_TWIN), (X.RELATIVE_DATE_RE, X._RELATIVE_DATE_TWIN), (X.ACCOUNT_RE, X._ACCOUNT_TWIN),
            (X.ACCOUNT_VALUE_RE, X._ACCOUNT_VALUE_TWIN)] + [(regex, twin) for (regex, _, _), twin in zip(X.POLICY_RES, X._POLICY_TWINS)]


# boolean searches in analyze_turn (through search_folded)
SEARCHED = [A.FACT_QUESTION_RE, A.YESNO_QUESTION_RE, A._ACCOUNT_TOPIC_RE, A.CONFIRM_RE] + [r for r, _ in A._ASKED_KINDS]


def test_every_hot_pattern_has_a_twin():
    assert all(X.lowered_twin(regex) is not None for regex in SEARCHED)
    assert all(twin is not None for _, twin in PATTERNS)


@st.composite
def texts(draw):
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    cases = draw(st.lists(st.sampled_from(["lower", "upper", "title"]), min_size=len(words), max_size=len(words)))
    return "".join(getattr(w, c)() + s for w, s, c in zip(words, seps, cases))


@settings(max_examples=300, deadline=None)
@given(texts())
def test_twins_find_the_same_spans(text):
    for regex, twin in PATTERNS:
        expected = [m.span() for m in regex.finditer(text)]
        assert [m.span() for m in twin.finditer(text.lower())] == expected, regex.pattern[:60]
        # and the extractor's iterator gives the original text's casing
        assert [(m.span(), m.group()) for m in X._twin_finditer(regex, twin, text, text.lower())] == \
               [(m.span(), m.group()) for m in regex.finditer(text)]
    for regex in SEARCHED:
        assert X.search_folded(regex, text) == (regex.search(text) is not None), regex.pattern[:60]


def test_no_twin_when_not_equivalent():
    assert X.lowered_twin(re.compile(r"(?P<x>A)", re.I)) is None  # named group
    assert X.lowered_twin(re.compile(r"\x41", re.I)) is None  # a character named by number
    assert X.lowered_twin(re.compile(r"a(?-i:B)", re.I)) is None  # a case-sensitive group
    assert X.lowered_twin(re.compile(r"abc")) is None  # not case-insensitive: nothing to gain
    twin = X.lowered_twin(re.compile(r"\bThe\s+[A-Z]\S", re.I))
    assert twin is not None and twin.pattern == r"\bthe\s+[a-z]\S"


def test_non_ascii_text_uses_the_original_pattern():
    # 'ſ' (long s) matches 's' under IGNORECASE: the extractor keeps the original pattern for such text
    text = "Refundſ are not possible"
    assert [m.span() for m in X._twin_finditer(X.POLICY_RES[1][0], X._POLICY_TWINS[1], text, None)] == \
           [m.span() for m in X.POLICY_RES[1][0].finditer(text)]
