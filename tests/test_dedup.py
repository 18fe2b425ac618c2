"""toolkit.dedup: normalisation, MinHash signatures, the incremental index and batch grouping."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.dedup import (
    NearDuplicateIndex,
    exact_key,
    get_hasher,
    is_empty_signature,
    lsh_is_exact,
    lsh_params,
    minhash,
    near_duplicate_components,
    normalize_text,
    record_text,
    shingles,
    signatures,
    similarity,
)

_PUNCT = re.compile(r"[^\w\s<>]+", re.UNICODE)


def _reference_normalize(text: str) -> str:
    """The definition: NFKC, casefold, punctuation to spaces, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", _PUNCT.sub(" ", text)).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normalize_matches_its_definition(text):
    assert normalize_text(text) == _reference_normalize(text)
    assert normalize_text(normalize_text(text)) == normalize_text(text)


def test_normalize_examples():
    assert normalize_text("  Hello,\tWORLD!! <user> ") == "hello world <user>"
    assert normalize_text("Straße ＡＢＣ") == "strasse abc"
    assert exact_key("Hello!") == exact_key("hello")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abc dé,.", max_size=40), min_size=1, max_size=12))
def test_batch_and_single_signatures_agree(texts):
    hasher = get_hasher()
    batch = hasher.signatures(texts)
    for text, row in zip(texts, batch):
        assert np.array_equal(hasher.signature(text), row)
        assert bool(is_empty_signature(row)) == (normalize_text(text) == "")


def test_signatures_are_stable_across_processes():
    code = ("from toolkit.dedup import signatures; import sys; "
            "sys.stdout.write(','.join(map(str, signatures(['the parcel never arrived at my door'])[0][:8])))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": ""},
                           check=True).stdout for seed in ("1", "2")}
    assert len(outs) == 1
    assert next(iter(outs)) == ",".join(map(str, signatures(["the parcel never arrived at my door"])[0][:8]))


