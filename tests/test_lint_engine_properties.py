"""Property tests for the engine's bookkeeping: baselines, selectors, globs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.diagnostics import Diagnostic
from toolkit.linter.settings import LintConfigError, _glob_match, expand_selectors
from toolkit.linter.suppression import Baseline, baseline_document, write_baseline

fingerprints = st.sampled_from(["id:a", "id:b/c", 'id:"q"', "sha256:0123456789abcdef", "id:ü~1"])
codes = st.sampled_from(["P001", "D001", "K004", "J001"])
diagnostics = st.lists(st.tuples(fingerprints, codes), max_size=30)


@settings(max_examples=60, deadline=None)
@given(diagnostics)
def test_baseline_absorbs_exactly_what_it_recorded(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("b") / "baseline.json"
    diags = [Diagnostic(code=c, message="m", file="data/t.jsonl", line=1, fingerprint=f) for f, c in items]
    recorded = write_baseline(path, diags)
    assert recorded == len(diags)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == baseline_document(diags, path)  # what was written is what was meant
    base = Baseline.load(path)
    # Every recorded problem is absorbed once; one more of any kind is not.
    assert all(base.absorbs(d) for d in diags)
    for f, c in set(items):
        assert not base.absorbs(Diagnostic(code=c, message="m", fingerprint=f))
    assert base.stale(["data/t.jsonl"]) == [] or not diags
    # Entry lines point at the entry's key in the file.
    lines = text.splitlines()
    for fingerprint, entry in base.entries.items():
        assert json.dumps(fingerprint, ensure_ascii=False) in lines[entry.line - 1]


@settings(max_examples=60, deadline=None)
@given(diagnostics, diagnostics)
def test_stale_counts_are_what_was_not_seen(tmp_path_factory, recorded, seen):
    path = tmp_path_factory.mktemp("b") / "baseline.json"
    write_baseline(path, [Diagnostic(code=c, message="m", file="t.jsonl", fingerprint=f) for f, c in recorded])
    base = Baseline.load(path)
    for f, c in seen:
        base.absorbs(Diagnostic(code=c, message="m", fingerprint=f))
    stale = {(entry.fingerprint, code): missing for entry, code, missing in base.stale(["t.jsonl"])}
    for key in set(recorded):
        expected = max(0, recorded.count(key) - seen.count(key))
        assert stale.get(key, 0) == expected


@settings(deadline=None)  # the first call loads every rule module
@given(st.text(min_size=1, max_size=8))
def test_selectors_either_match_known_rules_or_raise(selector):
    from toolkit.linter.rule import load_all_rules
    from toolkit.linter.settings import READER_CODES

    known = set(load_all_rules()) | READER_CODES
    try:
        chosen = expand_selectors([selector], where="test")
    except LintConfigError as exc:
        assert "test" in str(exc)
        return
    assert chosen and chosen <= known


@pytest.mark.parametrize(
    "path, pattern, expected",
    [
        ("data/synthetic/gen.jsonl", "data/synthetic/*.jsonl", True),
        ("data/real.jsonl", "data/synthetic/*.jsonl", False),
        ("deep/a/b/x.jsonl", "*.jsonl", True),  # a bare pattern matches the name anywhere
        ("x.jsonl", "**/x.jsonl", True),  # **/ may match no folder
        ("a/b/x.jsonl", "a/**/x.jsonl", True),
        ("a/x.jsonl.gz", "*.jsonl", False),
        ("a/x.jsonl", "./a/*.jsonl", True),
    ],
)
def test_per_file_ignore_globs(path, pattern, expected):
    assert _glob_match(path, pattern) is expected
