"""The knowledge extractor's fast paths find exactly what the plain patterns and walks find.

The RE2 gate before the lowered-twin patterns, the hyphen-free number-word scan, the walk over
capitalised words and the cheap pre-tests before costly patterns are speed-ups only: these
tests compare each with the straightforward computation on generated text.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.knowledge import extract as X

WORDS = [
    "we", "they", "them", "there", "it", "its", "this", "that", "the", "plan", "Plan", "don't", "doesn't", "do", "does",
    "not", "never", "only", "no", "non-refundable", "nonrefundable", "offer", "offers", "ship", "refunds", "are", "is",
    "isn't", "will", "won't", "be", "free", "of", "charge", "you", "you'll", "customers", "members", "membership", "can",
    "your", "order", "has", "been", "shipped", "balance", "due", "total", "on", "next", "monday", "Fridays", "today",
    "tomorrow", "promo", "codes", "coupon", "price", "prices", "expire", "available", "included", "coming", "fee",
    "fees", "payment", "hold", "a", "an", "one", "two", "twenty", "twenty-four", "one-way", "dozen", "once", "five",
    "3", "30", "24/7", "days", "hours", "wi-fi", "breakfast", "pets", "allowed", "warranty", "covers", "open", "daily",
    "Blue", "Bottle", "Bank", "of", "America", "de", "la", "Kiku", "McDonald", "e.g.Foo", "x_Bar", "3Com", "naïve",
    "Café", "A", "I'm", "Settings", "Save", "button", "click", "the", "open", "under", "from", '"Edit"', "‘Billing’",
    "*Pay*", "`x`", "$5", "USD 12", "10 dollars", "5%", "3 percent", "4.5 stars", "4/5", "rated 4", "V1.2", "version 3",
    "1.2.3", "Gate", "B12", "aisle 4", "ages 4 to 9", "7:30", "PM", "noon", "555-1234", "(555) 123-4567", "+44", "1-800",
    "FLOWERS", "Acme.COM/help", "WWW.x.io", "do you", "Are they", "also", "but", "is the pool", "open?", "?", "help?", "how much", "What", "is it", "tell me", "my", "our", "code", "SAVE20", "promo", "Page", "tab", "Twelve", "hundred", "x.com/a", "@", "ten-", "(Foo", "x;  Bar", "ELEVEN", "acme.com", "www.x", "x.io", "https://a", "é", "_", "İ",
    # durations, counts and what comes before a count
    "up to", "at least", "no more than", "found", "see", "we have", "options", "results", "seats", "guests",
    "flights", "minutes", "weeks", "business", "to", "or", "forty", "forty-two", "sixty-five", "2-3", "10.5",
]
SEPARATORS = [" ", " ", " ", "  ", ", ", ". ", "! ", "? ", "\n", "\t", ".\n\n", "?! ", '." ', ".) ", "...", "\n- ", " - ", "-", "'s ", "'", "/", "(", ") ", "_", ""]


@st.composite
def texts(draw):
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    cases = draw(st.lists(st.sampled_from(["lower", "lower", "upper", "title"]), min_size=len(words), max_size=len(words)))
    return "".join(getattr(w, c)() + s for w, s, c in zip(words, seps, cases))


def _slow_number_starts(text: str) -> list[int]:
    found = [m.start() for m in re.finditer(r"(?<![\w.,])\d", text)]
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for m in X._LOWER_WORD.finditer(lowered):
        word = m.group()
        if (word in X._NUMBER_WORD_SET or word in ("a", "an")) and (m.start() == 0 or not lowered[m.start() - 1].isalnum()):
            found.append(m.start())
    return sorted(found)


def _slow_sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in X._SENTENCE_END.finditer(text):
        if match.start() > start:
            bounds.append((start, match.start()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds or [(0, len(text))]


def _slow_capitalised_runs(text: str) -> list[list[tuple[int, int, str]]]:
    words = [(m.start(), m.end(), m.group()) for m in X._WORD_RE.finditer(text)]
    runs, i = [], 0
    while i < len(words):
        if not words[i][2][0].isupper():
            i += 1
            continue
        j, group = i, [words[i]]
        while j + 1 < len(words):
            ns, ne, nw = words[j + 1]
            if text[group[-1][1]:ns] not in X._NAME_GAPS:
                break
            if nw[0].isupper():
                group.append(words[j + 1])
                j += 1
            elif nw.lower() in X._NAME_CONNECTORS and j + 2 < len(words) and words[j + 2][2][0].isupper() \
                    and text[ne:words[j + 2][0]] == " ":
                group += [words[j + 1], words[j + 2]]
                j += 2
            else:
                break
        runs.append(group)
        i = j + 1
    return runs


class _EverythingPossible:
    """A stand-in for a PatternGate that rules nothing out (so every pattern runs in full)."""

    def __init__(self, gate) -> None:
        self.everything = frozenset(range(len(gate.patterns)))

    def possible(self, text: str) -> frozenset[int]:
        return self.everything


@settings(max_examples=400, deadline=None)
@given(texts())
def test_lowered_gate_never_rules_out_a_match(text):
    lowered = text.lower()
    if not text.isascii():
        return
    possible = X._LOWERED_GATE.possible(lowered)
    for k, pattern in enumerate(X._LOWERED_GATE.patterns):
        if pattern.search(lowered):
            assert k in possible, pattern.pattern[:60]
    # the case-sensitive patterns asked about without case, and the windows the count loop searches
    if X.PROMO_RE.search(text):
        assert X._Can.PROMO in possible
    if X.UI_NOUN_AFTER_RE.search(text):
        assert X._Can.UI_NOUN in possible
    # what the duration and count loops find at the number starts (counts: not at "a" / "an")
    for p in X._number_starts(text):
        if X._DURATION_AT.match(text, p):
            assert X._Can.DURATION in possible
        if not X._is_number(X._NUM_AT.match(text, p).group(), allow_article=False):
            continue
        if X._LIMIT_BEFORE.search(text, max(0, p - 32), p):
            assert X._Can.LIMIT_BEFORE in possible
        if X._FOUND_BEFORE.search(text, max(0, p - 32), p):
            assert X._Can.FOUND_BEFORE in possible
        if X._COUNT_AT.match(text, p):
            assert X._Can.COUNT in possible


@settings(max_examples=300, deadline=None)
@given(texts())
def test_extraction_behind_the_gate_equals_running_every_pattern(text):
    import pytest

    gated = [(s.start, s.end, s.kind, s.value, s.score, s.reason) for s in X.extract_spans(text)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(X, "_LOWERED_GATE", _EverythingPossible(X._LOWERED_GATE))
        full = [(s.start, s.end, s.kind, s.value, s.score, s.reason) for s in X.extract_spans(text)]
    assert gated == full


@settings(max_examples=400, deadline=None)
@given(texts())
def test_number_starts_and_capitalised_runs(text):
    assert X._number_starts(text) == _slow_number_starts(text)
    assert X._sentences(text) == _slow_sentences(text)
    runs = _slow_capitalised_runs(text)
    assert list(X._capitalised_runs(text)) == runs
    starts = {a for a, _ in X._sentences(text)} | {m.start() for m in list(re.finditer(r"[A-Z]", text))[::2]}
    # skip_single may leave out one-word runs at those offsets (the caller drops the rest itself)
    kept = [g for g in X._capitalised_runs(text, starts) if not (len(g) == 1 and g[0][0] in starts)]
    assert kept == [g for g in runs if not (len(g) == 1 and g[0][0] in starts)]


@settings(max_examples=400, deadline=None)
@given(texts())
def test_pre_tests_never_skip_a_match(text):
    lowered = text.lower()
    assert X.has_digit(text) == (re.search(r"\d", text) is not None)
    # a pre-test may only narrow the one it replaced (exact results), and only skip text the pattern cannot match
    url_before = "." in text
    if X._may_hold_url(text, lowered):
        assert url_before
    elif url_before:
        assert X.URL_RE.search(text) is None
    date_before = X.has_digit(text) or any(hint in lowered for hint in X._DATE_HINT)
    if X.has_digit(text) or X._may_name_weekday(text, lowered):
        assert date_before
    else:
        assert X.DATE_RE.search(text) is None
    assert X._has_unit_hint(text, lowered) == (X._UNIT_HINT.search(text) is not None)
    if X.UI_ELEMENT_RE.search(text):
        assert X._may_name_ui_element(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts(), min_size=1, max_size=4))
def test_context_word_set_is_the_union_of_each_source(sources):
    from toolkit.knowledge.analyze import Context, content_word_set, content_words

    ctx = Context([(name, text) for name, text in zip(["system prompt", "user", "tool result", "user"], sources)])
    expected = set().union(*(content_words(text) for _, text in ctx.sources)) if ctx.sources else set()
    assert ctx.all_words == expected
    assert all(content_word_set(text) == set(content_words(text)) for text in sources)


@settings(max_examples=400, deadline=None)
@given(texts())
def test_value_hint_is_the_pattern(text):
    from toolkit.linter.rules.knowledge import _VALUE_HINT, _value_hint

    assert _value_hint(text) == (_VALUE_HINT.search(text) is not None)
    assert _value_hint(text.replace(" ", "  ")) == (_VALUE_HINT.search(text.replace(" ", "  ")) is not None)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40) | texts())
def test_normalize_phrase_ascii_path(text):
    from toolkit.knowledge.normalize import fold, normalize_phrase

    assert normalize_phrase(text) == re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", fold(text))).strip()


@settings(max_examples=400, deadline=None)
@given(texts())
def test_question_patterns_behind_their_gate(text):
    import importlib

    A = importlib.import_module("toolkit.knowledge.analyze")
    lowered = text.lower()
    if not text.isascii():
        return
    assert A._asks_yes_no(text, lowered) == (A.YESNO_QUESTION_RE.search(text) is not None)
    possible = A._QUESTION_GATE.possible(lowered)
    if A.FACT_QUESTION_RE.search(text):
        assert A._CAN_ASK_FACT in possible and A._FACT_QUESTION_TWIN.search(lowered)
    if A._ACCOUNT_TOPIC_RE.search(text):
        assert A._CAN_NAME_ACCOUNT in possible and A._ACCOUNT_TOPIC_TWIN.search(lowered)
    if A.YESNO_QUESTION_RE.search(text):
        assert A._CAN_ASK_YES_NO in possible


@settings(max_examples=300, deadline=None)
@given(texts())
def test_content_word_set_learns_new_tokens(text):
    """content_word_set on tokens it has not seen (cleared stem tables) is the set of the pattern's stems."""
    import importlib

    A = importlib.import_module("toolkit.knowledge.analyze")
    expected = {A._stem(w) for w in A._TOKEN_RE.findall(text.lower()) if len(w) >= 3 and w not in A._STOP}
    A._CONTENT_STEM.clear()
    A._CONTENT_STEM_BYTES.clear()
    assert A.content_word_set(text) == expected
    assert A.content_word_set(text) == expected  # and again, from the tables


