"""D010-D011: leakage between splits - the same example, a near-duplicate, or one group on two sides.

These dataset rules compare examples that belong to *different splits*. An example's split
is, in order:

1. the value of its ``split-field`` (``metadata.split``, or a top-level ``split`` column),
   so one file holding all splits is checked;
2. else its file, when the file name says which split it is (``train.jsonl``,
   ``data/validation-00001.jsonl``, ``my_test_set.jsonl``: the words train/training,
   val/valid/validation/dev, test/testing/holdout, eval/evaluation), with ``files = "auto"``;
   with ``files = "all"`` every file is its own split.

Files that are not splits (shards of one dataset) are not compared, so linting a folder of
shards raises nothing here (D001/D002 report duplicates inside a dataset).
The engine is :class:`toolkit.splitting.leakage.LeakageDetector`, shared with ``ftkit leakage``.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any, Iterable, Mapping

from toolkit.dedup import DEFAULT_THRESHOLD, normalize_text, record_text
from toolkit.diagnostics import Severity
from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRef, Finding, RuleOption, register
from toolkit.splitting.fields import key_string, resolve_field
from toolkit.splitting.leakage import DEFAULT_LEAKAGE_GROUPS, Leak, LeakageDetector

_SPLIT_WORDS = {
    "train": "train", "training": "train",
    "val": "validation", "valid": "validation", "validation": "validation", "dev": "validation",
    "test": "test", "testing": "test", "holdout": "test",
    "eval": "eval", "evaluation": "eval",
}
_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1024)
def split_of_file(path: str) -> str | None:
    """The split a file name names (``train``, ``validation``, ``test``, ``eval``), or ``None``."""
    base = os.path.basename(path).lower()
    for word in _WORD.findall(base):
        if word in _SPLIT_WORDS:
            return _SPLIT_WORDS[word]
    return None


def _line(user: str, assistant: str, meta: str) -> str:
    return ('{"messages": [{"role": "user", "content": "' + user + '"}, {"role": "assistant", "content": "'
            + assistant + '"}], "metadata": ' + meta + "}")


_SPLIT_FIELD = RuleOption("split-field", "str", "split",
                          "Field holding an example's split (metadata name, dotted path or JSON pointer); "
                          "examples without it take their split from their file.")
_FILES = RuleOption("files", "str", "auto",
                    "How files map to splits: auto (a file whose name says train/validation/test/eval is that split; "
                    "other files are not compared), all (every file is its own split), none (only the split field).")


class _SplitLeakageRule(DatasetRule):
    """Shared plumbing: label each example with its split, feed a detector, report at the end."""

    kinds: tuple[str, ...] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        mode = self.opts["files"]
        if mode not in ("auto", "all", "none"):
            raise ValueError(f"{self.code}: option 'files' must be auto, all or none, got {mode!r}")
        self._refs: list[ExampleRef] = []
        self._detector = self._make_detector()

    def _make_detector(self) -> LeakageDetector:  # pragma: no cover - abstract
        raise NotImplementedError

    def _label(self, ctx: ExampleContext) -> str | None:
        value = key_string(resolve_field(ctx.record, self.opts["split-field"]))
        if value is not None:
            return value
        mode = self.opts["files"]
        if mode == "all":
            return ctx.file
        if mode == "auto":
            return split_of_file(ctx.file)
        return None

    def prepare(self, ctx: ExampleContext) -> tuple[str, Any] | None:
        """``(split label, what the detector reads of the record)`` for an example that belongs
        to a split, else ``None`` (in a folder of shards nothing travels back)."""
        label = self._label(ctx)
        return None if label is None else (label, self._essence(ctx.record))

    def _essence(self, record: Any) -> Any:
        """A small stand-in for ``record`` that the detector treats exactly like it (default:
        the record itself). It travels from the worker to the main process for every example
        of a split file (``train.jsonl``), so small matters."""
        return record

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        prepared = self.prepared(ctx)
        if prepared is not None:
            label, record = prepared
            self._detector.add(record, label, ctx.file, ctx.line)
            self._refs.append(ctx.ref)
        return ()

    def finish(self) -> Iterable[Finding]:
        if len(self._refs) < 2:
            return []
        report = self._detector.finish()
        findings = []
        for leak in report.leaks:
            if leak.kind in self.kinds:
                findings.append(self._finding(leak))
        return findings

    def _finding(self, leak: Leak) -> Finding:  # pragma: no cover - abstract
        raise NotImplementedError

    def _other(self, leak: Leak) -> str:
        return f"split {leak.other_split!r} ({leak.other})"


@register
class CrossSplitDuplicate(_SplitLeakageRule):
    code = "D010"
    name = "cross-split-duplicate"
    summary = "An example of one split repeats (exactly or nearly) an example of another split."
    why = (
        "When the same conversation, or the same macro reply with another order number, sits in both train and "
        "validation/test, the evaluation measures memory instead of behavior on new conversations: validation "
        "loss looks better than the model will do. Compared text is the user and assistant messages after "
        "normalising case, punctuation and spacing; near-duplicates use a MinHash estimate of 3-word-shingle "
        "Jaccard similarity. `ftkit split` keeps duplicates together; `ftkit leakage` lists the pairs."
    )
    bad = "\n".join([
        _line("My parcel 5521 never arrived, can you help?",
              "I am sorry! I have sent a replacement for order 5521; it ships today.", '{"split": "train"}'),
        _line("My parcel 5521 never arrived, can you help?",
              "I am sorry! I have sent a replacement for order 5521; it ships today.", '{"split": "test"}'),
    ])
    good = "\n".join([
        _line("My parcel 5521 never arrived, can you help?",
              "I am sorry! I have sent a replacement for order 5521; it ships today.", '{"split": "train"}'),
        _line("Can I change the size of the shoes I ordered?",
              "Yes, as long as they have not shipped. Which size would you like?", '{"split": "test"}'),
    ])
    scope = "dataset"
    heuristic = True
    default_severity = Severity.ERROR
    options = (
        RuleOption("threshold", "float", DEFAULT_THRESHOLD, "Estimated Jaccard similarity (0-1] from which two examples are near-duplicates."),
        RuleOption("near-duplicates", "bool", True, "Also report near-duplicates, not only exact duplicates."),
        RuleOption("roles", "list[str]", ["user", "assistant"], "Message roles whose text is compared."),
        _SPLIT_FIELD,
        _FILES,
    )
    kinds = ("exact", "near")

    def _essence(self, record: Any) -> Any:
        # The detector reads only normalize_text(record_text(record)). An ASCII normalised text
        # normalises to itself, and record_text of {"text": t} is t: that stand-in is exact.
        if not isinstance(record, Mapping):
            return record
        text = normalize_text(record_text(record, tuple(self.opts["roles"])))
        return {"text": text} if text.isascii() else record

    def _make_detector(self) -> LeakageDetector:
        threshold = self.opts["threshold"]
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"{self.code}: option 'threshold' must be in (0, 1], got {threshold}")
        return LeakageDetector(threshold=threshold, near_duplicates=self.opts["near-duplicates"], group_by=(),
                               roles=tuple(self.opts["roles"]))

    def _finding(self, leak: Leak) -> Finding:
        ref = self._refs[leak.index]
        if leak.kind == "exact":
            message = f"exact duplicate of an example in {self._other(leak)}: it leaks between splits"
        else:
            message = (f"near-duplicate of an example in {self._other(leak)} (estimated similarity "
                       f"{leak.similarity:.2f}): it leaks between splits")
        return Finding(
            message=message,
            hint="re-split with `ftkit split` (keeps duplicates in one split) or drop one copy",
            score=round(leak.similarity, 4) if leak.similarity is not None else None,
            at=ref,
            extra={"leak": leak.to_dict()},
        )


@register
class CrossSplitGroup(_SplitLeakageRule):
    code = "D011"
    name = "cross-split-group"
    summary = "Examples of one conversation or customer are in two splits."
    why = (
        "Examples cut from one ticket share its facts and phrasing, and one customer's tickets share their "
        "account and history: with one part in train and another in test, the test set is not new "
        "conversations. Group ids come from the converters' metadata (`conversation_id`, `customer_id`); "
        "`ftkit split` assigns whole groups."
    )
    bad = "\n".join([
        _line("Hi, my invoice shows the wrong address.", "Thanks, which address should it show?",
              '{"conversation_id": "T-88", "split": "train"}'),
        _line("It should be 4 Elm Road, Leeds.", "Done: the corrected invoice is on its way.",
              '{"conversation_id": "T-88", "split": "test"}'),
    ])
    good = "\n".join([
        _line("Hi, my invoice shows the wrong address.", "Thanks, which address should it show?",
              '{"conversation_id": "T-88", "split": "train"}'),
        _line("It should be 4 Elm Road, Leeds.", "Done: the corrected invoice is on its way.",
              '{"conversation_id": "T-88", "split": "train"}'),
    ])
    scope = "dataset"
    default_severity = Severity.ERROR
    options = (
        RuleOption("group-by", "list[str]", list(DEFAULT_LEAKAGE_GROUPS),
                   "Group fields (metadata names, dotted paths or JSON pointers) that must not be shared by two splits."),
        _SPLIT_FIELD,
        _FILES,
    )
    kinds = ("group",)

    def _essence(self, record: Any) -> Any:
        # The detector reads only the group fields. For plain field names (no path, pointer or
        # "metadata" itself) {"metadata": {name: key}} resolves to the same keys.
        fields = self.opts["group-by"]
        if not isinstance(record, Mapping) or any("/" in f or "." in f or f == "metadata" for f in fields):
            return record
        keys = {}
        for field in fields:
            key = key_string(resolve_field(record, field))
            if key is not None:
                keys[field] = key
        return {"metadata": keys}

    def _make_detector(self) -> LeakageDetector:
        return LeakageDetector(near_duplicates=False, exact=False, group_by=tuple(self.opts["group-by"]))

    def _finding(self, leak: Leak) -> Finding:
        return Finding(
            message=f"same {leak.field} {leak.value!r} as an example in {self._other(leak)}: the group leaks between splits",
            hint="re-split with `ftkit split --group-by " + str(leak.field) + "` so each group stays in one split",
            at=self._refs[leak.index],
            extra={"leak": leak.to_dict()},
        )
