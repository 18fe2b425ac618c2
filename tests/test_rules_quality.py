"""Q rules: empty replies, length outliers, loops, mojibake, languages, white space, Unicode, system prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.linter import lint


def ex(reply, user="Where is my order?", system=None, **meta) -> dict:
    messages = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append(reply if isinstance(reply, dict) else {"role": "assistant", "content": reply})
    record = {"messages": messages}
    if meta:
        record["metadata"] = meta
    return record


def found(records, select, **kwargs):
    return [(d.line, d.code, d.message) for d in lint(records, select=list(select), **kwargs)]


# --------------------------------------------------------------------------- Q001


def test_empty_and_near_empty_replies():
    records = [ex(""), ex("   "), ex("ok."), ex("..."), ex("Sure!"), ex("<EMAIL_1>")]
    diags = list(lint(records, select=["Q001"]))
    assert [(d.line, d.severity.value, d.message) for d in diags] == [
        (1, "error", "the assistant reply is empty"),
        (2, "error", "the assistant reply is only white space"),
        (3, "warning", "the assistant reply is near-empty: 'ok.'"),
        (4, "warning", "the assistant reply is near-empty: '...'"),
    ]


def test_tool_call_only_and_context_replies_are_fine():
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}
    assert found([ex(call), ex({"role": "assistant", "content": "", "weight": 0})], ["Q001"]) == []
    assert found([ex("ok")], ["Q001"], options={"Q001": {"min-chars": 2}}) == []
    assert [line for line, *_ in found([ex("Sure")], ["Q001"], options={"Q001": {"min-chars": 5}})] == [1]


# --------------------------------------------------------------------------- Q002


def _normal(n: int) -> dict:
    return ex(f"Order {n} left the warehouse today and should arrive within two to three working days.")


def test_length_outliers_beyond_max_reports_keep_the_most_extreme():
    """With more outliers than ``max-reports``, the most extreme ones on each side are reported (ties: the first)."""
    records = [_normal(n) for n in range(60)]
    long_lines = {5: 40, 12: 90, 30: 60, 44: 90}  # line index -> repeats of a long sentence
    for at, repeats in long_lines.items():
        records[at] = ex("Order shipped. " + "Full carrier scan history follows, entry by entry. " * repeats)
    for at in (3, 50, 51):
        records[at] = ex("Shipped.")
    diags = list(lint(records, select=["Q002"], options={"Q002": {"max-reports": 2}}))
    longer = [d.line for d in diags if "longer" in d.message]
    shorter = [d.line for d in diags if "shorter" in d.message]
    assert longer == [13, 45]  # the two with 90 repeats
    assert shorter == [4, 51]  # three equal "Shipped." replies: the first two kept


def test_length_outliers_on_both_sides():
    records = [_normal(n) for n in range(30)]
    records[7] = ex("Order 7 shipped. " + "Full carrier scan history follows, entry by entry. " * 60)
    records[20] = ex("Shipped, arrives Friday.")
    diags = list(lint(records, select=["Q002"]))
    assert [(d.line, d.code) for d in diags] == [(8, "Q002"), (21, "Q002")]
    assert "far longer than the dataset's typical" in diags[0].message
    assert "far shorter" in diags[1].message
    assert all(0 < d.score <= 1 for d in diags)
    only_long = list(lint(records, select=["Q002"], options={"Q002": {"direction": "long"}}))
    assert [d.line for d in only_long] == [8]


def test_length_outlier_needs_enough_examples():
    records = [_normal(n) for n in range(5)] + [ex("x" * 5000)]
    assert found(records, ["Q002"]) == []
    assert [line for line, *_ in found(records, ["Q002"], options={"Q002": {"min-examples": 5}})] == [6]


def test_length_outlier_bad_direction_option():
    from toolkit.linter.settings import LintConfigError

    with pytest.raises(LintConfigError, match="direction"):
        list(lint([_normal(1)], select=["Q002"], options={"Q002": {"direction": "sideways"}}))


# --------------------------------------------------------------------------- Q003


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks for waiting. " * 8,
        "I understand that. I understand that. I understand that. Let me check. I understand that.",
        "Great news hahahahahahahahahahaha, it shipped",
        "the the the the the the the the the the the the the the the the",
    ],
)
def test_repetition_detected(reply):
    (diag,) = lint([ex(reply)], select=["Q003"])
    assert diag.code == "Q003" and diag.message.startswith("the assistant reply repeats itself")
    assert 0 < diag.score <= 1


def test_natural_reply_is_not_repetition():
    reply = (
        "Your order left our warehouse today. The carrier usually delivers within two days, and you will get "
        "a tracking link by e-mail. If the parcel has not arrived by Friday, reply here and I will open a claim."
    )
    assert found([ex(reply)], ["Q003"]) == []


# --------------------------------------------------------------------------- Q004


def test_mojibake_found_and_fixed_safely(tmp_path: Path, cli_run):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(ex("We donâ€™t charge for returns â€“ itâ€™s free.", user="CafÃ© order?")) + "\n", encoding="utf-8")
    diags = list(lint(str(path), select=["Q004"]))
    assert [(d.line, d.pointer) for d in diags] == [(1, "/messages/0/content"), (1, "/messages/1/content")]
    assert diags[0].message == "mojibake in the user message: 'Ã©' should read 'é'"
    result = cli_run(["lint", "--isolated", "--select", "Q004", "--fix", str(path)])
    assert result.exit_code == 0, result.output
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["messages"][0]["content"] == "Café order?"
    assert record["messages"][1]["content"] == "We don’t charge for returns – it’s free."


def test_accents_are_not_mojibake():
    assert found([ex("Voilà, votre commande part aujourd’hui — merci, Zoë!", user="Où est ma commande ?")], ["Q004"]) == []


# --------------------------------------------------------------------------- Q005

ES_USER = "Hola, quiero devolver las zapatillas que compré la semana pasada porque me quedan pequeñas."
ES_REPLY = "¡Claro! Puedes devolverlas gratis durante 30 días desde la sección Pedidos de tu cuenta."
EN_REPLY = "Of course! You can return them for free within 30 days from the Orders page of your account."


def test_reply_language_differs_from_customer():
    (diag,) = lint([ex(EN_REPLY, user=ES_USER)], select=["Q005"])
    assert diag.message.startswith("the assistant reply is in 'en'") and "the customer's message is in 'es'" in diag.message
    assert found([ex(ES_REPLY, user=ES_USER)], ["Q005"]) == []


def test_metadata_language_wins_and_allowed_pairs():
    assert [c for _, c, _ in found([ex(EN_REPLY, user="Hi there", language="es-MX")], ["Q005"])] == ["Q005"]
    assert found([ex(EN_REPLY, user=ES_USER)], ["Q005"], options={"Q005": {"allowed-pairs": ["es/en"]}}) == []


def test_short_messages_are_not_judged():
    assert found([ex("Sure, done!", user="Hola, gracias")], ["Q005"]) == []


# --------------------------------------------------------------------------- Q006 / Q007


def test_whitespace_reported_and_fixed(tmp_path: Path, cli_run):
    path = tmp_path / "w.jsonl"
    record = ex("\n Yes, we ship to Canada.  \r\n\n\n\nDelivery takes a week. ", user="  Do you ship to Canada?")
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    messages = [m for _, _, m in found(str(path), ["Q006"])]
    assert messages == [
        "the user message has leading or trailing white space",
        "the assistant message has leading or trailing white space, carriage returns, trailing spaces on lines, runs of blank lines",
    ]
    assert cli_run(["lint", "--isolated", "--select", "Q006", "--fix", str(path)]).exit_code == 0
    fixed = json.loads(path.read_text(encoding="utf-8"))
    assert fixed["messages"][0]["content"] == "Do you ship to Canada?"
    assert fixed["messages"][1]["content"] == "Yes, we ship to Canada.\n\nDelivery takes a week."


def test_unicode_normalization_reported_and_fixed(tmp_path: Path, cli_run):
    decomposed = "Cafe\u0301"  # e + combining acute
    path = tmp_path / "u.jsonl"
    path.write_text(json.dumps(ex(f"{decomposed} opens at 9.\u200b\u00ad", user="When? \ufffd")) + "\n", encoding="utf-8")
    diags = list(lint(str(path), select=["Q007"]))
    assert [d.message for d in diags] == [
        "the user message is 1 invisible or control character(s): replacement character (data already lost)",
        "the assistant message is not NFC-normalised; 2 invisible or control character(s): soft hyphen, zero-width space",
    ]
    assert diags[0].fixable is False and diags[1].fixable is True
    cli_run(["lint", "--isolated", "--select", "Q007", "--fix", str(path)])
    fixed = json.loads(path.read_text(encoding="utf-8"))
    assert fixed["messages"][1]["content"] == "Caf\u00e9 opens at 9."
    assert fixed["messages"][0]["content"] == "When? \ufffd"


def test_emoji_joiners_are_not_invisible_noise():
    assert found([ex("Welcome to the family 👨\u200d👩\u200d👧!")], ["Q007"]) == []


# --------------------------------------------------------------------------- Q008


def test_system_prompt_variants_reported_at_their_first_example():
    main = "You are Acme's friendly support assistant."
    records = [ex("Sure.", system=main), ex("Done.", system=main), ex("Yes.", system="You are a pirate."),
               ex("Ok then, done."), ex("Yes, done.", system=main), ex("Arr, done.", system="You are a pirate.")]
    diags = list(lint(records, select=["Q008"]))
    assert [(d.line, d.pointer) for d in diags] == [(3, "/messages/0/content"), (4, "/messages")]
    assert diags[0].message == (
        "system prompt 'You are a pirate.' is used by 2 of 6 examples; the most common, "
        "\"You are Acme's friendly support assistant.\" (line 1), by 3 (3 variants in all)"
    )
    assert diags[1].message.startswith("no system prompt is used by 1 of 6 examples")
    assert found(records, ["Q008"], options={"Q008": {"max-variants": 3}}) == []


def test_one_prompt_with_spacing_differences_is_one_variant():
    records = [ex("Sure.", system="Be brief."), ex("Done.", system="be  brief")]
    assert found(records, ["Q008"]) == []


# --------------------------------------------------------------------------- robustness (all D/P/Q/A/V rules)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["", "  ", "ok", "Hi! <think>x</think> a@b.co 4111 1111 1111 1111", "Best regards,\nAnna", "## H\n- a\n- b", "Ã©tÃ©"]
)
_CONTENT = (
    _TEXT
    | st.none()
    | st.integers()
    | st.lists(st.one_of(st.fixed_dictionaries({"type": st.just("text"), "text": _TEXT}), st.integers(), st.text(max_size=5)), max_size=3)
)
_MESSAGE = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool", "developer", "bot", 3]), "content": _CONTENT},
        optional={"weight": st.sampled_from([0, 1, "1", None]), "tool_calls": st.sampled_from([[], None, "x", [{"id": 1}]])},
    ),
    st.integers(),
    st.text(max_size=5),
)
_RECORD = st.fixed_dictionaries(
    {"messages": st.one_of(st.lists(_MESSAGE, max_size=5), st.none(), st.text(max_size=3))},
    optional={"metadata": st.one_of(st.none(), st.fixed_dictionaries({}, optional={"language": st.one_of(st.text(max_size=5), st.integers()), "id": st.text(max_size=4)}))},
)
_SPEC = {
    "reply-schema": {"type": "object"}, "required-phrases": ["thanks"], "banned-phrases": ["sorry"], "max-chars": 40,
    "greeting": "required", "sign-off": "forbidden", "markdown": [],
}


@given(st.lists(_RECORD, min_size=1, max_size=12))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_no_record_crashes_any_rule(records):
    options = {code: {"min-examples": 1} for code in ("Q002", "V008", "V009", "V010")}
    options["Q005"] = {"min-letters": 1, "min-confidence": 0.0}
    diagnostics = list(
        lint(records, select=["D001", "D002", "D003", "P", "Q", "A", "V"], behavior=_SPEC, options=options)
    )
    assert all(d.line and 1 <= d.line <= len(records) for d in diagnostics)


@given(st.lists(st.sampled_from(["ha", "Ha", "HA", "hahahahahahahahaha", "NoNoNoNoNoNoNoNoNo", "xxxxxxxx", "remember",
                                 "abcabcabcabcabcabcabcabc", "ab", " ", ".", "-", "'", "9", "é", "mmmmmmmmwhat"]), max_size=12))
@settings(max_examples=400, deadline=None)
def test_the_loop_precheck_never_hides_a_loop(pieces):
    from toolkit.linter.rules.quality import _PUNCT_TO_SPACE, _char_loop, _has_loop_suspect

    text = "".join(pieces)
    words = text.lower().translate(_PUNCT_TO_SPACE).split()
    if _char_loop(text) is not None:
        assert _has_loop_suspect(words)


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=30), min_size=1, max_size=4), st.booleans())
@settings(max_examples=300, deadline=None)
def test_repetition_words_shared_with_the_duplicate_rules_are_its_own(texts, accent):
    from toolkit.linter.rule import ExampleContext
    from toolkit.linter.rules.quality import _PUNCT_TO_SPACE, _repetition_words

    if accent:
        texts = [*texts, "café"]
    ctx = ExampleContext({"messages": [{"role": "assistant", "content": t} for t in texts]})
    for index, text in enumerate(ctx.texts):
        words, shared = _repetition_words(ctx, index, text)
        if shared:  # the duplicate rules' words, as ASCII bytes
            assert all(isinstance(w, bytes) for w in words)
            words = [w.decode("ascii") for w in words]
        assert words == text.lower().translate(_PUNCT_TO_SPACE).split()


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=12)
                | st.sampled_from(["hahahahahaha", "pleaseeeeeeee", "abcabcabcabcabcabcabcabc", "xxxxxxxx", "remember",
                                   "mmmmmmmmwhat", "abababababababa_"]), max_size=8))
@settings(max_examples=300, deadline=None)
def test_loop_precheck_on_bytes_words_is_the_str_answer(words):
    """Q003 takes shared words as ASCII bytes: the loop pre-check answers as on the same words as str."""
    from toolkit.linter.rules import quality

    words = [w.lower() for w in words]
    for word in words:
        assert quality._may_hold_loop(word.encode("ascii")) == quality._may_hold_loop(word)
    as_bytes = quality._has_loop_suspect([w.encode("ascii") for w in words])
    assert as_bytes == quality._has_loop_suspect(words)
    assert as_bytes == any(quality._may_hold_loop(w) for w in words)
    assert quality._has_loop_suspect([w.encode("ascii") for w in words]) == as_bytes  # now from the caches
    if len(words) > 2:
        assert quality._repeated_share([w.encode("ascii") for w in words], 2) == quality._repeated_share(words, 2)


_REPLY_PIECES = st.sampled_from(["I can help.", "I can help you with that.", "Thanks", "order 42", "hahahahahahahaha",
                                 "Yes!", "the", "refund", "your order", "\n", "qqqqwwwwqqqqwwww", "ok ok ok",
                                 "Pleaseeeeeeeeee", "xyzwhahahahahahahahaha", "Thanksssssssss!", "HaHaHaHaHaHaHaHa",
                                 "caféééééééééé"])


@given(st.lists(st.lists(_REPLY_PIECES, max_size=40).map(" ".join), min_size=1, max_size=3),
       st.sampled_from([{}, {"threshold": 0.1}, {"ngram": 1}, {"ngram": 2, "min-words": 3}, {"threshold": 0.0}]))
@settings(max_examples=200, deadline=None)
def test_repetition_share_bound_gives_the_exact_findings(replies, options):
    """Q003 settles most replies with a hashed upper bound of the share and skips the character-loop
    search where no word can hold a loop: the same findings as counting and searching exactly."""
    from unittest import mock

    from toolkit.dedup import word_hash_bytes
    from toolkit.linter.rule import ExampleContext
    from toolkit.linter.rules import quality

    record = {"messages": [m for reply in replies for m in ({"role": "user", "content": "Hi"}, {"role": "assistant", "content": reply})]}
    rule = quality.Repetition(options)
    fast = [f.__dict__ for f in rule.check(ExampleContext(record))]
    with mock.patch.object(quality, "_repeated_share_bounds", lambda hashes, size: [1.0] * len(hashes)), \
         mock.patch.object(quality, "_has_loop_suspect", lambda words: True):
        exact = [f.__dict__ for f in rule.check(ExampleContext(record))]
    assert fast == exact
    for reply in replies:
        words = reply.lower().translate(quality._PUNCT_TO_SPACE).split()
        size = options.get("ngram", 3)
        if len(words) > size:
            assert quality._repeated_share_bounds([word_hash_bytes(words)], size)[0] >= quality._repeated_share(words, size) - 1e-12


def _one_reply_bound(word_hashes: bytes, size: int) -> float:
    """The n-gram share bound of one text, computed on its own (what the batched bounds must equal)."""
    import numpy as np

    from toolkit.linter.rules.quality import _NGRAM_MUL

    hashes = np.frombuffer(word_hashes, dtype="<u8")
    count = hashes.size - size + 1
    keys = hashes[:count].copy()
    for k in range(1, size):  # uint64 arithmetic wraps silently
        keys *= _NGRAM_MUL
        keys += hashes[k : k + count]
    keys.sort()
    return 1.0 - (int(np.count_nonzero(keys[1:] != keys[:-1])) + 1) / count


@given(st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=30), max_size=5), st.integers(1, 4),
       st.sampled_from([0, 1, 2**63, 2**64 - 1]))
@settings(max_examples=400, deadline=None)
def test_batched_share_bounds_are_the_one_by_one_bounds(texts, size, base):
    """Q003 bounds all the replies of an example in one numpy pass: the same floats as one reply at a time."""
    import numpy as np

    from toolkit.linter.rules import quality

    # few distinct word hashes (many repeats), sometimes near the wrap-around of uint64
    texts = [t for t in texts if len(t) > size]
    hashes = [np.array([(base + 0x9E3779B97F4A7C15 * w) % 2**64 for w in t], dtype="<u8").tobytes() for t in texts]
    assert quality._repeated_share_bounds(hashes, size) == [_one_reply_bound(h, size) for h in hashes]
    for text, bound in zip(texts, quality._repeated_share_bounds(hashes, size)):
        assert bound >= quality._repeated_share(text, size) - 1e-12


_LOOP_WORDS = st.sampled_from(["remember", "hahahahahaha", "Pleaseeeeeeeee", "ok", "caféééééééééé", "übernächste",
                               "abcabcabcabcabcabcabcabc", "x" * 8, "naïve", "tracking", "l'été", "9999999999"])


@given(st.lists(st.lists(_LOOP_WORDS, max_size=8), max_size=6))
@settings(max_examples=300, deadline=None)
def test_loop_suspect_sets_answer_like_testing_every_word(word_lists):
    """The known loop-free and suspect words, kept across calls, never change the answer."""
    from toolkit.linter.rules.quality import _has_loop_suspect, _may_hold_loop

    for words in word_lists:
        assert _has_loop_suspect(words) == any(map(_may_hold_loop, words))


@given(st.text(alphabet=st.sampled_from(list("aZ9 .,!?'$%&+=@\\^\t\n\r\x00\x1f\x7fé\u200b-_<>")), max_size=30))
@settings(max_examples=400, deadline=None)
def test_shared_words_test_is_clean_ascii_without_q003_only_characters(text):
    from toolkit.linter.rules.quality import _INVISIBLE, _KEPT_BY_Q003, _shares_duplicate_words

    clean_ascii = text.isascii() and not _INVISIBLE.search(text)
    assert _shares_duplicate_words(text) == (clean_ascii and not any(c in text for c in _KEPT_BY_Q003))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 7, 7, 7, 40, 41, 300, 10**6]) | st.integers(0, 10**7), min_size=1, max_size=60))
def test_length_outlier_figures_are_the_statistics_modules(lengths):
    """Q002's median and spread, computed with numpy, equal the statistics module's to the last bit."""
    import array
    import math
    import statistics

    from toolkit.linter.rules.quality import _median_and_spread

    values = array.array("d", [math.log1p(n) for n in lengths])
    ordered = sorted(values)
    median = statistics.median(ordered)
    spread = statistics.median(abs(v - median) for v in ordered)
    if spread <= 0:
        spread = statistics.fmean(abs(v - median) for v in ordered)
    assert _median_and_spread(values) == (median, spread)
