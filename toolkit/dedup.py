"""Exact and near-duplicate detection shared by the linter, the splitter and ``ftkit leakage``.

Texts are normalised (Unicode NFKC, case-folded, punctuation and runs of white space
collapsed) and cut into word shingles (``shingle`` consecutive words). Each text is
summarised by a MinHash signature of ``num_perm`` 32-bit values; the fraction of equal
values between two signatures estimates the Jaccard similarity of their shingle sets.
An LSH index (``bands`` x ``rows`` of the signature, chosen for the threshold) finds the
candidate pairs, and every candidate is verified against the threshold.

Speed: words are hashed once (blake2b, cached), shingle hashes are combined from word
hashes with numpy over whole batches of texts, and signatures use one-permutation
hashing with densification (one pass over the shingles instead of ``num_perm``; see
:class:`MinHasher`). Everything is a pure function of the text and the seed:
signatures are identical across processes, runs and platforms (no Python ``hash()``,
which is salted per process).

Two ways in:

* :class:`NearDuplicateIndex` - incremental: ``add(key, text)`` returns the earlier items
  the text nearly duplicates; ``add_many`` hashes a batch at once; ``add_signature_bytes``
  and ``query_signature`` take signatures made elsewhere (the linter's D002 hashes in its
  worker processes, ``ftkit leakage`` hashes in batches).
* :func:`near_duplicate_components` / :func:`signatures` - batch: connected groups of
  near-duplicates over a whole dataset (the splitter).

Empty texts (no word at all) have no shingles: they never near-duplicate anything (use
:func:`exact_key` for exact duplicates, which does catch two empty texts).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

import numpy as np

from toolkit.model import content_text

_PUNCT = re.compile(r"[^\w\s<>]+", re.UNICODE)

DEFAULT_THRESHOLD = 0.85
DEFAULT_NUM_PERM = 64
DEFAULT_SHINGLE = 3
DEFAULT_SEED = 1

_U64 = np.uint64
_MAX32 = np.uint32(0xFFFFFFFF)
# Odd 64-bit multipliers (from splitmix64 / golden ratio): fixed forever, so signatures are stable.
_SHINGLE_MUL = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)


# --------------------------------------------------------------------------- normalisation


# ASCII characters that are neither word characters, white space nor "<" ">" (the role
# tags) become spaces; str.translate does this in C, many times faster than the regex.
_ASCII_PUNCT = {c: " " for c in range(128) if not re.match(r"[\w\s<>]", chr(c))}
# The same per byte, lower-casing too: ``text.encode().translate(_ASCII_NORMAL_BYTES).decode()``
# equals ``text.lower().translate(_ASCII_PUNCT)`` on ASCII text, a few times faster (a 256-byte
# table instead of a dict look-up per character, and one pass instead of two).
_ASCII_NORMAL_BYTES = bytes(32 if c in _ASCII_PUNCT else ord(chr(c).lower()) if c < 128 else c for c in range(256))


# What an ASCII text in normal form cannot contain: punctuation that becomes a space, and any
# white space other than single spaces between words.
_NOT_IN_NORMAL_FORM = "".join(chr(c) for c in sorted(_ASCII_PUNCT)) + "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _in_normal_form(text: str) -> bool:
    """True when ``text`` is ASCII and already normalised (``normalize_text`` would return it)."""
    return (
        text.isascii()
        and text != ""
        and text == text.lower()  # (on ASCII lower() is a table look-up per byte; islower() is not)
        and text[0] != " "
        and text[-1] != " "
        and "  " not in text
        and not any(map(text.__contains__, _NOT_IN_NORMAL_FORM))
    )


# ``_ASCII_NORMAL_BYTES`` that also turns the ASCII separators str.split() splits at and
# bytes.split() does not (\x1c-\x1f) into spaces: ``bytes.split`` of a translation then gives
# the words of ``normalize_words``, as bytes.
_ASCII_WORD_BYTES = bytes(32 if 0x1C <= c <= 0x1F else b for c, b in enumerate(_ASCII_NORMAL_BYTES))


def ascii_word_bytes(text: str) -> list[bytes]:
    """``[w.encode("ascii") for w in normalize_words(text)]`` for an ASCII ``text``.

    Without decoding the normalised text and making a ``str`` per word: bytes words are
    cheaper to make, and :func:`word_hash_bytes_of_bytes` hashes them to the same values.
    """
    return text.encode("ascii").translate(_ASCII_WORD_BYTES).split()


def normalize_text(text: str) -> str:
    """Normalise for comparison: NFKC, case-fold, drop punctuation, collapse white space."""
    # Callers often normalise text that is normalised already (a key of a normalised text):
    # recognising that costs a few fast scans instead of splitting the text into words.
    if _in_normal_form(text):
        return text
    return " ".join(normalize_words(text))


def normalize_words(text: str) -> list[str]:
    """The words of :func:`normalize_text` (``" ".join`` of them is the normalised text)."""
    if text.isascii():
        # NFKC is the identity on ASCII and casefold() equals lower(): the fast path.
        return text.encode("ascii").translate(_ASCII_NORMAL_BYTES).decode("ascii").split()
    text = unicodedata.normalize("NFKC", text).casefold()
    return _PUNCT.sub(" ", text).split()


def example_text(record: Mapping[str, Any], roles: Iterable[str] = ("user", "assistant")) -> str:
    """The comparable text of an example: its messages of ``roles``, tagged by role, in order."""
    wanted = set(roles)
    parts = []
    messages = record.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping) and message.get("role") in wanted:
                parts.append(f"<{message.get('role')}> {content_text(message.get('content'))}")
    return "\n".join(parts)


# ShareGPT speaker names -> chat roles (for record_text on non-OpenAI chat formats).
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant", "bot": "assistant"}


def record_text(record: Mapping[str, Any], roles: Iterable[str] = ("user", "assistant")) -> str:
    """The comparable text of a record in any common format.

    * OpenAI-style ``messages`` (also Mistral, Together, Fireworks, TRL ``messages``):
      :func:`example_text`.
    * ShareGPT ``conversations`` (``from``/``value``): the human and gpt turns.
    * Vertex ``contents`` (``role``/``parts``): user and model turns.
    * Single-turn tables: Alpaca ``instruction``/``input``/``output``, ``prompt``/``completion``,
      ``question``/``answer``, ``query``/``response``: tagged as user and assistant.
    * Anything else (DPO pairs, custom tables): every string value
      in the record except ``metadata``, in key order - so two files from different tools
      can still be compared.
    """
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        return example_text(record, roles)
    wanted = set(roles)
    conversations = record.get("conversations")
    if isinstance(conversations, list) and conversations:
        parts = []
        for turn in conversations:
            if isinstance(turn, Mapping):
                role = _SHAREGPT_ROLES.get(str(turn.get("from", turn.get("role", ""))).lower())
                if role in wanted:
                    value = turn.get("value", turn.get("content"))
                    parts.append(f"<{role}> {content_text(value) if not isinstance(value, str) else value}")
        return "\n".join(parts)
    contents = record.get("contents")
    if isinstance(contents, list) and contents:
        parts = []
        for turn in contents:
            if isinstance(turn, Mapping):
                role = _SHAREGPT_ROLES.get(str(turn.get("role", "")).lower())
                if role in wanted:
                    texts = [p.get("text") for p in turn.get("parts") or [] if isinstance(p, Mapping) and isinstance(p.get("text"), str)]
                    parts.append(f"<{role}> " + "\n".join(texts))
        return "\n".join(parts)
    # Single-turn tables (Alpaca, prompt/completion, question/answer): tag them like chat
    # so that the same exchange in two formats compares as equal.
    for prompt_keys, reply_key in _PAIR_KEYS:
        reply = record.get(reply_key)
        prompts = [record.get(k) for k in prompt_keys]
        if isinstance(reply, str) and isinstance(prompts[0], str):
            user = "\n".join(p for p in prompts if isinstance(p, str) and p)
            parts = []
            if "user" in wanted:
                parts.append(f"<user> {user}")
            if "assistant" in wanted:
                parts.append(f"<assistant> {reply}")
            return "\n".join(parts)
    return "\n".join(_strings({k: v for k, v in record.items() if k != "metadata"}))


# (prompt fields, reply field) of single-turn formats, most specific first.
_PAIR_KEYS = (
    (("instruction", "input"), "output"),
    (("prompt",), "completion"),
    (("prompt",), "response"),
    (("question",), "answer"),
    (("query",), "response"),
    (("input",), "output"),
)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def exact_key(text: str) -> str:
    """A hash of the normalised text: equal keys mean duplicates up to case, spacing and punctuation."""
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=16).hexdigest()


def shingles(normalized: str, size: int = DEFAULT_SHINGLE) -> set[bytes]:
    """The word shingles of an already normalised text (a text shorter than ``size`` is one shingle)."""
    words = normalized.split()
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


# --------------------------------------------------------------------------- MinHash


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised (in place on a fresh array): spreads every input bit."""
    shifted = x >> _U64(30)  # one scratch array for the three shifts (a large array is a fresh mapping each time)
    if not isinstance(shifted, np.ndarray):  # a numpy scalar
        x ^= shifted
        x *= _MIX1
        x ^= x >> _U64(27)
        x *= _MIX2
        x ^= x >> _U64(31)
        return x
    x ^= shifted
    x *= _MIX1
    x ^= np.right_shift(x, _U64(27), out=shifted)
    x *= _MIX2
    x ^= np.right_shift(x, _U64(31), out=shifted)
    return x


