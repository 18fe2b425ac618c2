"""Lint configuration: pyproject / ftkit.toml, selection layers, severities, options, clear errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

import _lint_testrules
from toolkit.diagnostics import Severity
from toolkit.linter.settings import LintConfigError, build_settings, default_selection


@pytest.fixture(autouse=True)
def test_rules():
    _lint_testrules.install()
    yield
    _lint_testrules.uninstall()


def ex(reply: str, user: str = "hi") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "train.jsonl"
    data.write_bytes(b"\n".join(orjson.dumps(r) for r in [ex("SHOUT"), ex("SHOUT", user="again"), ex("ok")]) + b"\n")
    return tmp_path


def write_pyproject(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + body, encoding="utf-8")


def codes(result) -> list[tuple[int, str, str]]:
    return [(d["line"], d["code"], d["severity"]) for d in json.loads(result.output)]


def test_default_selection_is_the_default_enabled_rules():
    selected = build_settings({}).selected
    assert selected == default_selection()
    assert "X901" in selected and "X903" not in selected  # X903 is off by default


def test_pyproject_select_ignore_and_severity(project, cli_run):
    write_pyproject(project, """
[tool.ftkit.lint]
select = ["X901", "test-dup-reply"]
[tool.ftkit.lint.severity]
test-shout = "warning"
""")
    result = cli_run(["lint", "train.jsonl", "--output-format", "json"])
    assert codes(result) == [(1, "X901", "warning"), (2, "X901", "warning"), (2, "X902", "warning")]
    assert result.exit_code == 0  # warnings only

    # Command line: --ignore wins over the file, --select replaces the file's select.
    result = cli_run(["lint", "train.jsonl", "--output-format", "json", "--ignore", "X902"])
    assert [c for _, c, _ in codes(result)] == ["X901", "X901"]
    result = cli_run(["lint", "train.jsonl", "--output-format", "json", "--select", "X902"])
    assert [c for _, c, _ in codes(result)] == ["X902"]
    result = cli_run(["lint", "train.jsonl", "--output-format", "json", "--severity", "X901=error,X902=info"])
    assert codes(result) == [(1, "X901", "error"), (2, "X901", "error"), (2, "X902", "info")]
    assert result.exit_code == 1


def test_ftkit_toml_wins_over_pyproject_and_config_option(project, cli_run):
    write_pyproject(project, '[tool.ftkit.lint]\nselect = ["X901"]\n')
    (project / "ftkit.toml").write_text('[lint]\nselect = ["X902"]\n', encoding="utf-8")
    assert [c for _, c, _ in codes(cli_run(["lint", "train.jsonl", "--output-format", "json"]))] == ["X902"]
    other = project / "other.toml"
    other.write_text('[lint]\nselect = ["X901"]\nignore = ["X9"]\nextend-select = ["X902"]\n', encoding="utf-8")
    # ignore removes X901 and X902 selected in the same layer (ignore applies after extend-select)
    assert codes(cli_run(["lint", "train.jsonl", "--output-format", "json", "--config", other])) == []
    # --isolated ignores every file: the defaults run (X901, X902 on by default).
    got = [c for _, c, _ in codes(cli_run(["lint", "train.jsonl", "--output-format", "json", "--isolated"])) if c.startswith("X")]
    assert got == ["X901", "X901", "X902"]


def test_layers_command_line_reselects_what_the_file_ignores():
    settings = build_settings({"lint": {"ignore": ["X901"]}}, select=["X901"])
    assert "X901" in settings.selected
    settings = build_settings({"lint": {"ignore": ["X901"]}}, extend_select=["test-shout"])
    assert "X901" in settings.selected
    settings = build_settings({"lint": {"extend-select": ["X903"]}}, extend_ignore=["X903"])
    assert "X903" not in settings.selected
    settings = build_settings({}, select=["ALL"])
    assert "X903" in settings.selected


def test_severity_specificity_name_beats_prefix():
    settings = build_settings({"lint": {"severity": {"X": "info", "test-shout": "error", "X90": "warning"}}})
    assert settings.severity["X901"] == Severity.ERROR
    assert settings.severity["X902"] == Severity.WARNING
    assert settings.severity["X001"] == Severity.INFO


def test_options_by_code_or_name_reach_the_rule(project, cli_run):
    write_pyproject(project, '[tool.ftkit.lint]\nselect = ["X901"]\n[tool.ftkit.lint.options.test-shout]\nword = "ok"\n')
    assert codes(cli_run(["lint", "train.jsonl", "--output-format", "json"])) == [(3, "X901", "error")]


@pytest.mark.parametrize(
    "body, message",
    [
        ('[tool.ftkit.lint]\nselect = ["X9O1"]\n', "unknown rule code, name or prefix 'X9O1'"),
        ('[tool.ftkit.lint]\nignore = ["test-shuot"]\n', "did you mean 'test-shout'?"),
        ('[tool.ftkit.lint.options.X901]\nwrod = "x"\n', "X901 (test-shout): unknown option 'wrod'; options: word"),
        ('[tool.ftkit.lint.options.X901]\nword = 3\n', "option 'word' must be str, got int"),
        ('[tool.ftkit.lint.options.nope]\nword = "x"\n', "unknown rule 'nope'"),
        ('[tool.ftkit.lint.severity]\nX901 = "fatal"\n', "'fatal' is not one of ['error', 'warning', 'info']"),
        ('[tool.ftkit.lint]\nselct = ["X901"]\n', "'selct' was unexpected"),
        ('[tool.ftkit.lint]\nmax-warnings = -1\n', "lint.max-warnings"),
        ('[tool.ftkit.lint.per-file-ignores]\n"*.jsonl" = ["Z1"]\n', "unknown rule code, name or prefix 'Z1'"),
        ("[tool.ftkit.lint\n", "invalid TOML"),
    ],
)
def test_config_errors_exit_2_with_a_clear_message(project, cli_run, body, message):
    write_pyproject(project, body)
    result = cli_run(["lint", "train.jsonl"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "pyproject.toml" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--select", "Q9Z"], "unknown rule code, name or prefix 'Q9Z'"),
        (["--ignore", ""], None),
        (["--severity", "X901"], "expected CODE=error|warning|info"),
        (["--severity", "X901=loud"], "severity must be error, warning or info"),
        (["--unsafe-fixes"], "--unsafe-fixes needs --fix or --diff"),
        (["--fix", "--write-baseline"], "cannot be combined"),
    ],
)
def test_command_line_errors_exit_2(project, cli_run, args, message):
    result = cli_run(["lint", "train.jsonl", "--isolated", *args])
    if message is None:
        assert result.exit_code == 1  # an empty --ignore is no selector at all
        return
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_kb_without_a_rule_that_takes_it_is_an_error(project, cli_run):
    (project / "kb.md").write_text("Refunds take 5 days.")
    result = cli_run(["lint", "train.jsonl", "--isolated", "--select", "X901", "--kb", "kb.md"])
    assert result.exit_code == 2
    assert "no selected rule takes a knowledge base" in result.output


def test_target_and_model_forwarded_only_to_rules_that_declare_them():
    from toolkit.linter.rule import RuleOption, load_all_rules
    from toolkit.linter.settings import effective_options

    settings = build_settings({"model": "gpt-4o-mini", "lint": {}}, target="openai")
    assert settings.model == "gpt-4o-mini" and settings.target == "openai"
    assert effective_options("X901", settings) == {}
    for code, cls in load_all_rules().items():
        names = {o.name for o in cls.options}
        if "model" in names:
            assert effective_options(code, settings)["model"] == "gpt-4o-mini"
    assert RuleOption  # imported for readers: options are declared with RuleOption


def test_library_build_settings_rejects_unknown_lint_keys():
    with pytest.raises(LintConfigError, match="unknown key"):
        build_settings({"lint": {"selects": ["X901"]}})


def test_max_warnings_from_file_and_cli(project, cli_run):
    write_pyproject(project, '[tool.ftkit.lint]\nselect = ["X902"]\nmax-warnings = 0\n')
    result = cli_run(["lint", "train.jsonl"])
    assert result.exit_code == 1 and "exceed --max-warnings 0" in result.output
    assert cli_run(["lint", "train.jsonl", "--max-warnings", "1"]).exit_code == 0
    assert cli_run(["lint", "train.jsonl", "--exit-zero"]).exit_code == 0


def test_an_option_a_rule_rejects_when_built_is_a_usage_error(project, cli_run):
    from toolkit.linter.rule import load_all_rules

    takes_target = [code for code, cls in load_all_rules().items() if any(o.name == "target" for o in cls.options)]
    if not takes_target:
        pytest.fail("no rule takes a `target` option (the S/T rules should)")
    result = cli_run(["lint", "train.jsonl", "--isolated", "--target", "nonsense"])
    assert result.exit_code == 2
    assert "unknown target 'nonsense'" in result.output and "Traceback" not in result.output


def test_library_config_forms(project):
    from toolkit.linter import lint

    records = [ex("SHOUT"), ex("SHOUT", user="again")]
    as_dict = [d.code for d in lint(records, config={"lint": {"select": ["X901"]}})]
    assert as_dict == ["X901", "X901"]
    write_pyproject(project, '[tool.ftkit.lint]\nselect = ["X902"]\n')
    assert [d.code for d in lint(records, config="auto")] == ["X902"]
    assert [d.code for d in lint(records, config=project / "pyproject.toml")] == ["X902"]
    assert {"X901", "X902"} <= {d.code for d in lint(records)}  # None: no file, the defaults
    with pytest.raises(Exception, match="'selct' was unexpected"):
        list(lint(records, config={"lint": {"selct": ["X901"]}}))