def test_similarity_estimates_jaccard():
    rng = random.Random(0)
    hasher = get_hasher(128)
    errors = []
    for _ in range(60):
        base = [f"w{rng.randrange(3000)}" for _ in range(rng.randrange(20, 200))]
        other = list(base)
        for i in rng.sample(range(len(base)), rng.randrange(0, len(base) // 3)):
            other[i] = f"x{rng.randrange(3000)}"
        a, b = shingles(" ".join(base)), shingles(" ".join(other))
        true = len(a & b) / len(a | b)
        errors.append(similarity(hasher.signature(" ".join(base)), hasher.signature(" ".join(other))) - true)
    assert abs(float(np.mean(errors))) < 0.02  # unbiased
    assert float(np.std(errors)) < 0.06


def test_lsh_params_are_exact_for_the_default_threshold():
    assert lsh_params(0.85, 64) == (10, 6)
    assert lsh_is_exact(0.85, 64) and lsh_is_exact(0.9, 64)
    bands, rows = lsh_params(0.5, 64)
    assert bands * rows <= 64 and not lsh_is_exact(0.5, 64)


def test_index_add_query_and_order():
    index = NearDuplicateIndex(0.8)
    text = "my order 1234 has not arrived yet and it has been two weeks please help me track it down"
    assert index.add("a", text) == []
    assert [(m.key, m.similarity) for m in index.add("b", text)] == [("a", 1.0)]
    near = index.add("c", text.replace("track it down", "find it"))
    assert [m.key for m in near] == ["a", "b"] and all(0.8 <= m.similarity < 1 for m in near)
    assert index.add("d", "something else entirely about a refund for a lamp") == []
    assert index.add("e", "") == [] and index.add("f", "") == []
    assert len(index) == 6 and "c" in index
    assert [m.key for m in index.query(text, max_matches=1)] == ["a"]
    with pytest.raises(KeyError):
        index.add("a", "again")


def test_add_many_equals_repeated_add():
    rng = random.Random(4)
    words = [f"w{i}" for i in range(60)]
    texts = []
    for _ in range(120):
        if texts and rng.random() < 0.4:
            base = rng.choice(texts).split()
            base[rng.randrange(len(base))] = rng.choice(words)
            texts.append(" ".join(base))
        else:
            texts.append(" ".join(rng.choice(words) for _ in range(rng.randrange(5, 25))))
    one, many = NearDuplicateIndex(0.7), NearDuplicateIndex(0.7)
    expected = [[(m.key, m.similarity) for m in one.add(i, t)] for i, t in enumerate(texts)]
    got = []
    for start in range(0, len(texts), 32):
        for matches in many.add_many(list(enumerate(texts))[start : start + 32]):
            got.append([(m.key, m.similarity) for m in matches])
    assert got == expected
    assert any(expected)


def test_index_matches_a_brute_force_lsh_reference():
    """Compact storage (single rows and single keys unboxed) changes no match: compare with
    a plain reference over the same signatures, with exact copies, near copies and buckets
    shared by several rows."""
    rng = random.Random(11)
    words = [f"w{i}" for i in range(40)]
    texts: list[str] = []
    for _ in range(300):
        roll = rng.random()
        if texts and roll < 0.2:
            texts.append(rng.choice(texts))  # exact copy: one signature, several keys
        elif texts and roll < 0.5:
            base = rng.choice(texts).split() or ["w0"]
            base[rng.randrange(len(base))] = rng.choice(words)
            texts.append(" ".join(base))
        else:
            texts.append(" ".join(rng.choice(words) for _ in range(rng.randrange(0, 12))))
    index = NearDuplicateIndex(0.6)
    seen: list[tuple[int, np.ndarray, list[bytes]]] = []
    for key, text in enumerate(texts):
        sig = index.signature(text)
        bands = [sig[b * index.rows : (b + 1) * index.rows].tobytes() for b in range(index.bands)]
        expected = []
        if not (sig == np.iinfo(np.uint32).max).all():
            for other, other_sig, other_bands in seen:
                if any(a == b for a, b in zip(bands, other_bands)):
                    similarity = float(np.count_nonzero(sig == other_sig)) / index.num_perm
                    if similarity >= index.threshold - 1e-12:
                        expected.append((other, similarity))
        expected.sort(key=lambda pair: -pair[1])  # stable: equal similarities keep insertion order
        got = [(m.key, m.similarity) for m in index.add_signature_bytes(key, sig.tobytes())]
        assert got == expected, key
        if not (sig == np.iinfo(np.uint32).max).all():
            seen.append((key, sig, bands))
    assert len(index) == len(texts)


def test_components_join_every_qualifying_pair():
    rng = random.Random(9)
    texts = []
    for _ in range(60):
        base = [f"w{rng.randrange(500)}" for _ in range(40)]
        texts.append(" ".join(base))
        for _ in range(2):
            variant = list(base)
            for i in rng.sample(range(40), rng.randrange(0, 5)):
                variant[i] = f"v{rng.randrange(9999)}"
            texts.append(" ".join(variant))
    sigs = signatures(texts)
    uf = near_duplicate_components(sigs, 0.85)
    roots = uf.roots()
    agree = (sigs[:, None, :] == sigs[None, :, :]).mean(axis=2)
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if agree[i, j] >= 0.85:
                assert roots[i] == roots[j], (i, j, agree[i, j])
    assert len(set(roots)) < len(texts)
    assert all(roots[i] <= i for i in range(len(texts)))  # a component's root is its earliest member


def test_minhash_returns_datasketch_object():
    a, b = minhash("the quick brown fox jumps over"), minhash("the quick brown fox jumps over")
    assert a.jaccard(b) == 1.0


def test_record_text_formats():
    chat = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    assert record_text(chat) == "<user> Hi\n<assistant> Yo"
    assert record_text({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]}) == "<user> Hi\n<assistant> Yo"
    assert record_text({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "Yo"}]}]}) == "<user> Hi\n<assistant> Yo"
    assert record_text({"instruction": "Hi", "input": "", "output": "Yo"}) == "<user> Hi\n<assistant> Yo"
    assert record_text({"prompt": "Hi", "completion": "Yo"}) == "<user> Hi\n<assistant> Yo"
    assert record_text({"text": "free", "nested": {"more": ["a", 1]}, "metadata": {"id": "x"}}) == "free\na"


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "system", "tool", None, "Bot"]),
                          st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=40)), max_size=5),
       st.text(alphabet="ée ﬁ.Ab", max_size=6))
