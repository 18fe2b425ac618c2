"""D001-D003: exact duplicates, near-duplicates, one prompt with conflicting answers."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.linter import lint


def ex(user: str, reply: str, system: str | None = None, **meta) -> dict:
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    record = {"messages": messages}
    if meta:
        record["metadata"] = meta
    return record


def found(records, select, **kwargs):
    return [(d.line, d.code, d.message) for d in lint(records, select=list(select), **kwargs)]


RESET = ex("How do I reset my password?", "Click Forgot password on the sign-in page and follow the e-mail.")
EMAIL = ex("How do I change my e-mail?", "Open Settings, then Account, and edit the address there.")
REFUND_A = ex(
    "My order arrived with a cracked screen protector, can I get a replacement sent out?",
    "I am sorry it arrived cracked! A free replacement ships today; you do not need to send the old one back. "
    "You will receive the tracking link by e-mail once the parcel has left the warehouse.",
)
REFUND_B = ex(
    "My order arrived with a cracked screen protector, can I get a replacement sent out?",
    "I am so sorry it arrived cracked! A free replacement ships today; you do not need to send the old one back. "
    "You will receive the tracking link by e-mail once the parcel has left the warehouse.",
)


def test_exact_duplicates_up_to_case_and_punctuation():
    shouty = ex("HOW DO I RESET MY PASSWORD", "click forgot password on the sign in page and follow the e mail")
    records = [RESET, EMAIL, RESET, shouty, RESET]
    assert found(records, ["D001"]) == [
        (3, "D001", "exact duplicate of the example at line 1"),
        (4, "D001", "exact duplicate of the example at line 1 (copy 3)"),
        (5, "D001", "exact duplicate of the example at line 1 (copy 4)"),
    ]


def test_metadata_and_system_prompt_do_not_make_examples_different_by_default():
    records = [ex("Hi, where is my parcel?", "Let me check.", id="a"), ex("Hi, where is my parcel?", "Let me check.", "Be brief.", id="b")]
    assert [line for line, *_ in found(records, ["D001"])] == [2]
    assert found(records, ["D001"], options={"D001": {"roles": ["system", "user", "assistant"]}}) == []


def test_drop_duplicates_with_unsafe_fix(tmp_path: Path, cli_run):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [RESET, EMAIL, RESET, RESET]), encoding="utf-8")
    result = cli_run(["lint", "--isolated", "--select", "D001", "--fix", "--unsafe-fixes", str(path)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [RESET, EMAIL]


def test_near_duplicates_and_threshold():
    records = [REFUND_A, EMAIL, REFUND_B]
    (diag,) = lint(records, select=["D002"])
    assert diag.line == 3 and diag.message.startswith("near-duplicate of the example at line 1 (estimated similarity 0.")
    assert 0.85 <= diag.score < 1.0
    assert diag.to_dict()["duplicate_of"] == {"file": "<input>", "line": 1}
    assert found(records, ["D002"], options={"D002": {"threshold": 0.99}}) == []


def test_near_duplicates_skip_exact_copies_and_short_examples():
    short = [ex("Hi", "Hello! How can I help?"), ex("Hey", "Hello! How can I help?")]
    assert found(short, ["D002"]) == []
    assert found([REFUND_A, REFUND_A], ["D002"]) == []  # exact copies are D001's


def test_near_duplicates_across_batches_are_found_in_order():
    filler = [ex(f"Question number {n} about topic {n * 7}", f"Answer {n}: item {n * 13} is in aisle {n % 9}.") for n in range(600)]
    records = [REFUND_A, *filler, REFUND_B]
    assert [(line, code) for line, code, _ in found(records, ["D002"])] == [(602, "D002")]


def test_conflicting_answers():
    q = "Can I return an item after 30 days?"
    records = [
        ex(q, "No, returns are only possible within 30 days."),
        ex(q, "No, returns are only possible within 30 days."),  # same answer: D001's business
        ex(q, "Yes, any time."),
        ex("thanks!", "You're welcome!"),
        ex("thanks!", "Happy to help!"),  # short prompt: varied answers are normal
        ex(q, "Yes, any time.", system="You are a lenient bot."),  # another system prompt: another prompt
    ]
    assert found(records, ["D003"]) == [
        (3, "D003", "same prompt as the example at line 1 but a different answer: 'Yes, any time.' vs "
                    "'No, returns are only possible within 30 days.'"),
    ]
    assert [line for line, *_ in found(records, ["D003"], options={"D003": {"include-system": False}})] == [3, 6]


def test_short_questions_stay_short_behind_a_long_system_prompt():
    system = "You are the friendly and precise support assistant of Acme, answer in two sentences at most."
    records = [ex("thanks!", "You're welcome!", system=system), ex("thanks!", "Happy to help!", system=system)]
    assert found(records, ["D003"]) == []


def test_conflict_points_at_the_final_reply_of_multi_turn_examples():
    record = {"messages": [
        {"role": "user", "content": "I want to cancel my yearly plan today"},
        {"role": "assistant", "content": "Sorry to see you go. May I ask why?"},
        {"role": "user", "content": "Too expensive for me"},
        {"role": "assistant", "content": "I have cancelled it."},
    ]}
    other = json.loads(json.dumps(record))
    other["messages"][3]["content"] = "How about 50% off for three months instead?"
    (diag,) = lint([record, other], select=["D003"])
    assert diag.pointer == "/messages/3/content" and diag.line == 2


def test_ascii_and_unicode_spellings_of_one_text_are_one_key():
    """D001 and D003 key ASCII examples by their per-message word hashes and others by normalising the
    whole text: a text and its full-width / ligature spelling still meet."""
    plain = ex("Where is the file for order 1182?", "It is attached to the confirmation e-mail.")
    fancy = ex("Where is the ﬁle for ＯＲＤＥＲ 1182?", "It is attached to the confirmation e-mail.")
    other = ex("Where is the ﬁle for ＯＲＤＥＲ 1182?", "Please ask the warehouse, they keep it.")
    assert [(line, code) for line, code, _ in found([plain, fancy, other], ["D001", "D003"])] == [(2, "D001"), (3, "D003")]


_PIECES = st.sampled_from(["Hello", "there", "ﬁle", "Ｆile", "café", "CAFÉ", "a.b", "x", "  ", "\n", "—", "it's", "<b>", "42"])


@given(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant", "tool"]), st.lists(_PIECES, max_size=6).map(" ".join)),
                min_size=1, max_size=5), st.booleans())
@settings(max_examples=300, deadline=None)
def test_conflict_keys_are_the_keys_of_the_normalised_prompt_and_answer(messages, include_system):
    """D003's keys, from the shared per-message hashes or by normalising the whole, are those of the
    normalised prompt and answer texts."""
    from toolkit.dedup import normalize_text, word_hash_bytes
    from toolkit.linter.rule import ExampleContext
    from toolkit.linter.rules.duplicates import ConflictingAnswers, _key

    messages = [*messages, ("user", "one two three four"), ("assistant", "the answer.")]
    record = {"messages": [{"role": role, "content": text} for role, text in messages]}
    prepared = ConflictingAnswers({"include-system": include_system}).prepare(ExampleContext(record))
    roles = {"user", "assistant", "tool"} | ({"system"} if include_system else set())
    prompt = normalize_text("\n".join(f"<{role}> {text}" for role, text in messages[:-1] if role in roles))
    assert prepared is not None
    assert prepared[:2] == (_key(word_hash_bytes(prompt.split())), _key(word_hash_bytes(["the", "answer"])))


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=40), max_size=5), st.booleans())
@settings(max_examples=200, deadline=None)
def test_shared_message_words_bytes_str_and_hashes_agree(texts, accent):
    from toolkit.dedup import normalize_words, word_hash_bytes
    from toolkit.linter.rule import ExampleContext
    from toolkit.linter.rules._textfix import message_word_bytes, message_word_hashes

    if accent:
        texts = [*texts, "café"]
    ctx = ExampleContext({"messages": [{"role": "user", "content": t} for t in texts]})
    as_bytes = message_word_bytes(ctx)
    if accent:
        assert as_bytes is None
        return
    as_str = [normalize_words(t) for t in texts]
    assert as_bytes == [[w.encode("ascii") for w in words] for words in as_str]
    for index, words in enumerate(as_str):
        assert message_word_hashes(ctx, index) == word_hash_bytes(words)