# word -> 64-bit hash (blake2b of its UTF-8 bytes, as 8 little-endian bytes). A pure function of
# the word, cached because support text repeats a small vocabulary; cleared when it grows too
# large. Kept as bytes: a text's hashes are then one ``b"".join`` and a numpy view, with no
# Python integer per word.
_WORD_CACHE: dict[str, bytes] = {}
_WORD_CACHE_MAX = 2_000_000


def _word_hash(word: str) -> bytes:
    if len(_WORD_CACHE) >= _WORD_CACHE_MAX:
        _WORD_CACHE.clear()
    value = _WORD_CACHE[word] = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    return value


def word_hash_bytes(words: list[str]) -> bytes:
    """The words' 64-bit MinHash word hashes, 8 little-endian bytes each, concatenated.

    Callers that hash the same words for another purpose can keep these and give them to
    :meth:`MinHasher.signatures_of_word_hashes` instead of the words.
    """
    return _joined_hashes(words, _WORD_CACHE, _word_hash)


def _joined_hashes(words: list, cache: dict, hash_new: Callable[[Any], bytes]) -> bytes:
    """The cached hashes of ``words`` joined, hashing (and caching) the ones not seen yet."""
    try:
        if len(words) > 1:
            # itemgetter looks every word up in one C loop, without a method call per word
            return b"".join(itemgetter(*words)(cache))
        return b"".join(map(cache.__getitem__, words))
    except KeyError:
        get = cache.get
        return b"".join([get(w) or hash_new(w) for w in words])


