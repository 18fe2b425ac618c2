"""Output formats: text, statistics, json, sarif, github, junit; exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import orjson
import pytest

import _lint_testrules

SELECT = "X001,X002,X003,X901,X902"


@pytest.fixture(autouse=True)
def test_rules():
    _lint_testrules.install()
    yield
    _lint_testrules.uninstall()


def ex(reply: str, user: str = "hi") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "train.jsonl"
    lines = [orjson.dumps(ex("SHOUT")), orjson.dumps(ex("fine")), b"{oops", orjson.dumps(ex("fine", user="x"))]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return "train.jsonl"


def lint(cli_run, data, *args, env=None):
    return cli_run(["lint", data, "--isolated", "--select", SELECT, *args], env=env)


def test_text_output_exact(cli_run, data):
    result = lint(cli_run, data)
    assert result.exit_code == 1
    assert result.output == (
        "train.jsonl:1: X901 [*] assistant shouts 'SHOUT' (/messages/1/content)\n"
        "train.jsonl:3:2: J001 invalid JSON: unexpected character, expected a string key hint: fix the JSON syntax at the column shown\n"
        "train.jsonl:4: X902 same reply as line 2\n"
        "Found 3 problems (2 errors, 1 warning) in 4 examples in 1 file.\n"
        "[*] 1 fixable with `ftkit lint --fix`.\n"
        "1 more fix available with `--unsafe-fixes`.\n"
    )


def test_quiet_and_all_passed(cli_run, data, tmp_path):
    result = lint(cli_run, data, "--quiet")
    assert result.output.splitlines()[-1].startswith("train.jsonl:4: X902")
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(orjson.dumps(ex("fine")) + b"\n")
    result = cli_run(["lint", "clean.jsonl", "--isolated", "--select", SELECT])
    assert result.exit_code == 0
    assert result.output == "All checks passed: 1 example in 1 file.\n"


def test_statistics_table(cli_run, data):
    result = lint(cli_run, data, "--statistics")
    lines = result.output.splitlines()
    start = lines.index("") + 1
    assert lines[start:start + 3] == [
        "1  J001  invalid-json    error",
        "1  X901  test-shout      error    [*] 1 fixable",
        "1  X902  test-dup-reply  warning",
    ]


def test_json_fields(cli_run, data):
    result = lint(cli_run, data, "--output-format", "json")
    items = json.loads(result.output)
    shout = items[0]
    assert {k: shout[k] for k in ("file", "line", "code", "name", "severity", "message", "pointer")} == {
        "file": "train.jsonl", "line": 1, "code": "X901", "name": "test-shout", "severity": "error",
        "message": "assistant shouts 'SHOUT'", "pointer": "/messages/1/content"}
    assert shout["fingerprint"].startswith("sha256:") and shout["score"] == 0.75
    assert shout["spans"] == [{"pointer": "/messages/1/content", "start": 0, "end": 5, "text": "SHOUT", "label": "shout"}]
    assert shout["fixable"] is True
    assert "score" not in items[2]  # not a heuristic rule
    # byte-identical across runs
    assert lint(cli_run, data, "--output-format", "json").output == result.output


def test_output_file_is_written_atomically(cli_run, data, tmp_path):
    result = lint(cli_run, data, "--output-format", "json", "-o", "report.json")
    assert result.exit_code == 1 and result.output == ""
    assert len(json.loads((tmp_path / "report.json").read_text())) == 3


def test_sarif_structure_for_github_code_scanning(cli_run, data):
    result = lint(cli_run, data, "--output-format", "sarif")
    doc = json.loads(result.output)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ftkit" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["J001", "X901", "X902"]
    shout = rules[1]
    assert shout["shortDescription"]["text"] == "Assistant text contains the shouted word."
    assert "Why it hurts fine-tuning" in shout["help"]["text"] and "**Bad**" in shout["help"]["markdown"]
    assert shout["defaultConfiguration"]["level"] == "error" and rules[2]["defaultConfiguration"]["level"] == "warning"
    assert len(run["results"]) == 3
    for result_ in run["results"]:
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["level"] in ("error", "warning", "note")
        location = result_["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "train.jsonl"
        assert location["region"]["startLine"] >= 1
        assert result_["message"]["text"]
        assert result_["partialFingerprints"]
    first = run["results"][0]
    assert first["ruleId"] == "X901" and first["properties"]["score"] == 0.75
    assert first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "/messages/1/content"
    assert run["results"][1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 2}


def test_github_annotations_and_auto_selection(cli_run, data):
    result = lint(cli_run, data, env={"GITHUB_ACTIONS": "true"})
    lines = result.output.splitlines()
    assert lines[0] == "::error file=train.jsonl,line=1,title=X901 test-shout::X901 [*] assistant shouts 'SHOUT' (/messages/1/content)"
    assert lines[1] == ("::error file=train.jsonl,line=3,col=2,title=J001 invalid-json::J001 invalid JSON: unexpected "
                        "character, expected a string key%0Ahint: fix the JSON syntax at the column shown")
    assert lines[2] == "::warning file=train.jsonl,line=4,title=X902 test-dup-reply::X902 same reply as line 2"
    assert result.exit_code == 1
    explicit = lint(cli_run, data, "--output-format", "text", env={"GITHUB_ACTIONS": "true"})
    assert explicit.output.startswith("train.jsonl:1: X901")


def test_junit(cli_run, data):
    result = lint(cli_run, data, "--output-format", "junit")
    root = ET.fromstring(result.output)
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "3"
    suite = root.find("testsuite")
    assert suite.get("name") == "train.jsonl"
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["ftkit.lint.X901", "ftkit.lint.J001", "ftkit.lint.X902"]
    assert cases[0].find("failure").get("type") == "error"
    assert cases[2].find("failure").get("type") == "warning"


def test_junit_when_clean(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.jsonl").write_bytes(orjson.dumps(ex("fine")) + b"\n")
    result = cli_run(["lint", "c.jsonl", "--isolated", "--select", SELECT, "--output-format", "junit"])
    root = ET.fromstring(result.output)
    assert root.get("failures") == "0" and root.find("testsuite/testcase").get("name") == "all checks passed"


def test_exit_codes(cli_run, data):
    assert lint(cli_run, data).exit_code == 1
    assert lint(cli_run, data, "--exit-zero").exit_code == 0
    assert lint(cli_run, data, "--severity", "X901=warning,J001=warning").exit_code == 0
    result = lint(cli_run, data, "--severity", "X901=warning,J001=info", "--max-warnings", "1")
    assert result.exit_code == 1 and "2 warning(s) exceed --max-warnings 1" in result.output
    assert lint(cli_run, data, "--select", "Z").exit_code == 2


def test_json_statistics(cli_run, data):
    result = lint(cli_run, data, "--output-format", "json", "--statistics")
    assert json.loads(result.output) == [
        {"code": "J001", "name": "invalid-json", "count": 1, "fixable": 0},
        {"code": "X901", "name": "test-shout", "count": 1, "fixable": 1},
        {"code": "X902", "name": "test-dup-reply", "count": 1, "fixable": 0},
    ]
