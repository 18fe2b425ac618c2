"""Leakage between splits: the same example, a near-duplicate, or the same group on two sides.

:class:`LeakageDetector` takes examples labelled with their split (a file, or a
``metadata.split`` value) and finds, for every example, the *earliest* example of an
*earlier* split that it

* duplicates exactly (same normalised user + assistant text),
* nearly duplicates (MinHash estimate of shingle Jaccard similarity >= ``threshold``;
  with the default threshold every pair whose estimate reaches it is found, not just
  the ones LSH happens to catch - see :func:`toolkit.dedup.lsh_params`), or
* shares a group with (same value of a group field: ``conversation_id``, ``customer_id``).

Each leak is reported once, on the later example, naming the earlier one: for
``train.jsonl test.jsonl`` the pairs read ``test.jsonl:12 ~ train.jsonl:40``.

Files from any tool work: JSONL (also ``.gz``), JSON arrays, Parquet and CSV; chat records
in OpenAI, ShareGPT or Vertex shape compare by their user and assistant text, anything
else by all of its text (:func:`toolkit.dedup.record_text`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from toolkit.dedup import (
    DEFAULT_NUM_PERM,
    DEFAULT_SHINGLE,
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    exact_key,
    get_hasher,
    is_empty_signature,
    normalize_text,
    record_text,
)
from toolkit.splitting.fields import key_string, resolve_field

DEFAULT_LEAKAGE_GROUPS = ("conversation_id", "customer_id")
_BATCH = 4096


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Leak:
    """One leaked example (``at``, in a later split) and its earlier counterpart."""

    kind: str  # "exact" | "near" | "group"
    at: Location
    other: Location
    split: str
    other_split: str
    index: int  # position of ``at`` among all examples added (0-based)
    other_index: int
    similarity: float | None = None
    field: str | None = None  # group leaks: the field and the shared value
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "file": self.at.file,
            "line": self.at.line,
            "split": self.split,
            "other_file": self.other.file,
            "other_line": self.other.line,
            "other_split": self.other_split,
        }
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
        if self.field is not None:
            out["field"] = self.field
            out["value"] = self.value
        return out

    def describe(self) -> str:
        if self.kind == "exact":
            what = "exact duplicate"
        elif self.kind == "near":
            what = f"near-duplicate (estimated similarity {self.similarity:.2f})"
        else:
            what = f"same {self.field} {self.value!r}"
        return f"{self.at} ~ {self.other}  {what}"


@dataclass
class LeakageReport:
    splits: list[str]
    examples: dict[str, int]
    leaks: list[Leak]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.leaks)

    def leaked_examples(self) -> int:
        return len({leak.index for leak in self.leaks})

    def summary(self) -> list[dict[str, Any]]:
        """Counts per (later split, earlier split): examples leaked by kind, shared group values."""
        table: dict[tuple[str, str], dict[str, Any]] = {}
        for leak in self.leaks:
            entry = table.setdefault((leak.split, leak.other_split), {"exact": 0, "near": 0, "group": 0, "examples": set(), "values": {}})
            entry[leak.kind] += 1
            entry["examples"].add(leak.index)
            if leak.kind == "group":
                entry["values"].setdefault(leak.field, set()).add(leak.value)
        rows = []
        order = {name: i for i, name in enumerate(self.splits)}
        for (split, other), entry in sorted(table.items(), key=lambda kv: (order[kv[0][1]], order[kv[0][0]])):
            rows.append({
                "split": split,
                "other_split": other,
                "leaked_examples": len(entry["examples"]),
                "exact_duplicates": entry["exact"],
                "near_duplicates": entry["near"],
                "shared_group_examples": entry["group"],
                "shared_groups": {f: len(v) for f, v in sorted(entry["values"].items())},
            })
        return rows

    def to_dict(self, max_pairs: int | None = None) -> dict[str, Any]:
        leaks = self.leaks if max_pairs is None else self.leaks[:max_pairs]
        return {
            "leakage": self.found,
            "splits": [{"name": s, "examples": self.examples[s]} for s in self.splits],
            "leaked_examples": self.leaked_examples(),
            "pairs_total": len(self.leaks),
            "pairs_shown": len(leaks),
            "summary": self.summary(),
            "pairs": [leak.to_dict() for leak in leaks],
            "options": self.options,
        }


class LeakageDetector:
    """Collect examples with their split label, then :meth:`finish` finds the leaks.

    Memory: per example a location, a 16-byte key, group values and one signature.
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        near_duplicates: bool = True,
        exact: bool = True,
        group_by: Sequence[str] = DEFAULT_LEAKAGE_GROUPS,
        roles: Sequence[str] = ("user", "assistant"),
        num_perm: int = DEFAULT_NUM_PERM,
        shingle: int = DEFAULT_SHINGLE,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.near_duplicates = near_duplicates
        self.exact = exact or near_duplicates  # near-duplicate search reports exact copies as such
        self.group_by = tuple(group_by)
        self.roles = tuple(roles)
        self._hasher = get_hasher(num_perm, shingle)
        self._num_perm = num_perm
        self.splits: list[str] = []
        self._split_id: dict[str, int] = {}
        self._split_of: list[int] = []
        self._where: list[Location] = []
        self._counts: dict[str, int] = {}
        # key -> first example index per split id (exact text, and each group field)
        self._exact: dict[str, dict[int, int]] = {}
        self._groups: list[dict[str, dict[int, int]]] = [{} for _ in self.group_by]
        self._leaks: list[Leak] = []
        self._exact_hit: set[int] = set()
        self._pending: list[str] = []
        self._blocks: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._split_of)

    def add(self, record: Mapping[str, Any], split: str, file: str, line: int) -> None:
        """Add the next example; ``split`` is its split label (a file name, or a split field)."""
        sid = self._split_id.get(split)
        if sid is None:
            sid = self._split_id[split] = len(self.splits)
            self.splits.append(split)
            self._counts[split] = 0
        self._counts[split] += 1
        index = len(self._split_of)
        self._split_of.append(sid)
        where = Location(file, line)
        self._where.append(where)
        normalized = ""
        if self.exact and isinstance(record, Mapping):
            normalized = normalize_text(record_text(record, self.roles))
        if normalized:
            firsts = self._exact.setdefault(exact_key(normalized), {})
            earlier = self._earlier(firsts, sid)
            if earlier is not None:
                self._exact_hit.add(index)
                self._leaks.append(self._leak("exact", index, earlier, similarity=1.0))
            firsts.setdefault(sid, index)
        if isinstance(record, Mapping):
            for field_index, spec in enumerate(self.group_by):
                value = key_string(resolve_field(record, spec))
                if value is None:
                    continue
                firsts = self._groups[field_index].setdefault(value, {})
                earlier = self._earlier(firsts, sid)
                if earlier is not None:
                    self._leaks.append(self._leak("group", index, earlier, field=spec, value=value))
                firsts.setdefault(sid, index)
        if self.near_duplicates:
            self._pending.append(normalized)
            if len(self._pending) >= _BATCH:
                self._flush()

    def _earlier(self, firsts: dict[int, int], sid: int) -> int | None:
        """The earliest example seen so far with this key in a split other than ``sid``."""
        best = None
        for other_sid, index in firsts.items():
            if other_sid != sid and (best is None or index < best):
                best = index
        return best

    def _leak(self, kind: str, index: int, other: int, **extra: Any) -> Leak:
        return Leak(kind=kind, at=self._where[index], other=self._where[other], split=self.splits[self._split_of[index]],
                    other_split=self.splits[self._split_of[other]], index=index, other_index=other, **extra)

    def _flush(self) -> None:
        if self._pending:
            self._blocks.append(self._hasher.signatures(self._pending, normalized=True))
            self._pending = []

    def finish(self) -> LeakageReport:
        """Find near-duplicate leaks and return every leak, ordered by the leaked example."""
        leaks = list(self._leaks)
        if self.near_duplicates and len(self._split_of) > 1 and len(self.splits) > 1:
            self._flush()
            sigs = np.concatenate(self._blocks) if self._blocks else np.zeros((0, self._num_perm), dtype=np.uint32)
            self._blocks = [sigs]
            leaks.extend(self._near_leaks(sigs))
        kind_order = {"exact": 0, "near": 1, "group": 2}
        leaks.sort(key=lambda leak: (leak.index, kind_order[leak.kind], leak.field or "", leak.other_index))
        return LeakageReport(
            splits=list(self.splits),
            examples=dict(self._counts),
            leaks=leaks,
            options={"threshold": self.threshold, "near-duplicates": self.near_duplicates,
                     "group-by": list(self.group_by), "roles": list(self.roles)},
        )

    def _near_leaks(self, sigs: np.ndarray) -> list[Leak]:
        """For every example, its most similar earlier example in another split (earliest on ties).

        One incremental index per split: each example queries the other splits' indexes
        (which hold only earlier examples), then joins its own. Identical copies share an
        index entry, so templated data does not make queries quadratic.
        """
        indexes = {sid: NearDuplicateIndex(self.threshold, num_perm=self._num_perm, shingle=self._hasher.shingle)
                   for sid in range(len(self.splits))}
        empty = is_empty_signature(sigs) if sigs.shape[0] else np.zeros(0, dtype=bool)
        out = []
        for e in range(sigs.shape[0]):
            if empty[e]:
                continue
            sig = sigs[e]
            own = self._split_of[e]
            if e not in self._exact_hit:
                best = None
                for sid, index in indexes.items():
                    if sid == own or not len(index):
                        continue
                    found = index.query_signature(sig, max_matches=1)
                    if found and (best is None or found[0].similarity > best.similarity + 1e-12
                                  or (abs(found[0].similarity - best.similarity) <= 1e-12 and found[0].key < best.key)):
                        best = found[0]
                if best is not None:
                    out.append(self._leak("near", e, int(best.key), similarity=float(best.similarity)))
            indexes[own].add_signature(e, sig)
        return out