# The same hashes keyed by the words' UTF-8 bytes (for :func:`ascii_word_bytes` words).
_WORD_BYTES_CACHE: dict[bytes, bytes] = {}


def _word_bytes_hash(word: bytes) -> bytes:
    if len(_WORD_BYTES_CACHE) >= _WORD_CACHE_MAX:
        _WORD_BYTES_CACHE.clear()
    value = _WORD_BYTES_CACHE[word] = hashlib.blake2b(word, digest_size=8).digest()
    return value


def word_hash_bytes_of_bytes(words: list[bytes]) -> bytes:
    """:func:`word_hash_bytes` of words given as their UTF-8 bytes (the same 8 bytes a word)."""
    return _joined_hashes(words, _WORD_BYTES_CACHE, _word_bytes_hash)


def _word_hashes(words: list[str]) -> np.ndarray:
    """The words' 64-bit hashes as a ``uint64`` array."""
    return np.frombuffer(word_hash_bytes(words), dtype="<u8").astype(np.uint64, copy=False)


@dataclass(frozen=True)
class Shingled:
    """Shingle hashes of a batch of texts: ``hashes[offsets[i]:offsets[i+1]]`` belong to text ``i``."""

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len = number of texts + 1


def shingle_hashes(normalized: Sequence[str], size: int = DEFAULT_SHINGLE) -> Shingled:
    """64-bit hashes of the word shingles of already-normalised texts, all at once.

    A word's hash is blake2b of its bytes; a shingle's is a polynomial over its words'
    hashes, passed through a 64-bit mixer. A text with fewer than ``size`` words (but at
    least one) is one shingle of all its words. Repeated shingles are kept (a minimum
    does not care).
    """
    return shingle_hashes_of_words([text.split() for text in normalized], size)


def shingle_hashes_of_words(word_lists: Sequence[list[str]], size: int = DEFAULT_SHINGLE) -> Shingled:
    """:func:`shingle_hashes` for texts already cut into normalised words."""
    return shingle_hashes_of_word_hashes(list(map(word_hash_bytes, word_lists)), size)


def shingle_hashes_of_word_hashes(hash_bytes: Sequence[bytes], size: int = DEFAULT_SHINGLE) -> Shingled:
    """:func:`shingle_hashes` for texts given as their words' :func:`word_hash_bytes`."""
    if size < 1:
        raise ValueError("shingle size must be >= 1")
    n = len(hash_bytes)
    words_per_text = np.fromiter(map(len, hash_bytes), dtype=np.int64, count=n) // 8
    word_hash = np.frombuffer(b"".join(hash_bytes), dtype="<u8").astype(np.uint64, copy=False)

    text_end = np.cumsum(words_per_text)
    per_text = np.where(words_per_text >= size, words_per_text - size + 1, np.minimum(words_per_text, 1))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_text, out=offsets[1:])
    full = words_per_text >= size
    # Every window of ``size`` words of the concatenation, computed with slices (no gather per
    # word); a window that starts in the last ``size - 1`` words of a text runs past its end
    # and is dropped (a text shorter than ``size`` keeps none: it is one shingle, done below).
    span = word_hash.size - size + 1
    if span > 0 and full.any():
        acc = word_hash[:span].copy()
        for k in range(1, size):  # uint64 array arithmetic wraps silently
            acc *= _SHINGLE_MUL
            acc += word_hash[k : k + span]
        inside = np.ones(word_hash.size, dtype=bool)
        for back in range(1, size):
            inside[text_end[words_per_text >= back] - back] = False
        windows = acc[inside[:span]]
        windows ^= _U64(size)
        _mix64(windows)
    else:
        windows = np.zeros(0, dtype=np.uint64)
    short = np.flatnonzero((words_per_text > 0) & (words_per_text < size))
    if short.size == 0:
        out = windows
    else:
        out = np.zeros(int(offsets[-1]), dtype=np.uint64)
        out[np.repeat(full, per_text)] = windows
        for t in short.tolist():
            first, count = int(text_end[t] - words_per_text[t]), int(words_per_text[t])
            acc = np.zeros(1, dtype=np.uint64)
            for k in range(count):
                acc = acc * _SHINGLE_MUL + word_hash[first + k : first + k + 1]
            acc ^= _U64(count)
            out[offsets[t]] = _mix64(acc)[0]
    return Shingled(out, offsets)