@settings(max_examples=400, deadline=None)
@given(texts())
def test_content_words_are_the_pattern_tokens(text):
    import importlib

    A = importlib.import_module("toolkit.knowledge.analyze")
    expected = [A._stem(w) for w in A._TOKEN_RE.findall(text.lower()) if len(w) >= 3 and w not in A._STOP]
    assert A.content_words(text) == expected
    assert A.content_words(text.replace("'", " ").replace("-", " ")) == \
        [A._stem(w) for w in A._TOKEN_RE.findall(text.replace("'", " ").replace("-", " ").lower())
         if len(w) >= 3 and w not in A._STOP]
    assert X.search_folded(X.VOLATILE_RE, text) == (X.VOLATILE_RE.search(text) is not None)


@settings(max_examples=400, deadline=None)
@given(texts())
def test_value_twins_and_phone_pre_test(text):
    if X.PHONE_RE.search(text):
        assert X._may_hold_phone(text)
    if not text.isascii():
        return
    lowered = text.lower()
    for regex, twin in ((X.URL_RE, X._URL_TWIN), (X.VERSION_RE, X._VERSION_TWIN), (X.MONEY_RE, X._MONEY_TWIN),
                        (X.PERCENT_RE, X._PERCENT_TWIN), (X.TIME_RE, X._TIME_TWIN), (X.RATING_RE, X._RATING_TWIN)):
        assert [m.span() for m in twin.finditer(lowered)] == [m.span() for m in regex.finditer(text)], regex.pattern[:50]
    labeled = X._twin_matches(X._LABELED_TWIN, text, lowered)
    assert [m.span() for m in labeled] == [m.span() for m in X.LABELED_NUMBER_RE.finditer(text)]