@settings(max_examples=300, deadline=None)
def test_duplicate_rules_compose_normalised_texts_like_normalising_the_whole(messages, extra):
    """D001-D003 build normalised texts from per-message words: the same words as normalising the whole."""
    from toolkit.dedup import normalize_text, normalize_words, word_hash_bytes
    from toolkit.linter.rule import ExampleContext
    from toolkit.linter.rules.duplicates import _comparable_text, _composed_word_hashes, _key, _normalized

    for texts in ([text for _, text in messages], [text + extra for _, text in messages]):  # ASCII, then not
        record = {"messages": [{"role": role, "content": text} for (role, _), text in zip(messages, texts)]}
        ctx = ExampleContext(record)
        key, count, hashed = _normalized(ctx, ("user", "assistant"))
        expected = normalize_text(_comparable_text(ExampleContext(record), ("user", "assistant")))
        assert key == _key(word_hash_bytes(expected.split()))
        assert count == len(expected.split())
        assert hashed == word_hash_bytes(normalize_words(expected))
        wanted = {"user", "assistant", "tool"}
        for upto in range(len(texts) + 1):
            composed = _composed_word_hashes(ctx, upto, wanted)
            if composed is not None:
                joined = "\n".join(f"<{m['role']}> {m['content']}" for m in record["messages"][:upto] if m["role"] in wanted)
                assert composed == word_hash_bytes(normalize_words(joined))


@given(st.text(alphabet=st.sampled_from(list("abcXY09_ <>-.,'\n\t\x1f\x00é")), max_size=30))
@settings(max_examples=500, deadline=None)
def test_normalize_text_recognises_normal_form_exactly(text):
    """The shortcut for text already in normal form gives what normalising word by word gives."""
    from toolkit.dedup import normalize_text, normalize_words

    expected = " ".join(normalize_words(text))
    assert normalize_text(text) == expected
    assert normalize_text(expected) == " ".join(normalize_words(expected))


@given(st.lists(st.tuples(st.text(alphabet="ab cD.?é", max_size=20), st.sampled_from(["train", "test"]),
                          st.sampled_from([None, "c1", " c2 ", 7])), min_size=2, max_size=12))
@settings(max_examples=150, deadline=None)
def test_leakage_rules_stand_ins_are_judged_like_the_records(rows):
    """D010/D011 send the main process a small stand-in for each split example: same leaks."""
    from toolkit.linter.rule import load_all_rules
    from toolkit.splitting.leakage import LeakageDetector

    records = []
    for text, split, conversation in rows:
        meta = {"split": split}
        if conversation is not None:
            meta["conversation_id"] = conversation
        records.append({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": text[::-1]}],
                        "metadata": meta})
    for code in ("D010", "D011"):
        rule = load_all_rules()[code]()
        whole, stand_in = rule._make_detector(), rule._make_detector()
        for number, record in enumerate(records, start=1):
            whole.add(record, record["metadata"]["split"], "f", number)
            stand_in.add(rule._essence(record), record["metadata"]["split"], "f", number)
        assert [leak.to_dict() for leak in whole.finish().leaks] == [leak.to_dict() for leak in stand_in.finish().leaks]


def test_ascii_normalisation_table_equals_lower_then_punctuation_to_spaces():
    """normalize_words' ASCII fast path (one byte table) equals lower() then the punctuation map, per character."""
    from toolkit.dedup import _ASCII_NORMAL_BYTES, _ASCII_PUNCT, normalize_words

    every_ascii = "".join(map(chr, range(128)))
    assert every_ascii.encode().translate(_ASCII_NORMAL_BYTES).decode() == every_ascii.lower().translate(_ASCII_PUNCT)
    assert normalize_words(every_ascii * 2) == (every_ascii * 2).lower().translate(_ASCII_PUNCT).split()


@given(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=60))
@settings(max_examples=300, deadline=None)
def test_normalize_words_ascii_fast_path_matches_the_definition(text):
    from toolkit.dedup import _ASCII_PUNCT, normalize_words

    assert normalize_words(text) == text.lower().translate(_ASCII_PUNCT).split()


def _shingle_hashes_one_by_one(word_hashes: list[int], size: int) -> list[int]:
    """The definition of a text's shingle hashes, in Python integers: a polynomial over each
    window of ``size`` word hashes (or over all of a shorter text's words), xor its length, mixed."""
    mask = (1 << 64) - 1

    def mix(x: int) -> int:
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    def combine(window: list[int]) -> int:
        acc = 0
        for value in window:
            acc = (acc * 0x9E3779B97F4A7C15 + value) & mask
        return mix(acc ^ len(window))

    if len(word_hashes) < size:
        return [combine(word_hashes)] if word_hashes else []
    return [combine(word_hashes[i : i + size]) for i in range(len(word_hashes) - size + 1)]