class MinHasher:
    """Turns texts into ``num_perm``-value MinHash signatures (one-permutation hashing).

    Each shingle hash, re-mixed with the seed, is dealt into one of ``num_perm`` bins by
    its high bits and keeps its low 32 bits as the value; a bin holds the minimum value
    dealt to it. This "one permutation hashing" (Li, Owen & Zhang 2012) costs one pass
    over the shingles instead of ``num_perm``. Bins that stay empty (short texts) borrow
    the value of another bin chosen by a fixed hash of (bin, attempt) - the "optimal
    densification" of Shrivastava (2017) - so that, as with classic MinHash, the
    fraction of equal values estimates the Jaccard similarity without bias.
    """

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, *, shingle: int = DEFAULT_SHINGLE, seed: int = DEFAULT_SEED) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be >= 1")
        self.num_perm = num_perm
        self.shingle = shingle
        self.seed = seed
        salt = (seed * 0x2545F4914F6CDD1D + 0x632BE59BD9B4E019) & (2**64 - 1)
        self._salt = _mix64(np.array([salt], dtype=np.uint64))[0]
        self._probe_table: np.ndarray | None = None

    def signatures(self, texts: Sequence[str], *, normalized: bool = False) -> np.ndarray:
        """Signatures of ``texts`` as a ``(len(texts), num_perm)`` ``uint32`` array.

        A text without words gets all ``0xFFFFFFFF`` (see :func:`is_empty_signature`).
        """
        words = [t.split() for t in texts] if normalized else [normalize_words(t) for t in texts]
        return self.signatures_of_words(words)

    def signatures_of_words(self, word_lists: Sequence[list[str]]) -> np.ndarray:
        """:meth:`signatures` for texts already cut into normalised words."""
        return self.signatures_of_word_hashes(list(map(word_hash_bytes, word_lists)))

    def signatures_of_word_hashes(self, hash_bytes: Sequence[bytes]) -> np.ndarray:
        """:meth:`signatures` for texts given as their words' :func:`word_hash_bytes` (same values)."""
        sh = shingle_hashes_of_word_hashes(hash_bytes, self.shingle)
        n, perms = len(hash_bytes), self.num_perm
        flat = np.full(n * perms, _MAX32, dtype=np.uint32)
        if sh.hashes.size == 0:
            return flat.reshape(n, perms)
        counts = np.diff(sh.offsets)
        text_of = np.repeat(np.arange(n, dtype=np.int64), counts)
        x = sh.hashes ^ self._salt
        x = _mix64(x)
        if 2 <= perms <= 1 << 32 and perms & (perms - 1) == 0:
            # ((x >> 32) * 2**k) >> 32 is x >> (64 - k): the same bins in one shift
            bins = (x >> _U64(64 - (perms.bit_length() - 1))).astype(np.int64)
        else:
            bins = (((x >> _U64(32)) * _U64(perms)) >> _U64(32)).astype(np.int64)
        values = x.astype(np.uint32)  # (the low 32 bits, as x & 0xFFFFFFFF)
        bins += text_of * perms
        np.minimum.at(flat, bins, values)
        sig = flat.reshape(n, perms)
        self._densify(sig, counts > 0)
        return sig

    def _probes(self, attempts: int) -> np.ndarray:
        """``(num_perm, attempts)`` table: the bin an empty bin borrows from at each attempt."""
        if self._probe_table is None or self._probe_table.shape[1] < attempts:
            perms = self.num_perm
            grid = np.arange(perms, dtype=np.uint64)[:, None] * _U64(0x9E3779B97F4A7C15) + np.arange(1, attempts + 1, dtype=np.uint64)[None, :] * _MIX1
            probe = _mix64(grid + self._salt)
            self._probe_table = (((probe >> _U64(32)) * _U64(perms)) >> _U64(32)).astype(np.int64)
        return self._probe_table[:, :attempts]

    def _densify(self, sig: np.ndarray, nonempty: np.ndarray) -> None:
        """Fill the empty bins of non-empty texts from other bins (optimal densification).

        Empty bin ``j`` takes the value of the first non-empty bin along its fixed probe
        sequence; probes are tried in widening stages so typical texts cost one step.
        """
        rows, cols = np.nonzero((sig == _MAX32) & nonempty[:, None])
        if rows.size == 0:
            return
        source = sig.copy()  # borrow only from bins that were filled by a shingle
        done_attempts = 0
        for width in (8, 64, 512, 4096):
            probes = self._probes(done_attempts + width)[:, done_attempts:]
            values = source[rows[:, None], probes[cols]]
            hit = values != _MAX32
            found = hit.any(axis=1)
            first = hit.argmax(axis=1)
            sig[rows[found], cols[found]] = values[found, first[found]]
            rows, cols = rows[~found], cols[~found]
            done_attempts += width
            if rows.size == 0:
                return
        for r, c in zip(rows.tolist(), cols.tolist()):  # pragma: no cover - astronomically unlikely
            sig[r, c] = source[r][source[r] != _MAX32].min()

    def signature(self, text: str, *, normalized: bool = False) -> np.ndarray:
        """The signature of one text: the same values as :meth:`signatures`, with less overhead."""
        words = (text if normalized else normalize_text(text)).split()
        perms, size = self.num_perm, self.shingle
        sig = np.full(perms, _MAX32, dtype=np.uint32)
        if not words:
            return sig
        wh = _word_hashes(words)
        count = min(size, wh.size)
        span = wh.size - count + 1
        acc = np.zeros(span, dtype=np.uint64)
        for k in range(count):  # uint64 array arithmetic wraps silently
            acc = acc * _SHINGLE_MUL + wh[k : k + span]
        acc ^= _U64(count)
        x = _mix64(_mix64(acc) ^ self._salt)
        bins = (((x >> _U64(32)) * _U64(perms)) >> _U64(32)).astype(np.intp)
        np.minimum.at(sig, bins, (x & _U64(0xFFFFFFFF)).astype(np.uint32))
        empty = np.flatnonzero(sig == _MAX32)
        if empty.size:
            source = sig.copy()
            done = 0
            for width in (8, 64, 512, 4096):
                values = source[self._probes(done + width)[empty, done:]]
                hit = values != _MAX32
                found = hit.any(axis=1)
                sig[empty[found]] = values[found, hit[found].argmax(axis=1)]
                empty = empty[~found]
                done += width
                if empty.size == 0:
                    break
            else:  # pragma: no cover - astronomically unlikely
                sig[empty] = source[source != _MAX32].min()
        return sig


