"""HF datasets and polars pipelines: ftkit columns equal what the CLI reports."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from report_helpers import make_records, reference_counts, write_jsonl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from gen_support_data import example as support_example  # noqa: E402


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    import random

    rng = random.Random(3)
    path = tmp_path_factory.mktemp("pipe") / "support_10k.jsonl"
    write_jsonl(path, (support_example(rng, i) for i in range(10_000)))
    return path


# The 10,000-example run uses the fast per-example families (assistant artifacts, privacy,
# voice/format, metadata shape) so the test stays well under 30 s on a shared 2-core machine;
# every default per-example rule is compared on a smaller file below.
FAST_FAMILIES = ("A", "P", "V", "X")


def _lint_by_line(cli_run, path, codes, n):
    lint = json.loads(cli_run(["lint", path, "--select", ",".join(codes), "--output-format", "json", "--exit-zero",
                               "--isolated"]).stdout)
    by_line: dict[int, set[str]] = defaultdict(set)
    for d in lint:
        by_line[d["line"]].add(d["code"])
    return [sorted(by_line.get(i + 1, ())) for i in range(n)]


def test_hf_dataset_of_10000_gains_columns_equal_to_cli(big_file, cli_run):
    from datasets import load_dataset

    import toolkit.hf
    from toolkit.report.columns import example_rule_codes

    codes = [c for c in example_rule_codes() if c.startswith(FAST_FAMILIES)]
    ds = load_dataset("json", data_files=str(big_file), split="train")
    assert len(ds) == 10_000
    out = toolkit.hf.add_columns(ds, columns=("tokens", "trainable_tokens", "lint_codes"), model="gpt-4o-mini",
                                 lint_select=codes, num_proc=2, batch_size=1000, desc=None)
    assert out.column_names[-3:] == ["tokens", "trainable_tokens", "lint_codes"]
    assert out.column_names[:-3] == ds.column_names
    tokens = np.asarray(out["tokens"])
    trainable = np.asarray(out["trainable_tokens"])

    stats = json.loads(cli_run(["stats", big_file, "--model", "gpt-4o-mini", "--output-format", "json", "--no-cost"]).stdout)
    assert stats["examples"] == 10_000
    assert int(tokens.sum()) == stats["tokens"]["total"]
    assert int(trainable.sum()) == stats["tokens"]["trainable"]
    per_example = stats["tokens"]["per_example"]
    assert (int(tokens.min()), int(tokens.max())) == (per_example["min"], per_example["max"])
    for p in (50, 90, 95, 99):
        assert round(float(np.percentile(tokens, p)), 2) == per_example[f"p{p}"]

    expected = _lint_by_line(cli_run, big_file, codes, 10_000)
    assert out["lint_codes"] == expected
    assert sum(1 for c in expected if c) > 100  # the data does trigger rules


def test_hf_lint_codes_equal_cli_for_every_default_example_rule(tmp_path, cli_run):
    import random

    from datasets import load_dataset

    import toolkit.hf
    from toolkit.report.columns import example_rule_codes

    rng = random.Random(5)
    path = write_jsonl(tmp_path / "d.jsonl", (support_example(rng, i) for i in range(200)))
    ds = load_dataset("json", data_files=str(path), split="train")
    out = toolkit.hf.add_columns(ds, columns=("lint_codes",), num_proc=2, batch_size=100, desc=None)
    expected = _lint_by_line(cli_run, path, example_rule_codes(), 200)
    assert out["lint_codes"] == expected
    assert {c for codes in expected for c in codes} >= {"K001"}  # knowledge rules fire on the price replies


def test_polars_columns_equal_hf_and_reference(tmp_path):
    from datasets import Dataset

    import toolkit.hf
    from toolkit.polars_ext import add_columns, ftkit_struct

    records = make_records(30, seed=9)
    path = write_jsonl(tmp_path / "d.jsonl", records)
    ref = reference_counts(records)
    cols = ("tokens", "prompt_tokens", "trainable_tokens", "lint_codes", "knowledge_score", "route")

    df = add_columns(pl.read_ndjson(path), columns=cols, batch_size=7)
    assert df["tokens"].to_list() == [r["total"] for r in ref]
    assert df["trainable_tokens"].to_list() == [r["trainable"] for r in ref]
    assert df["prompt_tokens"].to_list() == [r["prompt"] for r in ref]

    lazy = (pl.scan_ndjson(path).with_columns(ftkit_struct(cols).alias("ftkit")).unnest("ftkit").collect())
    assert lazy.select(cols).to_dicts() == df.select(cols).to_dicts()

    ds = toolkit.hf.add_columns(Dataset.from_list(records), columns=cols, batch_size=8, desc=None)
    for col in cols:
        assert ds[col] == df[col].to_list(), col
    from toolkit.knowledge import analyze

    assert df["route"].to_list() == [analyze(r).label for r in records]
    assert "knowledge" in df["route"].to_list()


def test_columns_are_replaced_and_errors_are_clear():
    from datasets import Dataset

    import toolkit.hf
    from toolkit.polars_ext import add_columns

    ds = Dataset.from_list([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "tokens": -1}])
    out = toolkit.hf.add_columns(ds, columns=("tokens",), desc=None)
    assert out["tokens"] == [3 + 1 + 3 + 1 + 3]  # two messages of one token each, plus framing
    with pytest.raises(ValueError, match="unknown column"):
        toolkit.hf.add_columns(ds, columns=("bogus",))
    with pytest.raises(ValueError, match="no 'messages' column"):
        toolkit.hf.add_columns(Dataset.from_list([{"text": "x"}]), columns=("tokens",))
    with pytest.raises(ValueError, match="unknown column"):
        add_columns(pl.DataFrame({"messages": [[{"role": "user", "content": "x"}]]}), columns=("nope",))
    empty = add_columns(pl.DataFrame({"messages": []}, schema={"messages": pl.List(pl.Struct({"role": pl.Utf8, "content": pl.Utf8}))}),
                        columns=("tokens", "lint_codes"))
    assert empty.columns == ["messages", "tokens", "lint_codes"] and empty.height == 0


def test_record_from_row_drops_arrow_nulls():
    from toolkit.hf import record_from_row

    row = {"messages": [{"role": "assistant", "content": "x", "weight": None, "name": None}], "metadata": None}
    assert record_from_row(row) == {"messages": [{"role": "assistant", "content": "x"}]}


def test_valid_column_equals_ftkit_validate(tmp_path, cli_run):
    from datasets import Dataset

    import toolkit.hf

    records = make_records(12, long_example=False)
    records[3]["messages"][-1]["weight"] = 2  # weight must be 0 or 1
    records[7]["messages"][-1]["role"] = "bot"  # not a role OpenAI accepts
    path = write_jsonl(tmp_path / "v.jsonl", records)
    report = json.loads(cli_run(["validate", path, "--format", "openai", "--output-format", "json"]).stdout)
    errors: dict[int, set[str]] = defaultdict(set)
    for d in report["diagnostics"]:
        if d["severity"] == "error" and d["line"] is not None:
            errors[d["line"]].add(d["code"])
    assert set(errors) == {4, 8}
    rows = [{"messages": r["messages"]} for r in records]
    ds = toolkit.hf.add_columns(Dataset.from_list(rows), columns=("valid", "validation_codes"), target="openai", desc=None)
    assert ds["valid"] == [i + 1 not in errors for i in range(12)]
    assert ds["validation_codes"] == [sorted(errors.get(i + 1, ())) for i in range(12)]


def test_readme_pipeline_examples_run(tmp_path, monkeypatch):
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Pipelines: Hugging Face")
    end = readme.index("<!-- /section:library -->", start)
    blocks = re.findall(r"```python\n(.*?)```", readme[start:end], re.S)
    assert len(blocks) >= 3
    write_jsonl(tmp_path / "train.jsonl", make_records(16, long_example=False))
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})


def test_streaming_iterable_dataset_gains_columns_lazily(tmp_path):
    from datasets import load_dataset

    import toolkit.hf

    records = make_records(25, long_example=False)
    path = write_jsonl(tmp_path / "s.jsonl", records)
    stream = load_dataset("json", data_files=str(path), split="train", streaming=True)
    out = toolkit.hf.add_columns(stream, columns=("tokens", "trainable_tokens"), batch_size=4)
    rows = list(out)
    ref = reference_counts(records)
    assert [r["tokens"] for r in rows] == [r["total"] for r in ref]
    assert [r["trainable_tokens"] for r in rows] == [r["trainable"] for r in ref]
