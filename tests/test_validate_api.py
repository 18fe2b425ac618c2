"""The library API: toolkit.validate on lists, generators, JsonlLine streams, Examples and datasets.Dataset; ftkit tokens."""

from __future__ import annotations

import json

import orjson
import pytest

import toolkit
from toolkit.io.jsonl import read_jsonl
from toolkit.model import Example
from toolkit.tokens import count_example, get_encoding
from toolkit.validation import Validation, validate

U = {"role": "user", "content": "Where is my order?"}
A = {"role": "assistant", "content": "Let me check that for you."}
GOOD = {"messages": [U, A]}
BAD = {"messages": [U, {**A, "weight": 5}]}


def test_list_and_generator_give_the_same_problems():
    records = [GOOD] * 10 + [BAD]
    from_list = [d.to_dict() for d in toolkit.validate(records, target="openai")]
    from_gen = [d.to_dict() for d in validate((r for r in records), target="openai")]
    assert from_list == from_gen
    assert [(d["line"], d["code"], d["pointer"]) for d in from_list] == [(11, "S016", "/messages/1/weight")]


def test_min_examples_is_a_dataset_problem_at_the_end():
    found = list(validate([GOOD, BAD], target="openai", file="train.jsonl"))
    assert [d.code for d in found] == ["S016", "S022"]
    assert found[-1].line is None and found[-1].file == "train.jsonl"
    assert [d.code for d in validate([GOOD, BAD], target="openai", min_examples=False)] == ["S016"]


def test_jsonl_lines_keep_line_numbers_and_report_unreadable_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join([orjson.dumps(GOOD)] * 10 + [b"{oops", orjson.dumps(BAD)]) + b"\n")
    found = list(validate(read_jsonl(path), target="openai"))
    assert [(d.file, d.line, d.code) for d in found] == [(str(path), 11, "J001"), (str(path), 12, "S016")]


def test_example_objects_and_non_objects():
    found = list(validate([Example.from_dict(GOOD)] * 10 + ["just text"], target="openai"))
    assert [(d.line, d.code) for d in found] == [(11, "S001")]
    assert "record must be a JSON object, got string" in found[0].message


def test_auto_detection_and_report():
    rows = [{"instruction": "Say hi", "output": "Hi!"}] * 3
    validation = Validation(rows, target="auto")
    assert list(validation) == []
    report = validation.report
    assert report.target == "alpaca" and report.detected and report.examples == 3 and report.valid
    assert report.tokens.encoding == "o200k_base" and report.tokens.total > 0


def test_unknown_target_raises():
    with pytest.raises(ValueError, match="unknown target 'gemini'"):
        list(validate([GOOD], target="gemini"))


def test_datasets_dataset_with_arrow_filled_nulls():
    datasets = pytest.importorskip("datasets")
    rows = [{"messages": [U, {**A, "weight": 0}, U, A]}] + [GOOD] * 9 + [BAD]
    ds = datasets.Dataset.from_list(rows)
    # Arrow gives every message a "weight" key (None where absent): that must not be reported
    assert ds[1]["messages"][0]["weight"] is None
    found = list(validate(ds, target="openai"))
    assert [(d.file, d.line, d.code) for d in found] == [("<dataset>", 11, "S016")]


def test_token_figures_match_count_example():
    enc = get_encoding("o200k_base")
    record = {"messages": [{"role": "system", "content": "Be brief."}, {**U, "name": "cust"},
                           {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                            "function": {"name": "lookup", "arguments": "{\"id\": 1}"}}]},
                           {"role": "tool", "tool_call_id": "c1", "content": "{\"ok\": true}"},
                           {**A, "weight": 0}, {"role": "assistant", "content": [{"type": "text", "text": "Done."}]}],
              "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]}
    validation = Validation([record], target="openai", min_examples=False)
    list(validation)
    expected = count_example(record, enc)
    t = validation.report.tokens
    assert (t.total, t.prompt, t.trainable) == (expected.total, expected.prompt, expected.trainable)


def test_tokens_cli_text_and_json(tmp_path, cli_run):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join([orjson.dumps(GOOD)] * 4 + [b"not json"]) + b"\n")
    expected = count_example(GOOD, "o200k_base")
    result = cli_run(["tokens", path, "-o", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["estimate"] is True and data["encoding"] == "o200k_base"
    f = data["files"][0]
    assert f["examples"] == 4 and f["unreadable_lines"] == 1 and f["first_unreadable"] == 5
    assert f["tokens"]["total"] == 4 * expected.total and f["tokens"]["trainable"] == 4 * expected.trainable
    result = cli_run(["tokens", path, "--model", "gpt-3.5-turbo"])
    assert result.exit_code == 0
    assert "tokens (estimate, cl100k_base)" in result.stdout
    assert "1 unreadable line(s) not counted (first: line 5; J001)" in result.stderr
    assert cli_run(["tokens", tmp_path / "missing.jsonl"]).exit_code == 2