_HASHERS: dict[tuple[int, int, int], MinHasher] = {}


def get_hasher(num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE, seed: int = DEFAULT_SEED) -> MinHasher:
    """A cached :class:`MinHasher` (building one draws the hash functions)."""
    key = (num_perm, shingle, seed)
    hasher = _HASHERS.get(key)
    if hasher is None:
        hasher = _HASHERS[key] = MinHasher(num_perm, shingle=shingle, seed=seed)
    return hasher


def signatures(texts: Sequence[str], *, num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE, seed: int = DEFAULT_SEED) -> np.ndarray:
    """MinHash signatures of a batch of raw texts (normalised here): ``(n, num_perm)`` uint32."""
    return get_hasher(num_perm, shingle, seed).signatures(texts)


def is_empty_signature(signature: np.ndarray) -> np.ndarray | bool:
    """Whether a signature (or each row of a matrix) comes from a text without words."""
    if signature.ndim == 1:
        return bool((signature == _MAX32).all())
    return (signature == _MAX32).all(axis=1)


def minhash(text: str, *, num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE, seed: int = DEFAULT_SEED) -> Any:
    """The MinHash signature of a text's word shingles as a ``datasketch.MinHash``.

    Kept for callers that want datasketch's API (``jaccard``, ``merge``); the index and
    the batch functions use the faster :class:`MinHasher` arrays directly.
    """
    from datasketch import MinHash

    values = get_hasher(num_perm, shingle, seed).signature(text).astype(np.uint64)
    try:
        # datasketch >= 2 asks which scheme made the values: ours are 32-bit like affine32;
        # compare such objects with each other only (do not update() them).
        return MinHash(num_perm=num_perm, seed=seed, hashvalues=values, scheme="affine32")
    except TypeError:  # datasketch < 2 has no schemes
        return MinHash(num_perm=num_perm, seed=seed, hashvalues=values)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (fraction of equal values)."""
    return float(np.count_nonzero(a == b)) / a.shape[-1]


# --------------------------------------------------------------------------- LSH


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` of the LSH index for a threshold.

    Preferred: ``bands = floor((1 - threshold) * num_perm) + 1``. Two signatures that agree
    on at least ``threshold * num_perm`` values differ in fewer positions than there are
    bands, so at least one band is identical: **every pair whose estimated similarity
    reaches the threshold is a candidate** (no LSH misses; the split and ``ftkit leakage``
    agree exactly). That needs ``rows >= 4`` to keep candidates few; for low thresholds
    (or few permutations) we fall back to the bands/rows that minimise the weighted area
    of false positives (weight 0.05) and misses (weight 0.95).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    bands = min(num_perm, int(math.floor((1.0 - threshold) * num_perm + 1e-9)) + 1)
    rows = num_perm // bands
    if rows >= 4:
        return bands, rows
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
    grid_lo = np.linspace(0.0, threshold, 200)
    grid_hi = np.linspace(threshold, 1.0, 200)
    best: tuple[float, int, int] | None = None
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = trapezoid(1 - (1 - grid_lo**r) ** b, grid_lo)
            fn = trapezoid((1 - grid_hi**r) ** b, grid_hi)
            error = float(0.05 * fp + 0.95 * fn)
            if best is None or error < best[0] - 1e-12:
                best = (error, b, r)
    assert best is not None
    return best[1], best[2]


def lsh_is_exact(threshold: float, num_perm: int) -> bool:
    """Whether the index finds every pair whose estimated similarity reaches ``threshold``."""
    bands, _ = _cached_params(threshold, num_perm)
    return bands > math.floor((1.0 - threshold) * num_perm + 1e-9)


_PARAMS: dict[tuple[float, int], tuple[int, int]] = {}


def _cached_params(threshold: float, num_perm: int) -> tuple[int, int]:
    key = (round(threshold, 6), num_perm)
    if key not in _PARAMS:
        _PARAMS[key] = lsh_params(threshold, num_perm)
    return _PARAMS[key]


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash per band per signature: ``(n, bands)`` uint64 (batch paths)."""
    n = sig.shape[0]
    view = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    # A polynomial over the band's values (uint64 arithmetic wraps), salted by band number.
    acc = (view * _row_powers(rows)[None, None, :]).sum(axis=2, dtype=np.uint64)
    acc += np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _MIX2
    return _mix64(acc)


