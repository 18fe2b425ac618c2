"""Leak-free, stratified, stable train / validation / test assignment.

How a split is made (:class:`Splitter`):

1. **Groups.** Examples that share a value of any ``group_by`` field (conversation id by
   default; add customer id to keep a customer's tickets together) are joined, and so are
   exact duplicates and near-duplicates of their user and assistant text (MinHash,
   ``threshold``). Joining is transitive (union-find): the resulting *components* are
   what gets assigned, so no conversation, customer or near-identical template lands on
   two sides. A component is named by the group key of its earliest example.
2. **Cap.** ``max_examples_per_group`` keeps at most N examples of a component (chosen
   by a keyed hash of their content, spread over the conversation); the others are
   dropped and counted.
3. **Assignment** of each component to a split:

   * ``assignment="balanced"`` (default): components are taken in input order; when a
     component is first met, it goes to the split furthest below its target share *in
     the component's stratum* (the stratum of its first example), counting the run of
     its examples that follow; when no split is a whole group behind, the choice among
     the splits below target is made by a uniform value hashed from (seed, component
     key), weighted by how far below target each is. Every split's count per stratum
     stays within about one group of the requested ratio when a group's examples are
     adjacent (as the converters write them; scattered groups balance more loosely).
     Each decision depends only on the component's key, the seed and the examples up
     to its first run, so **appending** new data (next month's tickets, even of old
     customers) never changes an earlier assignment. Re-ordering the input, or
     inserting examples in the middle, can.
   * ``assignment="hash"``: a component's split is a pure function of its key and the
     seed (its hashed uniform value against the cumulative ratios). Any superset, in
     any order, keeps every earlier assignment; proportions are only right on average
     (binomial noise: about ``sqrt(n * r * (1 - r))`` groups).
   * ``by_time`` + ``cutoffs``: a component goes to the split of the period its earliest
     example falls in (train on the past, test on the future).

   Either way, a component that new data *joins* to another (a new example that is a
   near-duplicate of two old groups, or a ticket naming two old customers) must move as
   a whole; such merges are the only way an earlier example can change sides (and, in
   balanced mode, the last group of the old input if the new data continues it).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterator, Literal, Sequence

import numpy as np

from toolkit.dedup import (
    DEFAULT_NUM_PERM,
    DEFAULT_SHINGLE,
    DEFAULT_THRESHOLD,
    UnionFind,
    get_hasher,
    near_duplicate_components,
    normalize_words,
    record_text,
)
from toolkit.linter.rule import fingerprint_of
from toolkit.splitting.fields import MISSING, field_pointer, key_string, parse_time, resolve_field

Assignment = Literal["balanced", "hash"]

DEFAULT_NAMES = ("train", "validation", "test")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)
DEFAULT_GROUP_BY = ("conversation_id", "customer_id")
MISSING_STRATUM = "(missing)"
_BATCH = 4096  # texts hashed together


class SplitError(ValueError):
    """Bad options or input the splitter cannot use; the message names file, line and field."""


@dataclass(frozen=True)
class SplitOptions:
    """Everything that decides a split (written to the manifest)."""

    names: tuple[str, ...] = DEFAULT_NAMES
    ratios: tuple[float, ...] | None = DEFAULT_RATIOS
    counts: tuple[int | None, ...] | None = None  # None entries take the rest
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    stratify_by: str | None = None
    seed: int = 0
    near_duplicates: bool = True
    threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    shingle: int = DEFAULT_SHINGLE
    roles: tuple[str, ...] = ("user", "assistant")
    max_examples_per_group: int | None = None
    by_time: str | None = None
    cutoffs: tuple[str, ...] = ()
    assignment: Assignment = "balanced"
    encoding: str | None = "o200k_base"  # None: no token counts

    def check(self) -> "SplitOptions":
        """Validate and normalise; raises :class:`SplitError` with a usable message."""
        names = tuple(self.names)
        if not names or any(not n or "/" in n or n.startswith(".") for n in names):
            raise SplitError(f"split names must be non-empty file-name-safe words, got {list(names)}")
        if len(set(names)) != len(names):
            raise SplitError(f"split names must be distinct, got {list(names)}")
        if self.assignment not in ("balanced", "hash"):
            raise SplitError(f"assignment must be 'balanced' or 'hash', got {self.assignment!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise SplitError(f"near-duplicate threshold must be in (0, 1], got {self.threshold}")
        if self.max_examples_per_group is not None and self.max_examples_per_group < 1:
            raise SplitError("max-examples-per-group must be at least 1")
        if not self.group_by and self.group_by != ():
            raise SplitError("group_by must be a list of field names")
        ratios = self.ratios
        if self.by_time:
            if not self.cutoffs:
                raise SplitError("--by-time needs --cutoff (one date per boundary between splits)")
            stamps = []
            for cutoff in self.cutoffs:
                try:
                    stamps.append(parse_time(cutoff))
                except ValueError as exc:
                    raise SplitError(f"cutoff {cutoff!r}: {exc}") from None
            if stamps != sorted(stamps) or len(set(stamps)) != len(stamps):
                raise SplitError(f"cutoffs must be strictly increasing, got {list(self.cutoffs)}")
            wanted = len(self.cutoffs) + 1
            if len(names) != wanted:
                if names == DEFAULT_NAMES[: len(names)] and wanted <= 3:
                    names = DEFAULT_NAMES[:wanted] if wanted == 3 else ("train", "test")
                else:
                    raise SplitError(f"{len(self.cutoffs)} cutoff(s) make {wanted} splits but {len(names)} names were given")
            return replace(self, names=names, ratios=None, counts=None)
        if self.counts is not None:
            if len(self.counts) != len(names):
                raise SplitError(f"{len(self.counts)} counts for {len(names)} splits ({', '.join(names)})")
            if sum(1 for c in self.counts if c is None) > 1:
                raise SplitError("at most one count may be 'rest'")
            if any(c is not None and c < 0 for c in self.counts):
                raise SplitError("counts must be >= 0")
            return replace(self, names=names, ratios=None)
        if ratios is None:
            raise SplitError("give ratios, counts or a time cutoff")
        if len(ratios) != len(names):
            raise SplitError(f"{len(ratios)} ratios for {len(names)} splits ({', '.join(names)}); pass --names to match")
        if any(r < 0 or math.isnan(r) for r in ratios):
            raise SplitError(f"ratios must be >= 0, got {list(ratios)}")
        total = sum(ratios)
        if abs(total - 1.0) > 1e-6 and abs(total - 100.0) > 1e-4:
            raise SplitError(f"ratios must add up to 1 (or 100), got {total:g}")
        return replace(self, names=names, ratios=tuple(float(r) / total for r in ratios))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name.replace("_", "-")] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass
class GroupInfo:
    """One component (the unit of assignment)."""

    key: str
    split: str
    size: int  # examples kept
    stratum: str
    dropped: int = 0
    near_duplicate_joins: int = 0  # how many distinct field groups near-duplicates joined into it


@dataclass
class SplitResult:
    """The outcome: one split name per input example (``None`` = dropped by the cap)."""

    options: SplitOptions
    assignment: list[str | None]
    group_of: list[int]  # component index per example
    groups: list[GroupInfo]
    stats: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.assignment)

    def indices(self, name: str) -> list[int]:
        """Input positions of the examples assigned to split ``name``."""
        return [i for i, s in enumerate(self.assignment) if s == name]

    def counts(self) -> dict[str, int]:
        return {name: self.stats["splits"][name]["examples"] for name in self.options.names}


def _unit(seed: int, key: str) -> float:
    """A uniform value in [0, 1) from (seed, key): the same on every machine and run."""
    digest = hashlib.blake2b(f"{seed}\x1f{key}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclass
class Facts:
    """What the splitter keeps of one example (small, picklable: workers compute it)."""

    groups: tuple[str | None, ...]
    fingerprint: str
    stratum: str | None
    time: float | None
    time_error: str | None
    exact: str | None
    tokens: int
    words: list[str]  # the normalised comparable text's words (dropped once hashed)


def extract_facts(record: Mapping[str, Any], options: SplitOptions, encoding: Any, file: str, line: int) -> Facts:
    """The facts of one record for ``options`` (a pure function; runs in worker processes)."""
    if not isinstance(record, Mapping):
        raise SplitError(f"{file}:{line}: the record is a {type(record).__name__}, not an object")
    groups = tuple(key_string(resolve_field(record, spec)) for spec in options.group_by)
    stratum = key_string(resolve_field(record, options.stratify_by)) if options.stratify_by else None
    time = None
    time_error = None
    if options.by_time:
        raw = resolve_field(record, options.by_time)
        try:
            time = parse_time(raw)
        except ValueError as exc:
            what = "is missing" if raw is MISSING else f"is not a time ({exc})"
            time_error = (f"{file}:{line}: field {field_pointer(options.by_time)} {what}; "
                          "every example needs it for --by-time")
    text = record_text(record, options.roles)
    words = normalize_words(text)
    normalized = " ".join(words)
    tokens = 0
    if encoding is not None:
        from toolkit.tokens import count_example, count_text

        tokens = count_example(record, encoding).total if isinstance(record.get("messages"), list) else count_text(text, encoding)
    # blake2b of the normalised text: the same key as toolkit.dedup.exact_key(text).
    exact = hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest() if normalized else None
    return Facts(groups, fingerprint_of(record), stratum, time, time_error, exact, tokens, words)


class Splitter:
    """Streaming first pass: ``add(record, file, line)`` for every example, then ``finish()``.

    Keeps per example only small facts (group key, stratum, time, a 4-byte x ``num_perm``
    signature, a token count), never the record itself.
    """

    def __init__(self, options: SplitOptions | None = None) -> None:
        self.options = (options or SplitOptions()).check()
        self._hasher = get_hasher(self.options.num_perm, self.options.shingle)
        self._encoding = None
        if self.options.encoding:
            from toolkit.tokens import get_encoding

            self._encoding = get_encoding(self.options.encoding)
        self._n = 0
        self._first_of: dict[tuple[int, str], int] = {}
        self._unions: list[tuple[int, int]] = []
        self._labels: list[str] = []
        self._strata: list[str] = []
        self._stratum_ids: dict[str, int] = {}
        self._times: list[float] = []
        self._tokens: list[int] = []
        self._fingerprints: list[str] = []
        self._exact: dict[str, int] = {}
        self._pending_texts: list[list[str]] = []
        self._sig_blocks: list[np.ndarray] = []
        self._where: list[tuple[str, int]] = []
        self._missing_group = 0
        self._missing_group_at: tuple[str, int] | None = None
        self._missing_stratum = 0
        self._missing_stratum_at: tuple[str, int] | None = None
        self.files: list[str] = []

    def __len__(self) -> int:
        return self._n

    @property
    def where(self) -> list[tuple[str, int]]:
        """``(file, line)`` of every example added, in order."""
        return self._where

    # ------------------------------------------------------------------ pass 1

    def add(self, record: Mapping[str, Any], file: str = "<input>", line: int = 0) -> None:
        """Observe the next example (in input order)."""
        facts = extract_facts(record, self.options, self._encoding, file, line)
        self.add_facts(facts, file, line)
        if self.options.near_duplicates:
            self._pending_texts.append(facts.words)
            if len(self._pending_texts) >= _BATCH:
                self._flush()

    def add_facts(self, facts: "Facts", file: str, line: int, signature_block: np.ndarray | None = None) -> None:
        """Record the facts of the next example (computed here or by a worker process).

        Workers pass the signatures of a whole chunk with its last example
        (``signature_block``); ``facts.words`` is then empty.
        """
        opts = self.options
        index = self._n
        self._n += 1
        self._where.append((file, line))
        if file not in self.files:
            self.files.append(file)
        label = None
        for field_index, value in enumerate(facts.groups):
            if value is None:
                continue
            token = (field_index, value)
            first = self._first_of.get(token)
            if first is None:
                self._first_of[token] = index
            else:
                self._unions.append((first, index))
            if label is None:
                # The value alone names the group: spelling the field another way
                # (customer_id, /metadata/customer_id) keeps the same assignment.
                label = value
        self._fingerprints.append(facts.fingerprint)
        if label is None:
            label = f"example={facts.fingerprint}"
            if opts.group_by:
                self._missing_group += 1
                if self._missing_group_at is None:
                    self._missing_group_at = (file, line)
        self._labels.append(label)
        stratum = ""
        if opts.stratify_by:
            stratum = facts.stratum if facts.stratum is not None else MISSING_STRATUM
            if facts.stratum is None:
                self._missing_stratum += 1
                if self._missing_stratum_at is None:
                    self._missing_stratum_at = (file, line)
        self._strata.append(stratum)
        if opts.by_time:
            if facts.time_error is not None:
                raise SplitError(facts.time_error)
            self._times.append(facts.time)  # type: ignore[arg-type]
        if facts.exact is not None:
            first = self._exact.get(facts.exact)
            if first is None:
                self._exact[facts.exact] = index
            else:
                self._unions.append((first, index))
        if self._encoding is not None:
            self._tokens.append(facts.tokens)
        if signature_block is not None:
            self._sig_blocks.append(signature_block)

    def _flush(self) -> None:
        if self._pending_texts:
            self._sig_blocks.append(self._hasher.signatures_of_words(self._pending_texts))
            self._pending_texts = []

    # ------------------------------------------------------------------ finish

    def finish(self) -> SplitResult:
        """Group, cap and assign; returns the :class:`SplitResult`."""
        opts = self.options
        n = self._n
        warnings: list[str] = []
        uf = UnionFind(n)
        field_roots = UnionFind(n)
        for a, b in self._unions:
            uf.union(a, b)
        for a, b in self._unions:
            field_roots.union(a, b)
        near_joined_pairs = 0
        if opts.near_duplicates and n:
            self._flush()
            sigs = np.concatenate(self._sig_blocks) if self._sig_blocks else np.zeros((0, opts.num_perm), dtype=np.uint32)
            before = len(set(uf.roots()))
            near_duplicate_components(sigs, opts.threshold, uf)
            near_joined_pairs = before - len(set(uf.roots()))
            self._sig_blocks = [sigs]
        roots = uf.roots()

        if self._missing_group and opts.group_by:
            file, line = self._missing_group_at  # type: ignore[misc]
            fields_text = ", ".join(field_pointer(f) for f in opts.group_by)
            warnings.append(
                f"{self._missing_group} of {n} examples have no group field ({fields_text}; first at {file}:{line}): "
                "each is its own group (joined only with its exact and near-duplicates)"
            )
        if self._missing_stratum:
            file, line = self._missing_stratum_at  # type: ignore[misc]
            warnings.append(
                f"{self._missing_stratum} of {n} examples have no stratum field {field_pointer(opts.stratify_by or '')} "
                f"(first at {file}:{line}): they form the stratum {MISSING_STRATUM!r}"
            )

        # Components in order of first appearance.
        comp_of_root: dict[int, int] = {}
        group_of = [0] * n
        members: list[list[int]] = []
        for i, root in enumerate(roots):
            comp = comp_of_root.get(root)
            if comp is None:
                comp = comp_of_root[root] = len(members)
                members.append([])
            members[comp].append(i)
            group_of[i] = comp

        # Near-duplicate joins per component: distinct field groups merged into it.
        field_root_list = field_roots.roots() if opts.near_duplicates else None

        # Cap per group.
        kept = [True] * n
        dropped_total = 0
        cap = opts.max_examples_per_group
        groups: list[GroupInfo] = []
        for comp, items in enumerate(members):
            dropped = 0
            if cap is not None and len(items) > cap:
                ranked = sorted(items, key=lambda i: (_unit(opts.seed, "cap\x1f" + self._fingerprints[i]), i))
                for i in ranked[cap:]:
                    kept[i] = False
                dropped = len(items) - cap
                dropped_total += dropped
            joins = 0
            if field_root_list is not None:
                joins = len({field_root_list[i] for i in items}) - 1
            first = items[0]
            groups.append(GroupInfo(key=self._labels[first], split="", size=len(items) - dropped,
                                    stratum=self._strata[first], dropped=dropped, near_duplicate_joins=joins))
        if dropped_total:
            warnings.append(f"--max-examples-per-group {cap}: dropped {dropped_total} examples from "
                            f"{sum(1 for g in groups if g.dropped)} groups (not written to any split)")

        names = opts.names
        if opts.by_time:
            split_of_comp = self._assign_by_time(members, kept)
        else:
            ratios = self._ratios(sum(kept))
            if opts.assignment == "hash":
                cumulative = np.cumsum(ratios)
                split_of_comp = [
                    min(int(np.searchsorted(cumulative, _unit(opts.seed, g.key), side="right")), len(names) - 1)
                    for g in groups
                ]
                # Never put a group in a split whose ratio is 0 (rounding at the top end).
                split_of_comp = [s if ratios[s] > 0 else int(np.argmax(ratios)) for s in split_of_comp]
            else:
                split_of_comp = self._assign_balanced(group_of, groups, kept, ratios)
        for comp, group in enumerate(groups):
            group.split = names[split_of_comp[comp]]
        assignment: list[str | None] = [names[split_of_comp[group_of[i]]] if kept[i] else None for i in range(n)]
        stats = self._stats(assignment, group_of, groups, near_joined_pairs, dropped_total)
        kept_total = stats["kept"]
        if not opts.by_time and kept_total:
            smallest = min((r for r in self._ratios(kept_total) if r > 0), default=0.0) * kept_total
            largest = max(groups, key=lambda g: g.size, default=None)
            if largest is not None and smallest and largest.size > smallest / 2:
                warnings.append(
                    f"the largest group ({largest.key!r}, {largest.size} examples, {largest.size / kept_total:.1%} of the data) "
                    f"is more than half the smallest split's target ({smallest:.0f}): proportions can only be met "
                    "within that group's size (it may land in a small split; check the --group-by fields and the "
                    "near-duplicate threshold, or give that split a larger share)"
                )
        return SplitResult(opts, assignment, group_of, groups, stats, warnings)

    def _ratios(self, total: int) -> list[float]:
        opts = self.options
        if opts.ratios is not None:
            return list(opts.ratios)
        assert opts.counts is not None
        fixed = sum(c for c in opts.counts if c is not None)
        if fixed > total:
            raise SplitError(f"the counts ask for {fixed} examples but only {total} are available")
        rest = total - fixed
        if None not in opts.counts and fixed != total:
            raise SplitError(f"the counts add up to {fixed} but there are {total} examples; use 'rest' for one split")
        values = [float(c) if c is not None else float(rest) for c in opts.counts]
        return [v / total if total else 0.0 for v in values]

    def _assign_balanced(self, group_of: list[int], groups: list[GroupInfo], kept: list[bool], ratios: list[float]) -> list[int]:
        """Deficit-driven assignment in input order, per stratum (see the module doc)."""
        k = len(ratios)
        r = np.array(ratios, dtype=np.float64)
        seed = self.options.seed
        counts: dict[str, np.ndarray] = {}
        split_of_comp = [-1] * len(groups)
        # Run length: how many kept examples of the same group and stratum follow in a row
        # from each position. Converters write a conversation's examples together, so at
        # a group's first example this is usually its size; it depends only on the lines
        # up to the end of that run, so appending data cannot change it (except for a
        # group whose run ends the old input and continues in the new data).
        n = len(group_of)
        run = [0] * n
        following = 0
        for i in range(n - 1, -1, -1):
            if not kept[i]:
                run[i] = following = 0
                continue
            same = i + 1 < n and kept[i + 1] and group_of[i + 1] == group_of[i] and self._strata[i + 1] == self._strata[i]
            following = following + 1 if same else 1
            run[i] = following
        for i, comp in enumerate(group_of):
            if not kept[i]:
                continue
            stratum = self._strata[i]
            c = counts.get(stratum)
            if c is None:
                c = counts[stratum] = np.zeros(k, dtype=np.float64)
            choice = split_of_comp[comp]
            if choice < 0:
                total = c.sum()
                m = run[i]
                need = r * (total + m) - c
                best = int(np.argmax(need))
                if need[best] >= m - 1e-9:
                    choice = best  # a split is a whole group behind: catch up
                else:
                    weights = np.where((need > 1e-12) & (r > 0), need, 0.0)
                    if weights.sum() <= 0:
                        choice = best
                    else:
                        cumulative = np.cumsum(weights) / weights.sum()
                        u = _unit(seed, groups[comp].key)
                        choice = min(int(np.searchsorted(cumulative, u, side="right")), k - 1)
                        while weights[choice] <= 0:  # float edge: step to a split that needs it
                            choice = (choice + 1) % k
                split_of_comp[comp] = choice
            c[choice] += 1
        for comp in range(len(groups)):
            if split_of_comp[comp] < 0:  # every example of it dropped (cannot happen with cap >= 1)
                split_of_comp[comp] = int(np.argmax(r))
        return split_of_comp

    def _assign_by_time(self, members: list[list[int]], kept: list[bool]) -> list[int]:
        stamps = [parse_time(c) for c in self.options.cutoffs]
        out = []
        for items in members:
            times = [self._times[i] for i in items if kept[i]] or [self._times[i] for i in items]
            out.append(bisect.bisect_right(stamps, min(times)))
        return out

    def _stats(self, assignment: list[str | None], group_of: list[int], groups: list[GroupInfo],
               near_joined: int, dropped: int) -> dict[str, Any]:
        opts = self.options
        names = opts.names
        per: dict[str, dict[str, Any]] = {
            name: {"examples": 0, "groups": 0, "tokens": 0, "strata": {}} for name in names
        }
        strata_totals: dict[str, int] = {}
        for i, name in enumerate(assignment):
            if name is None:
                continue
            entry = per[name]
            entry["examples"] += 1
            if self._tokens:
                entry["tokens"] += self._tokens[i]
            if opts.stratify_by:
                stratum = self._strata[i]
                entry["strata"][stratum] = entry["strata"].get(stratum, 0) + 1
                strata_totals[stratum] = strata_totals.get(stratum, 0) + 1
        for group in groups:
            if group.size:
                per[group.split]["groups"] += 1
        total_examples = sum(p["examples"] for p in per.values())
        ratios = None if opts.by_time else self._ratios(total_examples) if total_examples else None
        largest = max((g.size for g in groups), default=0)
        splits: dict[str, Any] = {}
        for j, name in enumerate(names):
            entry = per[name]
            out: dict[str, Any] = {
                "examples": entry["examples"],
                "groups": entry["groups"],
                "fraction": round(entry["examples"] / total_examples, 6) if total_examples else 0.0,
            }
            if ratios is not None:
                out["target"] = round(ratios[j], 6)
            if self._encoding is not None:
                out["tokens"] = {"total": entry["tokens"], "encoding": self._encoding.name, "estimate": True}
            if opts.stratify_by:
                out["strata"] = {
                    stratum: {
                        "examples": entry["strata"].get(stratum, 0),
                        "fraction_of_stratum": round(entry["strata"].get(stratum, 0) / strata_totals[stratum], 6),
                    }
                    for stratum in sorted(strata_totals)
                }
            splits[name] = out
        return {
            "examples": self._n,
            "kept": total_examples,
            "dropped_by_cap": dropped,
            "groups": sum(1 for g in groups if g.size),
            "largest_group": largest,
            "groups_joined_by_near_duplicates": near_joined,
            "examples_without_group_field": self._missing_group,
            "examples_without_stratum": self._missing_stratum,
            "strata": dict(sorted(strata_totals.items())) if opts.stratify_by else None,
            "splits": splits,
        }


# --------------------------------------------------------------------------- library API


def _iter_records(records: Any) -> Iterator[Mapping[str, Any]]:
    """Rows of a list/iterable of dicts, a ``datasets.Dataset`` or a polars DataFrame."""
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a core dependency
        pl = None
    if pl is not None and isinstance(records, pl.LazyFrame):
        records = records.collect()
    if pl is not None and isinstance(records, pl.DataFrame):
        yield from records.iter_rows(named=True)
        return
    to_iter = getattr(records, "to_iterable_dataset", None)
    if to_iter is not None and hasattr(records, "features"):
        # datasets.Dataset: iterating yields one dict per row, streamed from Arrow.
        yield from iter(records)
        return
    for record in records:
        if hasattr(record, "to_dict") and not isinstance(record, Mapping):
            record = record.to_dict()
        yield record


def split(
    records: Any,
    ratios: Sequence[float] | None = DEFAULT_RATIOS,
    *,
    names: Sequence[str] = DEFAULT_NAMES,
    counts: Sequence[int | None] | None = None,
    group_by: str | Sequence[str] | None = DEFAULT_GROUP_BY,
    stratify_by: str | None = None,
    seed: int = 0,
    near_duplicates: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
    max_examples_per_group: int | None = None,
    by_time: str | None = None,
    cutoffs: Sequence[str] | str = (),
    assignment: Assignment = "balanced",
    roles: Sequence[str] = ("user", "assistant"),
    encoding: str | None = None,
) -> SplitResult:
    """Assign every record to a split without leakage; returns a :class:`SplitResult`.

    ``records``: a list or iterable of example dicts (or :class:`~toolkit.model.Example`),
    a ``datasets.Dataset`` or a polars ``DataFrame``. ``result.assignment[i]`` is the
    split of record ``i`` (``None`` when ``max_examples_per_group`` dropped it).

    >>> result = split(rows, [0.8, 0.2], names=["train", "test"], stratify_by="intent")
    >>> train = dataset.select(result.indices("train"))            # a datasets.Dataset
    >>> df.with_columns(split=pl.Series(result.assignment))         # a polars DataFrame
    """
    if isinstance(group_by, str):
        group_by = (group_by,)
    if isinstance(cutoffs, str):
        cutoffs = tuple(c for c in cutoffs.split(",") if c.strip())
    options = SplitOptions(
        names=tuple(names),
        ratios=tuple(ratios) if ratios is not None and counts is None else None,
        counts=tuple(counts) if counts is not None else None,
        group_by=tuple(group_by or ()),
        stratify_by=stratify_by,
        seed=seed,
        near_duplicates=near_duplicates,
        threshold=threshold,
        max_examples_per_group=max_examples_per_group,
        by_time=by_time,
        cutoffs=tuple(cutoffs),
        assignment=assignment,
        roles=tuple(roles),
        encoding=encoding,
    )
    splitter = Splitter(options)
    for index, record in enumerate(_iter_records(records), start=1):
        splitter.add(record, "<records>", index)
    return splitter.finish()
