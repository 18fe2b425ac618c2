"""A dataset with planted problems of every family, linted through the real ``ftkit lint``.

``tests/fixtures/lint/planted.jsonl`` holds clean support examples and, between them, one
planted problem per line (J, S, T, D, P, Q, A, V and K families). Each record names what was
planted in ``metadata.planted``; the two J lines cannot carry metadata and are listed here.
Every planted problem must be reported on its line with its code, and nothing else may be
reported anywhere (the clean lines are the false-positive check for all default rules).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "lint"
J_LINES = {5: {"J001"}, 10: {"J002"}}  # invalid JSON; an array instead of an object
FAMILIES = set("JSTDPQAVK")


def _planted() -> dict[int, set[str]]:
    expected: dict[int, set[str]] = {line: set(codes) for line, codes in J_LINES.items()}
    for number, raw in enumerate((FIXTURE / "planted.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        if number in J_LINES:
            continue
        record = json.loads(raw)
        planted = record["metadata"].get("planted") or []
        if planted:
            expected[number] = set(planted)
    return expected


def _reported(items: list[dict]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for item in items:
        out[item["line"]].add(item["code"])
    return dict(out)


def _matches(expected: dict[int, set[str]], reported: dict[int, set[str]]) -> list[str]:
    problems = []
    for line in sorted(set(expected) | set(reported)):
        want, got = expected.get(line, set()), reported.get(line, set())
        if "K*" in want:
            k_codes = {c for c in got if c.startswith("K")}
            if not k_codes:
                problems.append(f"line {line}: planted K problem not reported (got {sorted(got)})")
            got = got - k_codes
            want = want - {"K*"}
        if want != got:
            problems.append(f"line {line}: planted {sorted(want)}, reported {sorted(got)}")
    return problems


@pytest.fixture
def planted_dir(tmp_path: Path) -> Path:
    shutil.copy(FIXTURE / "planted.jsonl", tmp_path / "planted.jsonl")
    shutil.copy(FIXTURE / "planted.ftkit.toml", tmp_path / "ftkit.toml")
    return tmp_path


def test_fixture_plants_every_family():
    planted = {code[0] for codes in _planted().values() for code in codes}
    assert planted == FAMILIES


def test_every_planted_problem_on_its_line_and_nothing_else(planted_dir: Path, ftkit_subprocess):
    proc = ftkit_subprocess(["lint", "--output-format", "json", "-j", "2", "planted.jsonl"], cwd=planted_dir)
    assert proc.returncode == 1, proc.stderr.decode()
    items = json.loads(proc.stdout)
    assert _matches(_planted(), _reported(items)) == []
    # every diagnostic is located and named
    assert all(item["file"] == "planted.jsonl" and item["name"] and item["message"] for item in items)
    # the record with metadata.ftkit.ignore = ["P001"] hides its e-mail, and uses its suppression
    assert not any(item["code"] == "X002" for item in items)


def test_in_process_and_parallel_runs_agree(planted_dir: Path, cli_run, monkeypatch):
    # Enough records for the engine to use worker processes (it stays inline below ~1,000).
    monkeypatch.chdir(planted_dir)
    extra = [
        {"messages": [{"role": "user", "content": f"Item {n} in my basket shows the wrong colour {n % 7}."},
                      {"role": "assistant", "content": f"Sorry about item {n}! Could you send a photo of colour {n % 7}?"}]}
        for n in range(1200)
    ]
    with open("planted.jsonl", "a", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in extra)
    # the D, P, Q, A and V rules (the K rules are slow and have their own tests)
    args = ["lint", "--output-format", "json", "--select", "D0,P,Q,A,V", "planted.jsonl"]
    one = cli_run([*args, "-j", "1"])
    two = cli_run([*args, "-j", "2"])
    assert one.exit_code == two.exit_code == 1
    assert one.output == two.output  # byte-identical, whatever the worker layout
    items = json.loads(one.output)
    assert {i["code"] for i in items if i["line"] <= 55} >= {"P001", "Q004", "A001", "V007", "D001"}


def test_safe_fixes_remove_exactly_the_safely_fixable_plants(planted_dir: Path, cli_run, monkeypatch):
    monkeypatch.chdir(planted_dir)
    result = cli_run(["lint", "--fix", "--output-format", "json", "planted.jsonl"])
    assert result.exit_code == 1
    after = _reported(json.loads(result.output))
    expected = _planted()
    fixed = {line for line, codes in expected.items() if codes & {"Q004", "Q006", "Q007"}}
    assert len(fixed) == 3
    assert _matches({k: v for k, v in expected.items() if k not in fixed}, after) == []
    records = (planted_dir / "planted.jsonl").read_text(encoding="utf-8").splitlines()
    mojibake_line = next(line for line in fixed if "Q004" in expected[line])
    assert "I’m sorry the order hasn’t arrived yet." in json.loads(records[mojibake_line - 1])["messages"][2]["content"]