_ROW_POWERS: dict[int, np.ndarray] = {}


def _row_powers(rows: int) -> np.ndarray:
    if rows not in _ROW_POWERS:
        powers = np.full(rows, _SHINGLE_MUL, dtype=np.uint64)
        powers[0] = 1
        _ROW_POWERS[rows] = np.cumprod(powers, dtype=np.uint64)
    return _ROW_POWERS[rows]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """The raw bytes of each band of one signature (exact keys for the incremental index)."""
    raw = np.ascontiguousarray(sig[: bands * rows]).tobytes()
    width = rows * sig.itemsize
    return [raw[i * width : (i + 1) * width] for i in range(bands)]


_EMPTY_BYTES: dict[int, bytes] = {}


def _empty_bytes(num_perm: int) -> bytes:
    """The bytes of the signature of a text without words (every value 0xFFFFFFFF)."""
    value = _EMPTY_BYTES.get(num_perm)
    if value is None:
        value = _EMPTY_BYTES[num_perm] = b"\xff" * (4 * num_perm)
    return value


def _rows_in(buckets: list) -> set[int]:
    """The rows held by ``buckets`` (each ``None``, one row, or a list of rows)."""
    rows: set[int] = set()
    for bucket in buckets:
        if bucket is None:
            continue
        if type(bucket) is int:
            rows.add(bucket)
        else:
            rows.update(bucket)
    return rows


@dataclass
class NearDuplicateMatch:
    key: Hashable  # the earlier item this one matches
    similarity: float  # estimated Jaccard similarity of the shingle sets