# --------------------------------------------------------------------------- reading files


def iter_split_file(path: str) -> Iterator[tuple[int, Any, str | None]]:
    """``(line_or_row, record, error)`` for every record of a split file of any common kind.

    JSONL (also gzip), a JSON array (or an object with a ``data``/``rows``/``examples``
    list), Parquet and CSV (rows numbered from 1; CSV from line 2, after the header).
    """
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        row = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                row += 1
                yield row, record, None
        return
    if lower.endswith(".csv"):
        import csv

        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            start = 2
            for record in reader:
                # reader.line_num is the line the record ends on (a field may span lines).
                yield start, dict(record), None
                start = reader.line_num + 1
        return
    if lower.endswith(".json"):
        import orjson

        with open(path, "rb") as fh:
            data = fh.read()
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None  # perhaps JSON Lines under a .json name: read it as such below
        else:
            if isinstance(value, Mapping):
                for key in ("data", "rows", "examples", "train", "test", "validation"):
                    if isinstance(value.get(key), list):
                        value = value[key]
                        break
            if isinstance(value, list):
                for row, record in enumerate(value, start=1):
                    yield row, record, None if isinstance(record, Mapping) else "not an object"
                return
            if isinstance(value, Mapping):
                yield 1, value, None
                return
    from toolkit.io.jsonl import read_jsonl

    for item in read_jsonl(path, file_name=os.fspath(path)):
        yield item.line, item.value, None if item.ok else f"{item.error.code} {item.error.message}"  # type: ignore[union-attr]