@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=9), max_size=8), st.integers(1, 4))
@settings(max_examples=400, deadline=None)
def test_batch_shingle_hashes_equal_the_definition_text_by_text(texts, size):
    """The batch computes every window of the concatenated texts and drops those that cross a text's
    end: the same hashes, in the same order, as hashing each text's own windows."""
    from toolkit.dedup import shingle_hashes_of_word_hashes

    batch = shingle_hashes_of_word_hashes([np.array(t, dtype="<u8").tobytes() for t in texts], size)
    expected = [_shingle_hashes_one_by_one(t, size) for t in texts]
    assert batch.offsets.tolist() == np.cumsum([0] + [len(e) for e in expected]).tolist()
    assert batch.hashes.tolist() == [h for e in expected for h in e]


@given(st.lists(st.text(alphabet="ab é.ﬁ", min_size=1, max_size=4), max_size=6))
@settings(max_examples=300, deadline=None)
def test_word_hash_bytes_are_each_words_blake2b(words):
    """Cached or not, one word or many: 8 bytes of blake2b per word."""
    import hashlib

    from toolkit.dedup import word_hash_bytes

    expected = b"".join(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in words)
    assert word_hash_bytes(words) == expected
    assert word_hash_bytes(words) == expected  # now from the cache


@given(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=60)
       | st.lists(st.sampled_from(["a", "B", " ", "\x1c", "\x1d", "\x1e", "\x1f", "\x0b", "\x0c", "\x00", "\x7f",
                                   "-", "<", ">", "_", ".", "\n", "\t", "\r", "9"]), max_size=20).map("".join))
@settings(max_examples=500, deadline=None)
def test_ascii_word_bytes_are_the_normalised_words_as_bytes(text):
    """The bytes fast path the duplicate rules and Q003 share: the words and word hashes of normalize_words."""
    from toolkit.dedup import ascii_word_bytes, normalize_words, word_hash_bytes, word_hash_bytes_of_bytes

    words = normalize_words(text)
    fast = ascii_word_bytes(text)
    assert fast == [w.encode("ascii") for w in words]
    assert word_hash_bytes_of_bytes(fast) == word_hash_bytes(words)
    assert word_hash_bytes_of_bytes(fast) == word_hash_bytes(words)  # now from the caches


@given(st.lists(st.text(alphabet="ab é.ﬁ", min_size=1, max_size=4), max_size=6))
@settings(max_examples=200, deadline=None)
def test_word_hash_bytes_of_bytes_is_word_hash_bytes(words):
    from toolkit.dedup import word_hash_bytes, word_hash_bytes_of_bytes

    encoded = [w.encode("utf-8") for w in words]
    assert word_hash_bytes_of_bytes(encoded) == word_hash_bytes(words)
    assert word_hash_bytes_of_bytes(encoded) == word_hash_bytes(words)


@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=12), min_size=1, max_size=6),
       st.sampled_from([1, 2, 3, 8, 64, 100, 128, 256]), st.integers(1, 4))
@settings(max_examples=200, deadline=None)
def test_signature_bins_of_a_power_of_two_are_the_general_formula(texts, perms, shingle):
    """A power-of-two ``num_perm`` takes its bins with one shift: the same signatures as the general formula."""
    from toolkit.dedup import MinHasher, shingle_hashes_of_word_hashes

    hashes = [np.array(t, dtype="<u8").tobytes() for t in texts]
    hasher = MinHasher(perms, shingle=shingle)
    fast = hasher.signatures_of_word_hashes(hashes)
    sh = shingle_hashes_of_word_hashes(hashes, shingle)
    # the general formula, per shingle, on Python integers
    expected = np.full((len(texts), perms), 0xFFFFFFFF, dtype=np.uint32)
    salt = int(hasher._salt)
    for t in range(len(texts)):
        for h in sh.hashes[sh.offsets[t] : sh.offsets[t + 1]].tolist():
            x = int(_mix64_ref(h ^ salt))
            b = ((x >> 32) * perms) >> 32
            expected[t, b] = min(expected[t, b], x & 0xFFFFFFFF)
    dense = expected.copy()
    hasher._densify(dense, np.diff(sh.offsets) > 0)
    assert fast.tolist() == dense.tolist()


def _mix64_ref(x: int) -> int:
    m = 2**64 - 1
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & m
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


@given(st.lists(st.integers(0, 2**64 - 1), max_size=20), st.booleans())
@settings(max_examples=200, deadline=None)
def test_mix64_with_one_scratch_array_is_splitmix64s_finaliser(values, two_d):
    from toolkit.dedup import _mix64

    x = np.array(values, dtype=np.uint64)
    if two_d and len(values) % 2 == 0:
        x = x.reshape(2, -1)
    assert _mix64(x).ravel().tolist() == [_mix64_ref(v) for v in values]
