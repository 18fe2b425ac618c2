"""Exact and near-duplicate detection shared by the linter, the splitter and ``ftkit leakage``.

Texts are normalised (Unicode NFKC, case-folded, punctuation and runs of white space
collapsed), cut into word shingles, and summarised by MinHash signatures (``datasketch``);
an LSH index finds candidate pairs whose estimated Jaccard similarity reaches the threshold.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Mapping

import numpy as np
from datasketch import MinHash, MinHashLSH

from toolkit.model import content_text

_PUNCT = re.compile(r"[^\w\s<>]+", re.UNICODE)
_SPACE = re.compile(r"\s+")

DEFAULT_THRESHOLD = 0.85
DEFAULT_NUM_PERM = 64
DEFAULT_SHINGLE = 3


def normalize_text(text: str) -> str:
    """Normalise for comparison: NFKC, case-fold, drop punctuation, collapse white space."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


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


def exact_key(text: str) -> str:
    """A hash of the normalised text: equal keys mean duplicates up to case, spacing and punctuation."""
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=16).hexdigest()


def shingles(normalized: str, size: int = DEFAULT_SHINGLE) -> set[bytes]:
    words = normalized.split()
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def minhash(text: str, *, num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE, seed: int = 1) -> MinHash:
    """The MinHash signature of a text's word shingles (``text`` is normalised here)."""
    signature = MinHash(num_perm=num_perm, seed=seed)
    grams = shingles(normalize_text(text), shingle)
    if grams:
        signature.update_batch(list(grams))
    return signature


@dataclass
class NearDuplicateMatch:
    key: Hashable  # the earlier item this one matches
    similarity: float  # estimated Jaccard similarity of the shingle sets


class NearDuplicateIndex:
    """An incremental LSH index: ``add(key, text)`` returns the earlier items it nearly duplicates.

    Memory grows with the number of items (one signature each), not with their length.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, *, num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[Hashable, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def query(self, text: str) -> list[NearDuplicateMatch]:
        """Items already indexed whose similarity to ``text`` reaches the threshold, best first."""
        signature = minhash(text, num_perm=self.num_perm, shingle=self.shingle)
        return self._matches(signature)

    def _matches(self, signature: MinHash) -> list[NearDuplicateMatch]:
        found = []
        for key in self._lsh.query(signature):
            similarity = float(np.mean(self._signatures[key] == signature.hashvalues))
            if similarity >= self.threshold:
                found.append(NearDuplicateMatch(key, similarity))
        found.sort(key=lambda m: (-m.similarity, str(m.key)))
        return found

    def add(self, key: Hashable, text: str) -> list[NearDuplicateMatch]:
        """Index ``text`` under ``key`` and return the earlier items it nearly duplicates."""
        if key in self._signatures:
            raise KeyError(f"duplicate key {key!r}")
        signature = minhash(text, num_perm=self.num_perm, shingle=self.shingle)
        matches = self._matches(signature)
        self._lsh.insert(key, signature, check_duplication=False)
        self._signatures[key] = signature.hashvalues
        return matches