class NearDuplicateIndex:
    """An incremental LSH index: ``add(key, text)`` returns the earlier items it nearly duplicates.

    Memory grows with the number of items (one ``num_perm`` x 4-byte signature per
    distinct signature, plus ``bands`` bucket entries), not with their length. Matches come
    best first, equal similarities in insertion order. Items with an identical signature
    (exact duplicates after normalisation, very common for "thanks" / "you're welcome"
    exchanges) share one entry, so many copies of one text do not slow every later query.
    Texts without any word are kept (``len`` counts them) but never match.

    ``max_matches`` (on :meth:`add`, :meth:`query`) caps the list returned (the best
    ones); callers that only report the first match should pass it.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        num_perm: int = DEFAULT_NUM_PERM,
        shingle: int = DEFAULT_SHINGLE,
        seed: int = DEFAULT_SEED,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self._hasher = get_hasher(num_perm, shingle, seed)
        self.bands, self.rows = _cached_params(threshold, num_perm)
        # band bytes -> the row that has them, or a list of rows once several do: most band
        # values are unique, and a bare int costs far less than a one-element list
        self._buckets: list[dict[bytes, int | list[int]]] = [{} for _ in range(self.bands)]
        self._keys: set[Hashable] = set()
        self._count = 0
        # Distinct signatures: row r holds a signature; _members[r] the first key that has it,
        # _more_members[r] the later ones (rare: exact duplicates after normalisation).
        self._sigs = np.zeros((64, num_perm), dtype=np.uint32)
        self._members: list[Hashable] = []
        self._more_members: dict[int, list[Hashable]] = {}
        self._by_signature: dict[bytes, int] = {}
        self._band_slices: list[slice] | None = None  # where each band lies in a signature's bytes

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def signature(self, text: str) -> np.ndarray:
        return self._hasher.signature(text)

    def query(self, text: str, *, max_matches: int | None = None) -> list[NearDuplicateMatch]:
        """Items already indexed whose similarity to ``text`` reaches the threshold, best first."""
        return self.query_signature(self._hasher.signature(text), max_matches=max_matches)

    def query_signature(self, sig: np.ndarray, *, max_matches: int | None = None) -> list[NearDuplicateMatch]:
        """:meth:`query` for a signature made by this index's hasher (batch callers)."""
        return self._matches(sig, band_keys(sig, self.bands, self.rows), max_matches)

    def add_signature(self, key: Hashable, sig: np.ndarray) -> None:
        """Index a precomputed signature under ``key`` (no matches are computed)."""
        if key in self._keys:
            raise KeyError(f"duplicate key {key!r}")
        self._insert(key, sig, band_keys(sig, self.bands, self.rows))

    def add_signature_bytes(self, key: Hashable, raw: bytes, *, max_matches: int | None = None) -> list[NearDuplicateMatch]:
        """:meth:`add` for a signature made elsewhere by this index's hasher, as ``sig.tobytes()``.

        The linter computes signatures in worker processes and indexes them in its main
        process, once per example: this path looks each band up once for both the query and
        the insertion, and avoids numpy work where bytes do (band keys, emptiness).
        """
        if key in self._keys:
            raise KeyError(f"duplicate key {key!r}")
        self._keys.add(key)
        self._count += 1
        if raw == _empty_bytes(self.num_perm):
            return []  # kept (counted) but never matched
        slices = self._band_slices
        if slices is None:
            width = self.rows * 4  # uint32 values
            slices = self._band_slices = [slice(i * width, (i + 1) * width) for i in range(self.bands)]
        bands = list(map(raw.__getitem__, slices))
        found = list(map(dict.get, self._buckets, bands))  # each band's bucket: None, a row, or rows
        sig = np.frombuffer(raw, dtype=np.uint32)
        matches: list[NearDuplicateMatch] = []
        if found.count(None) != len(found):  # (row 0 is a falsy bucket: not any())
            matches = self._scored(sig, _rows_in(found), max_matches)
        row = self._by_signature.get(raw)
        if row is not None:
            self._more_members.setdefault(row, []).append(key)
            return matches
        self._file(self._new_row(key, sig, raw), bands, found)
        return matches

    def _matches(self, sig: np.ndarray, bands: list[bytes], max_matches: int | None, *,
                 empty: bool | None = None) -> list[NearDuplicateMatch]:
        if empty is None:
            empty = bool(is_empty_signature(sig))
        if empty or not self._members:
            return []
        candidates = _rows_in(list(map(dict.get, self._buckets, bands)))
        return self._scored(sig, candidates, max_matches) if candidates else []

    def _scored(self, sig: np.ndarray, candidates: set[int], max_matches: int | None) -> list[NearDuplicateMatch]:
        """The ``candidates`` (rows sharing a band with ``sig``) whose similarity reaches the threshold, best first."""
        idx = np.fromiter(sorted(candidates), dtype=np.int64, count=len(candidates))
        sims = np.count_nonzero(self._sigs[idx] == sig[None, :], axis=1) / self.num_perm
        keep = np.flatnonzero(sims >= self.threshold - 1e-12)
        if keep.size == 0:
            return []
        # Best first; rows are in order of first insertion, a stable sort keeps that order.
        order = keep[np.argsort(-sims[keep], kind="stable")]
        found: list[NearDuplicateMatch] = []
        for k in order.tolist():
            similarity_value = float(sims[k])
            row = int(idx[k])
            for key in (self._members[row], *self._more_members.get(row, ())):
                found.append(NearDuplicateMatch(key, similarity_value))
                if max_matches is not None and len(found) >= max_matches:
                    return found
        return found

    def _insert(self, key: Hashable, sig: np.ndarray, bands: list[bytes], *, empty: bool | None = None,
                whole: bytes | None = None) -> None:
        self._keys.add(key)
        self._count += 1
        if empty if empty is not None else is_empty_signature(sig):
            return
        if whole is None:
            whole = sig.tobytes()
        row = self._by_signature.get(whole)
        if row is not None:
            self._more_members.setdefault(row, []).append(key)
            return
        self._file(self._new_row(key, sig, whole), bands, list(map(dict.get, self._buckets, bands)))

    def _file(self, row: int, bands: list[bytes], found: list) -> None:
        """Put ``row`` in the bucket of each of its band values (``found``: those buckets until now)."""
        for buckets, value, bucket in zip(self._buckets, bands, found):
            if bucket is None:
                buckets[value] = row
            elif type(bucket) is int:
                buckets[value] = [bucket, row]
            else:
                bucket.append(row)

    def _new_row(self, key: Hashable, sig: np.ndarray, whole: bytes) -> int:
        """Store a signature not seen before (``whole``: its bytes) as a new row with ``key`` as its first member."""
        row = len(self._members)
        if row == self._sigs.shape[0]:
            grown = np.zeros((row * 2, self.num_perm), dtype=np.uint32)
            grown[:row] = self._sigs
            self._sigs = grown
        self._sigs[row] = sig
        self._members.append(key)
        self._by_signature[whole] = row
        return row

    def add(self, key: Hashable, text: str, *, max_matches: int | None = None) -> list[NearDuplicateMatch]:
        """Index ``text`` under ``key`` and return the earlier items it nearly duplicates."""
        if key in self._keys:
            raise KeyError(f"duplicate key {key!r}")
        sig = self._hasher.signature(text)
        bands = band_keys(sig, self.bands, self.rows)
        matches = self._matches(sig, bands, max_matches)
        self._insert(key, sig, bands)
        return matches

    def add_many(self, items: Iterable[tuple[Hashable, str]], *, max_matches: int | None = None) -> list[list[NearDuplicateMatch]]:
        """``add`` for a batch of ``(key, text)`` pairs, hashed together (much faster).

        Items are added in order, so an item matches earlier items of the same batch too;
        the result is exactly what calling :meth:`add` on each would return.
        """
        pairs = list(items)
        keys = [k for k, _ in pairs]
        seen: set[Hashable] = set()
        for key in keys:
            if key in self._keys or key in seen:
                raise KeyError(f"duplicate key {key!r}")
            seen.add(key)
        if not pairs:
            return []
        sigs = self._hasher.signatures([t for _, t in pairs])
        out = []
        for i, key in enumerate(keys):
            bands = band_keys(sigs[i], self.bands, self.rows)
            out.append(self._matches(sigs[i], bands, max_matches))
            self._insert(key, sigs[i], bands)
        return out


