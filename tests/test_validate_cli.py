"""`ftkit validate` through the real CLI: every broken line reported, clean files pass, exit codes, output formats."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

U = {"role": "user", "content": "My parcel has not arrived yet."}
A = {"role": "assistant", "content": "Sorry about that! Could you share the order number?"}
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": "Find an order",
                                           "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                                          "required": ["order_id"]}}}]


def call(cid="call_1", name="lookup_order", args='{"order_id": "A1"}'):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def line(obj) -> bytes:
    return orjson.dumps(obj)


CLEAN = line({"messages": [{"role": "system", "content": "Be calm and brief."}, U, A]})

# (raw line, the code it must produce)
BROKEN: list[tuple[bytes, str]] = [
    (b'{"messages": [{"role": "user", "content": "hi"}', "J001"),
    (b'[{"role": "user", "content": "hi"}]', "J002"),
    (b'{"messages": [{"role": "user", "content": "caf\xe9"}]}', "J004"),
    (b"version https://git-lfs.github.com/spec/v1", "J005"),
    (line({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}), "S003"),
    (line({"messages": [{"role": "customer", "content": "hi"}, A]}), "S002"),
    (line({"messages": [U, {**A, "weight": 0.5}]}), "S016"),
    (line({"messages": [{**U, "weight": 1}, A]}), "S017"),
    (line({"messages": [U, {"role": "system", "content": "Be brief."}, A]}), "S004"),
    (line({"messages": [U, A, U]}), "S006"),
    (line({"messages": [U, {"role": "assistant", "content": "   "}]}), "S007"),
    (line({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [call()]}, A], "tools": TOOLS}), "S008"),
    (line({"messages": [U, {"role": "tool", "tool_call_id": "call_9", "content": "{}"}, A], "tools": TOOLS}), "S009"),
    (line({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [call(), call()]},
                        {"role": "tool", "tool_call_id": "call_1", "content": "{}"}, A], "tools": TOOLS}), "S010"),
    (line({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [call(args="{order_id: A1}")]},
                        {"role": "tool", "tool_call_id": "call_1", "content": "{}"}, A], "tools": TOOLS}), "S011"),
    (line({"messages": [U, {"role": "assistant", "content": None, "tool_calls": [call(args='{"order_id": 17}')]},
                        {"role": "tool", "tool_call_id": "call_1", "content": "{}"}, A], "tools": TOOLS}), "S012"),
    (line({"messages": [U, A], "tools": [{"type": "function", "function": {"name": "look up order"}}]}), "S014"),
    (line({"messages": [U, {"role": "assistant", "content": "Sure!<|im_end|>"}]}), "T003"),
    (line({"messages": [U, {**A, "weight": 0}]}), "T002"),
    (line({"messages": [U, {"role": "assistant", "content": "word " * 3000}]}), "T001"),
]


def broken_file(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """30 lines: the 20 broken ones interleaved with 10 clean ones; returns {line number: expected code}."""
    lines: list[bytes] = []
    expected: dict[int, str] = {}
    for k, (raw, code) in enumerate(BROKEN):
        lines.append(raw)
        expected[len(lines)] = code
        if k % 2 == 1:
            lines.append(CLEAN)
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, expected


def clean_file(tmp_path: Path, n: int = 12, name: str = "clean.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\n".join([CLEAN] * n) + b"\n")
    return path


def test_twenty_broken_lines_all_reported_with_line_and_pointer(tmp_path, cli_run):
    path, expected = broken_file(tmp_path)
    result = cli_run(["validate", "--format", "openai", "--max-tokens", "2000", "--output-format", "json", path])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    per_line: dict[int, set[str]] = {}
    for d in data["diagnostics"]:
        assert set(d) >= {"file", "line", "code", "severity", "message", "pointer", "hint"}
        assert d["file"] == str(path)
        if d["line"] is not None:
            per_line.setdefault(d["line"], set()).add(d["code"])
            if not d["code"].startswith("J"):
                assert d["pointer"].startswith("/"), d  # RFC 6901, located in the record
            else:
                assert d["pointer"] == ""  # an unreadable line has no record to point into ...
                assert d["code"] == "J002" or d["column"] >= 1  # ... but a column where parsing failed
    assert set(per_line) == set(expected), "exactly the 20 broken lines are reported, no clean line"
    for number, code in expected.items():
        assert code in per_line[number], (number, code, per_line[number])
    assert len(expected) == 20
    summary = data["summary"]
    assert summary["passed"] is False and summary["examples"] == 26  # 30 lines, 4 unreadable
    assert data["files"][0]["counts"]["J001"] == 1


def test_text_output_lines_have_location_code_pointer_and_hint(tmp_path, cli_run):
    path, expected = broken_file(tmp_path)
    result = cli_run(["validate", "-f", "openai", "--max-tokens", "2000", path])
    assert result.exit_code == 1
    out = result.stdout
    weight_line = next(n for n, c in expected.items() if c == "S016")
    assert f"{path}:{weight_line}: S016 weight must be the integer 0 or 1, got 0.5 (/messages/1/weight) hint: " in out
    assert f"{path}:1:" in out and " J001 invalid JSON" in out
    assert "passed" not in out and f"{path}: FAILED" in out
    assert "tokens (estimate, o200k_base)" in out
    assert "  S016 weight-invalid" in out  # summary counts per code


def test_clean_file_passes_with_exit_0(tmp_path, cli_run):
    path = clean_file(tmp_path)
    result = cli_run(["validate", "--format", "openai", path])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{path}: passed"
    assert "12 example(s) as openai; 0 error(s), 0 warning(s)" in result.stdout


@pytest.mark.parametrize("content", [b"", b"\n\n", b"not json at all\n", b"[1, 2, 3]\n"])
def test_empty_or_non_json_file_never_passes(tmp_path, cli_run, content):
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    result = cli_run(["validate", "--format", "openai", path])
    assert result.exit_code == 1
    assert "passed" not in result.stdout
    assert "S022" in result.stdout


def test_missing_file_and_directory_are_usage_errors(tmp_path, cli_run):
    result = cli_run(["validate", "--format", "openai", tmp_path / "nope.jsonl"])
    assert result.exit_code == 2 and "no such file" in result.stderr and "passed" not in result.stdout
    result = cli_run(["validate", "--format", "openai", tmp_path])
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_unknown_format_is_a_usage_error(tmp_path, cli_run):
    result = cli_run(["validate", "--format", "gemini", clean_file(tmp_path)])
    assert result.exit_code == 2


def test_stdin_and_gzip(tmp_path, cli_run):
    data = b"\n".join([CLEAN] * 12) + b"\n"
    result = cli_run(["validate", "-f", "openai", "-"], input=data)
    assert result.exit_code == 0 and "<stdin>: passed" in result.stdout
    gz = tmp_path / "train.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    result = cli_run(["validate", "-f", "openai", gz])
    assert result.exit_code == 0 and f"{gz}: passed" in result.stdout


def test_min_examples_and_override(tmp_path, cli_run):
    path = clean_file(tmp_path, n=5)
    result = cli_run(["validate", "-f", "openai", path])
    assert result.exit_code == 1 and "S022 5 example(s); openai needs at least 10" in result.stdout
    assert cli_run(["validate", "-f", "openai", "--no-min-examples", path]).exit_code == 0
    assert cli_run(["validate", "-f", "fireworks", path]).exit_code == 0  # Fireworks needs 3


def test_auto_detection_says_what_it_chose(tmp_path, cli_run):
    path = tmp_path / "sharegpt.jsonl"
    rec = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "Hello! How can I help?"}]}
    path.write_bytes(b"\n".join([orjson.dumps(rec)] * 3) + b"\n")
    result = cli_run(["validate", "--format", "auto", path])
    assert result.exit_code == 0, result.output
    assert f"{path}: --format auto: detected sharegpt (from line 1)" in result.stdout
    assert "as sharegpt (detected)" in result.stdout


def test_strict_makes_warnings_fail(tmp_path, cli_run):
    path = tmp_path / "w.jsonl"
    warn = line({"messages": [U, A, U]})  # S006 is a warning for openai
    path.write_bytes(b"\n".join([CLEAN] * 11 + [warn]) + b"\n")
    assert cli_run(["validate", "-f", "openai", path]).exit_code == 0
    result = cli_run(["validate", "-f", "openai", "--strict", path])
    assert result.exit_code == 1 and "FAILED" in result.stdout


def test_model_limit_and_encoding(tmp_path, cli_run):
    long = line({"messages": [U, {"role": "assistant", "content": "word " * 9000}]})
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join([CLEAN] * 10 + [long]) + b"\n")
    result = cli_run(["validate", "-f", "openai", "--model", "gpt-4", path])  # 8,192 tokens per example, cl100k_base
    assert result.exit_code == 1
    assert "T001 example has ~9,0" in result.stdout and "over the 8,192-token limit of gpt-4" in result.stdout
    assert "tokens (estimate, cl100k_base)" in result.stdout
    assert cli_run(["validate", "-f", "openai", "--model", "gpt-4o-mini", path]).exit_code == 0


def test_several_files_and_real_process(tmp_path, ftkit_subprocess):
    good = clean_file(tmp_path)
    bad, _ = broken_file(tmp_path)
    proc = ftkit_subprocess(["validate", "-f", "openai", "--max-tokens", "2000", good, bad])
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert f"{good}: passed" in out and f"{bad}: FAILED" in out and "2 files" in out


def test_parallel_chunks_give_identical_results(tmp_path):
    """Workers over small chunks report exactly what one process reports, in the same order."""
    from toolkit.validation import FileValidation

    path, _ = broken_file(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw * 40 + b'{"messages": [{"role": "us')  # 1,200 lines, many chunks, a cut-off last line
    serial = FileValidation(path, "openai", max_tokens=2000, jobs=1)
    parallel = FileValidation(path, "openai", max_tokens=2000, jobs=2, chunk_bytes=4096)
    a = [d.to_dict() for d in serial]
    b = [d.to_dict() for d in parallel]
    assert a == b and len(a) > 800
    assert (a[-1]["code"], a[-1]["line"]) == ("J003", 1201)  # the cut-off last line, found by the last worker chunk
    assert serial.report.to_dict() == parallel.report.to_dict()


def test_lint_runs_the_same_checks(tmp_path, cli_run):
    """`ftkit lint` (J, S, T rules) reports the same problems on the same lines as `ftkit validate`."""
    from toolkit.linter.engine import Linter
    from toolkit.linter.settings import build_settings

    path, expected = broken_file(tmp_path)
    result = cli_run(["validate", "-f", "openai", "--max-tokens", "2000", "-o", "json", path])
    validated = {(d["line"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]}
    settings = build_settings({"target": "openai"}, select=["J", "S", "T"], options={"T001": {"max-tokens": 2000}})
    linted = {(d.line, d.code) for d in Linter(settings, jobs=1).run([str(path)])}
    assert linted == validated
    assert {code for _, code in linted} >= set(expected.values())


def test_list_codes_documents_every_check(cli_run):
    from toolkit.validation.codes import CHECKS

    result = cli_run(["validate", "--list-codes", "-o", "json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [c["code"] for c in listed] == list(CHECKS)
    for entry in listed:
        assert all(entry[k].strip() for k in ("code", "name", "summary", "why", "hint", "bad", "good"))
        assert entry["name"] == entry["name"].lower() and " " not in entry["name"]
    assert cli_run(["validate"]).exit_code == 2  # no files: usage error


def test_bom_and_crlf_are_notes_and_azure_wants_a_bom(tmp_path, cli_run):
    data = b"\xef\xbb\xbf" + b"\r\n".join([CLEAN] * 10) + b"\r\n"
    path = tmp_path / "win.jsonl"
    path.write_bytes(data)
    result = cli_run(["validate", "-f", "openai", "-o", "json", path])
    assert result.exit_code == 0  # notes never fail a file
    notes = [(d["code"], d["severity"], d["line"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert notes == [("J006", "info", 1), ("J007", "info", 1)]
    result = cli_run(["validate", "-f", "azure", "-o", "json", path])
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["J007"]  # Azure documents the BOM
    plain = clean_file(tmp_path, n=10)
    result = cli_run(["validate", "-f", "azure", plain])
    assert result.exit_code == 0 and "S025 the file has no UTF-8 BOM" in result.stdout


def test_truncated_or_corrupt_gzip_is_an_io_error(tmp_path, cli_run):
    data = gzip.compress(b"\n".join([CLEAN] * 200) + b"\n")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = cli_run(["validate", "-f", "openai", cut])
    assert result.exit_code == 2 and "truncated .gz" in result.stderr and "passed" not in result.stdout
    assert cli_run(["tokens", cut]).exit_code == 2
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    result = cli_run(["validate", "-f", "openai", bad])
    assert result.exit_code == 2 and "passed" not in result.stdout
