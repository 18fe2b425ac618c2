"""``ftkit leakage`` and the D010/D011 lint rules: pairs found, formats, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _split_fixtures import TEMPLATE_AGENT, TEMPLATE_USER, naive_random_split, planted_records, write  # noqa: E402

from toolkit.splitting.leakage import LeakageDetector  # noqa: E402


def _chat(user: str, assistant: str, **meta) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], "metadata": meta}


def _planted_pair_files(tmp_path: Path) -> tuple[Path, Path]:
    train = write(tmp_path / "train.jsonl", [
        _chat("How do I reset my password?", "Use the Forgot password link on the sign-in page.", conversation_id="A"),
        _chat(TEMPLATE_USER.format(n=11111), TEMPLATE_AGENT.format(n=11111), conversation_id="B"),
        _chat("Is there a student discount on the yearly plan for w1 w2?", "Let me check that for you.", conversation_id="C", customer_id="K1"),
        _chat("Completely unrelated question about w9 w8 w7 w6", "An unrelated answer about w5 w4 w3", conversation_id="D"),
    ])
    test = write(tmp_path / "test.jsonl", [
        _chat("Another unrelated thing entirely, w100 w200 w300", "Sure thing, w400 w500 w600.", conversation_id="E"),
        _chat("how do I RESET my password", "Use the Forgot password link on the sign-in page!", conversation_id="F"),
        _chat(TEMPLATE_USER.format(n=22222), TEMPLATE_AGENT.format(n=22222), conversation_id="G"),
        _chat("Follow-up on w77 w78 w79 please", "Here is the follow-up on w80 w81.", conversation_id="C"),
        _chat("My other ticket about w55 w56 w57", "Answer about w58 w59 w60", conversation_id="H", customer_id="K1"),
    ])
    return train, test


def test_pairs_found_with_kinds_and_locations(tmp_path, cli_run):
    train, test = _planted_pair_files(tmp_path)
    result = cli_run(["leakage", train, test, "--output-format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    pairs = {(p["line"], p["kind"], p.get("field")): p for p in report["pairs"]}
    assert set(pairs) == {(2, "exact", None), (3, "near", None), (4, "group", "conversation_id"), (5, "group", "customer_id")}
    assert pairs[(2, "exact", None)]["other_line"] == 1 and pairs[(2, "exact", None)]["other_file"] == str(train)
    near = pairs[(3, "near", None)]
    assert near["other_line"] == 2 and 0.85 <= near["similarity"] < 1.0
    assert pairs[(4, "group", "conversation_id")]["value"] == "C"
    assert report["leaked_examples"] == 4
    assert report["summary"] == [{
        "split": str(test), "other_split": str(train), "leaked_examples": 4, "exact_duplicates": 1,
        "near_duplicates": 1, "shared_group_examples": 2, "shared_groups": {"conversation_id": 1, "customer_id": 1},
    }]

    text = cli_run(["leakage", train, test]).output
    assert f"{test}:2 ~ {train}:1  exact duplicate" in text
    assert f"{test}:3 ~ {train}:2  near-duplicate (estimated similarity" in text
    assert f"{test}:4 ~ {train}:3  same conversation_id 'C'" in text
    assert "leakage found: 4 examples, 4 pairs" in text


def test_options_narrow_what_counts(tmp_path, cli_run):
    train, test = _planted_pair_files(tmp_path)
    report = json.loads(cli_run(["leakage", train, test, "--no-groups", "--no-near-duplicates", "--output-format", "json"]).output)
    assert [(p["line"], p["kind"]) for p in report["pairs"]] == [(2, "exact")]
    report = json.loads(cli_run(["leakage", train, test, "--group-by", "customer_id", "--threshold", "0.99",
                                 "--output-format", "json"]).output)
    assert sorted((p["line"], p["kind"]) for p in report["pairs"]) == [(2, "exact"), (5, "group")]


def test_no_leakage_exit_zero_and_usage_errors(tmp_path, cli_run):
    a = write(tmp_path / "a.jsonl", [_chat("alpha w1 w2 w3 w4", "beta w5 w6 w7", conversation_id="1")])
    b = write(tmp_path / "b.jsonl", [_chat("gamma w8 w9 w10 w11", "delta w12 w13", conversation_id="2")])
    result = cli_run(["leakage", a, b])
    assert result.exit_code == 0 and "no leakage" in result.output
    assert cli_run(["leakage", a]).exit_code == 2
    assert cli_run(["leakage", a, tmp_path / "nope.jsonl"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"messages": []}\nnot json\n')
    result = cli_run(["leakage", a, bad])
    assert result.exit_code == 2 and f"{bad}:2: J001" in result.output


def test_any_format_parquet_csv_sharegpt_and_json_array(tmp_path, cli_run):
    import polars as pl

    sharegpt = tmp_path / "train_sharegpt.jsonl"
    sharegpt.write_bytes(orjson.dumps({"conversations": [{"from": "human", "value": "How do I reset my password?"},
                                                          {"from": "gpt", "value": "Use the Forgot password link on the sign-in page."}]}) + b"\n")
    pl.DataFrame({"instruction": ["How do I reset my password?", "w1 w2 w3 w4 w5"],
                  "output": ["Use the Forgot password link on the sign-in page.", "w6 w7 w8"]}).write_parquet(tmp_path / "t.parquet")
    pl.DataFrame({"instruction": ["w9 w10 w11 w12", "How do I reset my password?"],
                  "output": ["w13 w14", "Use the Forgot password link on the sign-in page."]}).write_csv(tmp_path / "v.csv")
    (tmp_path / "arr.json").write_bytes(orjson.dumps([{"messages": [{"role": "user", "content": "How do I reset my password?"},
                                                                     {"role": "assistant", "content": "Use the Forgot password link on the sign-in page."}]}]))
    result = cli_run(["leakage", sharegpt, tmp_path / "t.parquet", tmp_path / "v.csv", tmp_path / "arr.json",
                      "--output-format", "json", "--max-pairs", "0"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    found = {(p["file"].rsplit("/", 1)[-1], p["line"], p["other_file"].rsplit("/", 1)[-1]) for p in report["pairs"]}
    assert ("t.parquet", 1, "train_sharegpt.jsonl") in found
    assert ("arr.json", 1, "train_sharegpt.jsonl") in found
    assert ("v.csv", 3, "train_sharegpt.jsonl") in found  # CSV rows count from line 2 (after the header)
    assert len(found) == 3


def test_split_field_in_one_file(tmp_path, cli_run):
    rows = [
        _chat("same question w1 w2 w3", "same answer w4 w5 w6", split="train"),
        _chat("same question w1 w2 w3", "same answer w4 w5 w6", split="test"),
        _chat("other w7 w8 w9", "other w10 w11", split="test"),
    ]
    data = write(tmp_path / "all.jsonl", rows)
    result = cli_run(["leakage", data, "--split-field", "split", "--output-format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(p["split"], p["line"], p["other_split"], p["other_line"]) for p in report["pairs"]] == [("test", 2, "train", 1)]


def test_naive_split_of_planted_data_leaks_every_kind(tmp_path, cli_run):
    files = naive_random_split(planted_records(), tmp_path / "naive")
    report = json.loads(cli_run(["leakage", *files, "--output-format", "json", "--max-pairs", "0"]).output)
    kinds = {p["kind"] for p in report["pairs"]}
    fields = {p.get("field") for p in report["pairs"] if p["kind"] == "group"}
    assert kinds == {"exact", "near", "group"} and fields == {"conversation_id", "customer_id"}
    assert report["pairs_total"] == len(report["pairs"])


def test_detector_finds_every_pair_above_threshold():
    """Exact-recall LSH: every cross-split pair whose signature agreement reaches the threshold is found."""
    import random

    from toolkit.dedup import get_hasher, normalize_text, record_text

    rng = random.Random(3)
    base = [" ".join(f"w{rng.randrange(400)}" for _ in range(30)) for _ in range(40)]
    texts = []
    for text in base:
        words = text.split()
        for _ in range(3):
            variant = list(words)
            for i in rng.sample(range(30), rng.randrange(0, 6)):
                variant[i] = f"v{rng.randrange(10_000)}"
            texts.append(" ".join(variant))
    detector = LeakageDetector(group_by=())
    records = [_chat(t, "") for t in texts]
    for i, record in enumerate(records):
        detector.add(record, "train" if i % 2 else "test", "f.jsonl", i + 1)
    report = detector.finish()
    hasher = get_hasher()
    sigs = hasher.signatures([normalize_text(record_text(r)) for r in records], normalized=True)
    expected = set()
    for j in range(len(records)):
        best = None
        for i in range(j):
            if (i % 2) != (j % 2) and (sigs[i] == sigs[j]).mean() >= 0.85:
                best = j
        if best is not None:
            expected.add(j)
    assert {leak.index for leak in report.leaks} == expected
    assert expected  # the data does contain leaks


def test_lint_rules_d010_d011(tmp_path, cli_run):
    train, test = _planted_pair_files(tmp_path)
    result = cli_run(["lint", train, test, "--select", "D010,D011", "--output-format", "json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    diagnostics = payload["diagnostics"] if isinstance(payload, dict) else payload
    got = sorted((d["code"], d["line"]) for d in diagnostics)
    assert got == [("D010", 2), ("D010", 3), ("D011", 4), ("D011", 5)]
    assert all(d["file"] == str(test) for d in diagnostics)
    # Shards whose names do not name a split are not compared.
    a = write(tmp_path / "part-1.jsonl", [_chat("How do I reset my password?", "Use the link.", conversation_id="A")])
    b = write(tmp_path / "part-2.jsonl", [_chat("How do I reset my password?", "Use the link.", conversation_id="A")])
    result = cli_run(["lint", a, b, "--select", "D010,D011"])
    assert "D010" not in result.output and "D011" not in result.output


def test_lint_rule_options_files_all_and_split_of_file(tmp_path):
    from toolkit.linter.engine import Linter
    from toolkit.linter.rules.leakage import split_of_file
    from toolkit.linter.settings import build_settings

    assert split_of_file("data/train.jsonl") == "train"
    assert split_of_file("out/validation-00001-of-00002.jsonl") == "validation"
    assert split_of_file("my_dev_set.jsonl.gz") == "validation"
    assert split_of_file("holdout.parquet") == "test"
    assert split_of_file("part-1.jsonl") is None and split_of_file("contest.jsonl") is None

    a = write(tmp_path / "part-1.jsonl", [_chat("How do I reset my password?", "Use the link.", conversation_id="A")])
    b = write(tmp_path / "part-2.jsonl", [_chat("How do I reset my password?", "Use the link.", conversation_id="A")])
    settings = build_settings({}, select=["D010", "D011"], options={"D010": {"files": "all"}, "D011": {"files": "all"}})
    codes = sorted((d.code, d.file, d.line) for d in Linter(settings, jobs=1).run([str(a), str(b)]))
    assert codes == [("D010", str(b), 1), ("D011", str(b), 1)]
    with pytest.raises(ValueError, match="files"):
        Linter(build_settings({}, select=["D010"], options={"D010": {"files": "some"}}), jobs=1).run([str(a)])


def test_gzip_split_files_and_missing_split_field_warning(tmp_path, cli_run):
    import gzip

    rows = [_chat("same question w1 w2 w3", "same answer w4 w5 w6", conversation_id="1")]
    a = tmp_path / "train.jsonl.gz"
    a.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in rows)))
    b = write(tmp_path / "test.jsonl", rows)
    result = cli_run(["leakage", a, b, "--split-field", "split"])
    assert result.exit_code == 1
    assert "have no 'split' field: their file is their split" in result.output
    assert f"{b}:1 ~ {a}:1  exact duplicate" in result.output