# --------------------------------------------------------------------------- batch grouping


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving; the root of a set is its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        # The smaller index wins: roots are the earliest member, independent of union order.
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True

    def roots(self) -> list[int]:
        return [self.find(i) for i in range(len(self.parent))]


def exact_signature_groups(sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collapse identical non-empty signatures.

    Returns ``(representatives, rep_of)``: the sorted indices of one item per distinct
    non-empty signature (its first occurrence), and for every item the index of its
    representative (``-1`` for empty signatures).
    """
    n = sigs.shape[0]
    rep_of = np.full(n, -1, dtype=np.int64)
    valid = np.flatnonzero(~is_empty_signature(sigs)) if n else np.zeros(0, dtype=np.int64)
    if valid.size == 0:
        return np.zeros(0, dtype=np.int64), rep_of
    rows = np.ascontiguousarray(sigs[valid])
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    # Exact comparison of whole rows (no hash collisions); first occurrence represents.
    _, first, inverse = np.unique(as_bytes, return_index=True, return_inverse=True)
    rep_of[valid] = valid[first[inverse.ravel()]]
    return np.sort(valid[first]), rep_of


def candidate_buckets(sigs: np.ndarray, threshold: float, items: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Sorted index arrays of items sharing an LSH bucket (size >= 2), band by band.

    ``items`` restricts to those rows (default: all non-empty ones). Deterministic order.
    """
    perms = sigs.shape[1]
    bands, rows = _cached_params(threshold, perms)
    if items is None:
        items = np.flatnonzero(~is_empty_signature(sigs)) if sigs.shape[0] else np.zeros(0, dtype=np.int64)
    if items.size < 2:
        return
    bh = band_hashes(sigs[items], bands, rows)
    for band in range(bands):
        column = bh[:, band]
        order = np.argsort(column, kind="stable")
        sorted_vals = column[order]
        change = np.flatnonzero(sorted_vals[1:] != sorted_vals[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [sorted_vals.size]))
        for b in np.flatnonzero(ends - starts >= 2).tolist():
            yield np.sort(items[order[starts[b] : ends[b]]])


def verified_edges(sigs: np.ndarray, members: np.ndarray, threshold: float) -> Iterator[tuple[int, int, float]]:
    """Verified ``(i, j, similarity)`` edges (``i < j``) in one bucket, enough to connect every near-duplicate pair.

    Every member is compared with the first (the pivot); members that fail it are
    compared with every other member. Any verified pair is then connected through these
    edges, at a cost linear in the bucket size when most members agree.
    """
    perms = sigs.shape[1]
    limit = threshold - 1e-12
    pivot = int(members[0])
    rest = members[1:]
    sims = np.count_nonzero(sigs[rest] == sigs[pivot][None, :], axis=1) / perms
    ok = sims >= limit
    for j, s in zip(rest[ok].tolist(), sims[ok].tolist()):
        yield pivot, j, s
    for i in rest[~ok].tolist():
        others = members[members != i]
        s2 = np.count_nonzero(sigs[others] == sigs[i][None, :], axis=1) / perms
        hit = s2 >= limit
        for j, s in zip(others[hit].tolist(), s2[hit].tolist()):
            yield min(i, j), max(i, j), s


def near_duplicate_components(sigs: np.ndarray, threshold: float = DEFAULT_THRESHOLD, uf: UnionFind | None = None) -> UnionFind:
    """Join every pair of items whose signatures agree on at least ``threshold`` of their values.

    Identical signatures are joined first; the LSH then runs over one representative
    each, and every candidate pair is verified. With :func:`lsh_is_exact` parameters
    (the default threshold) no qualifying pair is missed. Returns the
    :class:`UnionFind` (pass one in to combine with other grouping).
    """
    n = sigs.shape[0]
    uf = uf or UnionFind(n)
    reps, rep_of = exact_signature_groups(sigs)
    for item in np.flatnonzero(rep_of >= 0).tolist():
        rep = int(rep_of[item])
        if rep != item:
            uf.union(rep, item)
    for members in candidate_buckets(sigs, threshold, reps):
        # Skip buckets already wholly joined: common for templates sharing many bands.
        first = uf.find(int(members[0]))
        if all(uf.find(m) == first for m in members[1:].tolist()):
            continue
        for i, j, _ in verified_edges(sigs, members, threshold):
            uf.union(i, j)
    return uf
