"""Every registered rule is documented, and its own examples prove it: `bad` fires, `good` does not.

This one test covers the issue's "each rule has tests with a bad and a good example" for all
rule families at once: a rule added without working examples fails here. The examples are
linted as real files (so J rules see raw bytes: a BOM, CRLF, bytes that are not UTF-8 written
as surrogate escapes ``\\udcXX``) with only that rule selected and its ``example_options``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.linter.docs import all_rules_json, all_rules_markdown, rule_markdown, rule_text_plain
from toolkit.linter.engine import Linter
from toolkit.linter.rule import FAMILIES, load_all_rules
from toolkit.linter.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
RULES = load_all_rules()
CODES = list(RULES)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    data = text.encode("utf-8", errors="surrogateescape")
    if not data.endswith(b"\n"):
        data += b"\n"
    path.write_bytes(data)
    return path


def _lint_codes(path: Path, code: str) -> list[str]:
    cls = RULES[code]
    options = {code: dict(cls.example_options)} if cls.example_options else None
    # Meta rules judge other rules' suppressions, so they run with their whole family.
    select = ["X"] if code.startswith("X") else [code]
    settings = build_settings({}, select=select, options=options)
    return [d.code for d in Linter(settings, jobs=1).run([str(path)])]


def test_registry_has_rules_of_the_engine_families():
    assert {"X001", "X002", "X003"} <= set(RULES)
    for code in RULES:
        assert code.rstrip("0123456789") in FAMILIES, f"{code}: family not in FAMILIES"


@pytest.mark.parametrize("code", CODES)
def test_rule_documentation_is_complete_and_renders(code):
    cls = RULES[code]
    doc = cls.documentation()
    for key in ("code", "name", "summary", "why", "bad", "good"):
        assert isinstance(doc[key], str) and doc[key].strip(), f"{code}: empty {key}"
    assert doc["name"] == doc["name"].lower() and " " not in doc["name"] and "_" not in doc["name"], f"{code}: name not kebab-case"
    assert doc["fix"] in (None, "safe", "unsafe")
    assert doc["bad"] != doc["good"] or getattr(cls, "needs_baseline", False), f"{code}: bad and good are identical"
    markdown = rule_markdown(cls)
    assert markdown.startswith(f"### {code} `{cls.name}`")
    assert "**Bad**" in markdown and "**Good**" in markdown
    for option in cls.options:
        assert f"`{option.name}`" in markdown
        assert option.description.strip(), f"{code}: option {option.name} undocumented"
    assert cls.summary in rule_text_plain(cls)
    json.dumps(doc, default=str)


@pytest.mark.parametrize("code", CODES)
def test_bad_example_triggers_and_good_does_not(code, tmp_path, monkeypatch):
    # Relative paths in example_options (e.g. a sample knowledge base) are project-relative.
    monkeypatch.chdir(ROOT)
    cls = RULES[code]
    if getattr(cls, "needs_baseline", False):
        pytest.skip(f"{code} needs a baseline file: covered in tests/test_lint_engine.py")
    bad = _write(tmp_path, "bad.jsonl", cls.bad)
    good = _write(tmp_path, "good.jsonl", cls.good)
    assert code in _lint_codes(bad, code), f"{code} ({cls.name}): its `bad` example does not trigger it"
    assert code not in _lint_codes(good, code), f"{code} ({cls.name}): its `good` example triggers it"


def test_rule_cli_prints_one_rule_by_code_and_by_name(cli_run):
    for key in ("X002", "unused-suppression"):
        result = cli_run(["rule", key])
        assert result.exit_code == 0
        assert "X002" in result.output and "Why it hurts fine-tuning" in result.output
    result = cli_run(["rule", "X002", "--output-format", "json"])
    assert json.loads(result.output)["name"] == "unused-suppression"


def test_rule_cli_unknown_rule_is_a_usage_error(cli_run):
    result = cli_run(["rule", "unused-supression"])
    assert result.exit_code == 2
    assert "unknown rule 'unused-supression'" in result.output
    assert "did you mean 'unused-suppression'" in result.output


def test_rule_all_json_lists_every_rule(cli_run):
    result = cli_run(["rule", "--all", "--output-format", "json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert [item["code"] for item in listed] == CODES
    assert all({"code", "name", "summary", "why", "bad", "good", "options", "fix"} <= set(item) for item in listed)


def test_docs_rules_md_is_up_to_date():
    """docs/rules.md is generated; regenerate with `python scripts/gen_rule_docs.py` when this fails."""
    expected = all_rules_markdown()
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == expected, "docs/rules.md is stale: run `python scripts/gen_rule_docs.py`"
    assert all_rules_json()  # renders


def test_gen_rule_docs_script_check_mode(tmp_path, ftkit_subprocess):
    import subprocess
    import sys

    out = tmp_path / "rules.md"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py"), "--output", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == all_rules_markdown()
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py"), "--output", str(out), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    out.write_text("stale\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py"), "--output", str(out), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "stale" in proc.stderr