NUMBER_TEXT_WORDS = WORDS + ["twenty one", "twenty-one", "half a dozen", "a dozen", "seventeen", "seventy", "seven",
                             "thirty-five", "fifteen", "hundreds", "thousand", "million", "twice", "onee", "tenth"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(NUMBER_TEXT_WORDS), min_size=1, max_size=30),
       st.lists(st.sampled_from(SEPARATORS), min_size=30, max_size=30))
def test_number_word_trie_matches_the_flat_alternation(words, seps):
    """numbers_in's number-word pattern (a trie) finds what the flat longest-first alternation found."""
    from toolkit.knowledge import normalize as N

    flat = re.compile(r"\b(?:" + N.NUMBER_WORD_PATTERN + r"|a dozen|half a dozen|dozen|twice|once)\b")
    text = "".join(w + s for w, s in zip(words, seps)).casefold()
    assert [m.span() for m in N._NUMBER_WORD_RE.finditer(text)] == [m.span() for m in flat.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(texts())
def test_re2_twins_find_what_python_finds(text):
    if not text.isascii():
        return
    lowered = text.lower()
    assert any(fast is not None for fast in X._RE2_TWINS.values())
    for twin, fast in X._RE2_TWINS.items():
        if fast is not None:
            assert [m.span() for m in fast.finditer(lowered.encode())] == [m.span() for m in twin.finditer(lowered)], \
                twin.pattern[:60]


def test_gate_keeps_promo_codes_and_named_ui_nouns():
    """Texts the case-sensitive PROMO_RE and UI_NOUN_AFTER_RE match: the gate lets them through
    (in any case) and the extraction equals the one with every pattern run."""
    import pytest

    texts = ["Use promo code SAVE20 at checkout.", "Apply the coupon WELCOME10 today.", "Voucher code: spring2024x",
             "Click the Billing Settings tab.", 'Open the "Order history" page and pick the order.',
             "CLICK THE SAVE BUTTON."]
    for text in texts:
        possible = X._LOWERED_GATE.possible(text.lower())
        if X.PROMO_RE.search(text):
            assert X._Can.PROMO in possible, text
        if X.UI_NOUN_AFTER_RE.search(text):
            assert X._Can.UI_NOUN in possible, text
        gated = [(s.start, s.end, s.kind, s.value) for s in X.extract_spans(text)]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(X, "_LOWERED_GATE", _EverythingPossible(X._LOWERED_GATE))
            assert [(s.start, s.end, s.kind, s.value) for s in X.extract_spans(text)] == gated, text
    assert sum(bool(X.PROMO_RE.search(t)) for t in texts) >= 3
    assert sum(bool(X.UI_NOUN_AFTER_RE.search(t)) for t in texts) >= 2
