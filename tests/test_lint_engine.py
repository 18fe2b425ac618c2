"""The lint engine end to end: locations, ordering, workers, suppressions, baseline, library API."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

import _lint_testrules
from toolkit.linter import lint
from toolkit.linter.engine import Linter, RuleCrash
from toolkit.linter.settings import build_settings
from toolkit.linter.suppression import Baseline

TEST_SELECT = ["X001", "X002", "X003", "X901", "X902"]  # meta rules + the test rules (not X903, which crashes)


@pytest.fixture(autouse=True)
def test_rules():
    _lint_testrules.install()
    yield
    _lint_testrules.uninstall()


def ex(reply: str, user: str = "hi", meta: dict | None = None) -> dict:
    record = {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}
    if meta is not None:
        record["metadata"] = meta
    return record


def write_lines(path: Path, lines: list) -> Path:
    out = []
    for line in lines:
        out.append(line if isinstance(line, bytes) else orjson.dumps(line))
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def run(paths, *, select=TEST_SELECT, jobs=1, baseline=None, **kw):
    settings = build_settings({}, select=select, **kw)
    linter = Linter(settings, jobs=jobs, baseline=baseline)
    return linter.run([str(p) for p in paths]), linter


def test_problems_are_located_and_sorted(tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [ex("fine"), ex("SHOUT here"), b"{not json", ex("fine"), b"[1]"])
    b = write_lines(tmp_path / "b.jsonl", [ex("SHOUT"), ex("fine")])
    diags, linter = run([a, b])
    got = [(Path(d.file).name, d.line, d.code) for d in diags]
    assert got == [
        ("a.jsonl", 2, "X901"),
        ("a.jsonl", 3, "J001"),
        ("a.jsonl", 4, "X902"),
        ("a.jsonl", 5, "J002"),
        ("b.jsonl", 1, "X901"),
        ("b.jsonl", 2, "X902"),
    ]
    shout = diags[0]
    assert shout.pointer == "/messages/1/content"
    assert shout.name == "test-shout" and shout.severity.value == "error" and shout.fixable
    assert shout.score == 0.75 and shout.spans[0].to_dict() == {
        "pointer": "/messages/1/content", "start": 0, "end": 5, "text": "SHOUT", "label": "shout"}
    assert shout.fingerprint.startswith("sha256:")
    dup = diags[2]
    assert dup.message == "same reply as line 1" and dup.severity.value == "warning"
    assert not dup.fixable  # an unsafe fix is not offered without --unsafe-fixes
    assert linter.stats.hidden_unsafe_fixes == 2
    assert diags[1].column == 2 and diags[1].fingerprint.startswith("line:")
    assert linter.stats.examples == 5 and linter.stats.unreadable == 2 and linter.stats.files == 2


def test_metadata_id_is_the_fingerprint(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [ex("SHOUT", meta={"id": "ticket-7"})])
    diags, _ = run([path])
    assert diags[0].fingerprint == "id:ticket-7"


def test_workers_give_identical_results(tmp_path):
    records = []
    for i in range(3000):
        records.append(ex("SHOUT %d" % (i % 7) if i % 5 == 0 else f"reply {i % 400}", user=f"q{i}"))
    records[1234] = b'{"broken": '
    path = write_lines(tmp_path / "big.jsonl", records)
    import os

    _lint_testrules.DupReply.prepare_pids.clear()
    serial, _ = run([path], jobs=1)
    assert _lint_testrules.DupReply.prepare_pids == {os.getpid()}
    _lint_testrules.DupReply.prepare_pids.clear()
    parallel, linter = run([path], jobs=2)
    assert linter.stats.jobs == 2
    # The dataset rule's per-example prepare() ran in the workers, observe() here, in order.
    assert _lint_testrules.DupReply.prepare_pids and os.getpid() not in _lint_testrules.DupReply.prepare_pids
    assert [d.to_dict() for d in parallel] == [d.to_dict() for d in serial]
    assert len(serial) > 3000  # 600 shouts + 2600 duplicate replies + 1 syntax error


def _dataset_records() -> list[dict]:
    """Examples that make every built-in dataset rule report: copies, near copies, conflicts, prompts."""
    records = []
    for i in range(700):
        words = " ".join(f"w{(i * 7 + k) % 97}" for k in range(12))
        system = [{"role": "system", "content": f"You are helper {i % 3}."}] if i % 5 else []
        reply = f"Hi! About {words}: we can do it.\n\n- step one\n- step two\n\nBest regards,\nAnna {i % 4}"
        if i % 3 == 0:
            reply = f"Sure, {words} works." + " Thanks for waiting." * (1 + i % 40)
        records.append({"messages": [*system, {"role": "user", "content": f"How do I handle {words} today?"},
                                     {"role": "assistant", "content": reply}]})
        if i % 9 == 0:
            records.append(dict(records[-1]))  # exact copy
        if i % 10 == 0:  # near copy, and a conflicting answer to the same prompt
            records.append({"messages": [*records[-1]["messages"][:-1], {"role": "assistant", "content": reply + " Done."}]})
            records.append({"messages": [*records[-1]["messages"][:-1], {"role": "assistant", "content": "No, never."}]})
    return records


DATASET_RULES = ["D001", "D002", "D003", "Q002", "Q008", "S022", "V008", "V009", "V010"]
DATASET_OPTIONS = {"V008": {"min-share": 0.01, "min-reply-chars": 60}, "V009": {"min-share": 0.01},
                   "V010": {"min-share": 0.01}, "D002": {"threshold": 0.6}}


def test_dataset_rules_observe_prepared_results_as_they_would_whole_records(tmp_path):
    """observe() on the record-less contexts the engine builds (prepare() ran in a chunk, maybe a worker)
    finds exactly what it finds called directly on whole records."""
    from toolkit.linter.rule import ExampleContext, load_all_rules
    from toolkit.linter.settings import effective_options

    records = _dataset_records()
    path = write_lines(tmp_path / "data.jsonl", records)
    settings = build_settings({}, select=DATASET_RULES, options=DATASET_OPTIONS)
    direct = []
    for code in DATASET_RULES:
        rule = load_all_rules()[code](effective_options(code, settings))
        for number, record in enumerate(records, start=1):
            ctx = ExampleContext(record, file=str(path), line=number, index=number)
            direct += [(finding.at.line if finding.at else number, code, finding.message) for finding in rule.observe(ctx)]
        direct += [(finding.at.line if finding.at else None, code, finding.message) for finding in rule.finish()]
    assert {code for _, code, _ in direct} >= {"D001", "D002", "D003", "Q002", "Q008", "V008", "V010"}
    for jobs in (1, 2):
        diags, linter = run([path], select=DATASET_RULES, jobs=jobs, options=DATASET_OPTIONS)
        assert linter.stats.jobs == jobs
        assert sorted((d.line, d.code, d.message) for d in diags) == sorted(direct, key=lambda t: (t[0] or 0, t[1], t[2]))


def test_a_dataset_rule_without_prepare_still_observes_whole_records(tmp_path, monkeypatch):
    monkeypatch.delattr(_lint_testrules.DupReply, "prepare")
    monkeypatch.setattr(_lint_testrules.DupReply, "observe", lambda self, ctx: _observe_reply(self, ctx))
    records = [ex(f"reply {i % 300}", user=f"q{i}") for i in range(900)]
    path = write_lines(tmp_path / "a.jsonl", records)
    serial, _ = run([path], select=["X902"], jobs=1)
    parallel, linter = run([path], select=["X902"], jobs=2)
    assert linter.ship_records and linter.stats.jobs == 2
    assert len(serial) == 600 and [d.to_dict() for d in parallel] == [d.to_dict() for d in serial]


def _observe_reply(rule, ctx):
    reply = ctx.texts[ctx.last_assistant_index]  # needs the record
    if reply in rule.seen:
        rule.later.append((ctx.ref, rule.seen[reply]))
    else:
        rule.seen[reply] = ctx.ref
    return ()


def test_rule_crash_names_rule_and_location(tmp_path, cli_run):
    path = write_lines(tmp_path / "a.jsonl", [ex("fine")])
    with pytest.raises(RuleCrash, match=r"X903 \(test-crash\) on .*a.jsonl:1: ZeroDivisionError: boom"):
        run([path], select=["X903"])
    result = cli_run(["lint", path, "--select", "X903"])
    assert result.exit_code == 2
    assert "internal error in rule X903 (test-crash)" in result.output


def test_in_record_suppression_by_code_name_and_prefix(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [
        ex("SHOUT", meta={"ftkit": {"ignore": ["X901"], "reason": "quoted on purpose"}}),
        ex("SHOUT", meta={"ftkit": {"ignore": ["test-shout"]}}),
        ex("SHOUT", meta={"ftkit": {"ignore": ["X9"]}}),
        ex("SHOUT"),
    ])
    diags, linter = run([path], select=["X901", "X002"])
    assert [(d.line, d.code) for d in diags] == [(4, "X901")]
    assert linter.stats.suppressed == 3


def test_unused_and_invalid_suppressions_are_reported(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [
        ex("calm", meta={"ftkit": {"ignore": ["X901"]}}),
        ex("calm", user="other", meta={"ftkit": {"ignore": "X901"}}),
        ex("SHOUT", user="third", meta={"ftkit": {"ignore": ["X901", "Z999"], "reason": 5}}),
    ])
    diags, _ = run([path], select=["X001", "X002", "X003", "X901"])
    got = [(d.line, d.code, d.pointer) for d in diags]
    assert got == [
        (1, "X002", "/metadata/ftkit/ignore/0"),
        (2, "X003", "/metadata/ftkit/ignore"),
        (3, "X003", "/metadata/ftkit/ignore/1"),
        (3, "X003", "/metadata/ftkit/reason"),
    ]
    assert "silences nothing" in diags[0].message


def test_unused_suppression_of_a_rule_that_did_not_run_is_not_reported(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [ex("calm", meta={"ftkit": {"ignore": ["X901"]}})])
    diags, _ = run([path], select=["X002"])
    assert diags == []


def test_dataset_findings_respect_suppression_of_their_target(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [ex("same"), ex("same", user="b", meta={"ftkit": {"ignore": ["X902"]}})])
    diags, linter = run([path], select=["X902", "X002"])
    assert diags == [] and linter.stats.suppressed == 1


def test_per_file_ignores(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "synthetic").mkdir(parents=True)
    a = write_lines(tmp_path / "data" / "synthetic" / "gen.jsonl", [ex("SHOUT")])
    b = write_lines(tmp_path / "data" / "real.jsonl", [ex("SHOUT", user="x")])
    config = {"lint": {"per-file-ignores": {"data/synthetic/*.jsonl": ["test-shout"]}}}
    settings = build_settings(config, config_path=tmp_path / "ftkit.toml", select=["X901"])
    diags = Linter(settings, jobs=1).run([str(a), str(b)])
    assert [(Path(d.file).name, d.code) for d in diags] == [("real.jsonl", "X901")]
    settings = build_settings({"lint": {"per-file-ignores": {"*.jsonl": ["X9"]}}}, select=["X901"])
    assert Linter(settings, jobs=1).run([str(a), str(b)]) == []


def test_baseline_round_trip_through_the_cli(tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_lines(tmp_path / "train.jsonl", [ex("SHOUT", meta={"id": "a"}), ex("fine", meta={"id": "b"}),
                                                   ex("SHOUT twice SHOUT", user="x", meta={"id": "c"})])
    result = cli_run(["lint", "train.jsonl", "--select", "X001,X002,X003,X901,X902"])
    assert result.exit_code == 1
    result = cli_run(["lint", "train.jsonl", "--select", "X001,X002,X003,X901,X902", "--baseline", "base.json", "--write-baseline"])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "base.json").read_text())
    assert document["version"] == 1
    assert document["examples"] == {"id:a": {"codes": {"X901": 1}, "files": ["train.jsonl"]},
                                    "id:c": {"codes": {"X901": 1}, "files": ["train.jsonl"]}}
    before = (tmp_path / "base.json").read_bytes()
    cli_run(["lint", "train.jsonl", "--select", "X001,X002,X003,X901,X902", "--baseline", "base.json", "--write-baseline"])
    assert (tmp_path / "base.json").read_bytes() == before  # deterministic

    # Known problems pass, even after the examples move to other lines.
    lines = data.read_bytes().splitlines()
    data.write_bytes(b"\n".join([lines[2], lines[1], lines[0]]) + b"\n")
    result = cli_run(["lint", "train.jsonl", "--select", "X001,X002,X003,X901,X902", "--baseline", "base.json"])
    assert result.exit_code == 0, result.output
    assert "2 in the baseline" in result.output

    # A new problem fails; a fixed one is reported stale (X001) at its line in the baseline file.
    write_lines(data, [ex("fine", meta={"id": "a"}), ex("SHOUT", meta={"id": "b"}),
                       ex("SHOUT twice SHOUT", user="x", meta={"id": "c"})])
    result = cli_run(["lint", "train.jsonl", "--select", "X001,X002,X003,X901,X902", "--baseline", "base.json", "--output-format", "json"])
    assert result.exit_code == 1
    got = [(d["file"], d["line"], d["code"], d["fingerprint"]) for d in json.loads(result.output)]
    text = (tmp_path / "base.json").read_text().splitlines()
    stale_line = next(i for i, line in enumerate(text, 1) if line.startswith('    "id:a"'))
    assert got == [("base.json", stale_line, "X001", "id:a"), ("train.jsonl", 2, "X901", "id:b")]


def test_baseline_is_per_count(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [ex("SHOUT", meta={"id": "a"})])
    base = tmp_path / "b.json"
    base.write_text(json.dumps({"version": 1, "examples": {"id:a": {"codes": {"X901": 1}, "files": ["a.jsonl"]}}}))
    diags, linter = run([path], baseline=Baseline.load(base), select=["X901"])
    assert diags == [] and linter.stats.baselined == 1


def test_baseline_errors_are_clear(tmp_path, cli_run):
    path = write_lines(tmp_path / "a.jsonl", [ex("fine")])
    (tmp_path / "bad.json").write_text('{"version": 1, "examples": {"x": {"codes": {"X901": 0}}}}')
    result = cli_run(["lint", path, "--baseline", tmp_path / "bad.json"])
    assert result.exit_code == 2 and "examples.x.codes.X901: count must be a positive integer" in result.output
    result = cli_run(["lint", path, "--baseline", tmp_path / "missing.json"])
    assert result.exit_code == 2 and "baseline file not found" in result.output


def test_stale_entries_of_files_not_linted_are_left_alone(tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [ex("fine")])
    base = tmp_path / "b.json"
    base.write_text(json.dumps({"version": 1, "examples": {"id:z": {"codes": {"X901": 1}, "files": ["other.jsonl"]}}}))
    diags, _ = run([a], baseline=Baseline.load(base), select=["X001", "X901"])
    assert diags == []


def test_library_api_on_lists_generators_datasets_and_paths(tmp_path):
    records = [ex("fine"), ex("SHOUT"), ex("fine")]
    from_list = [d.to_dict() for d in lint(records, select=["X901", "X902"], file="mem.jsonl")]
    assert [(d["line"], d["code"]) for d in from_list] == [(2, "X901"), (3, "X902")]
    assert from_list[0]["file"] == "mem.jsonl"
    from_gen = [d.to_dict() for d in lint((r for r in records), select=["X901", "X902"], file="mem.jsonl")]
    assert from_gen == from_list
    import datasets

    dataset = datasets.Dataset.from_list(records)
    from_ds = [d.to_dict() for d in lint(dataset, select=["X901", "X902"], file="mem.jsonl")]
    assert [(d["line"], d["code"]) for d in from_ds] == [(2, "X901"), (3, "X902")]
    path = write_lines(tmp_path / "mem.jsonl", records)
    from_path = [d.to_dict() for d in lint(path, select=["X901", "X902"])]
    assert [(d["line"], d["code"]) for d in from_path] == [(2, "X901"), (3, "X902")]
    # The library's dicts are exactly the CLI's JSON objects.
    import toolkit

    assert toolkit.lint is lint


def test_library_api_rejects_non_objects_and_unknown_rules():
    diags = list(lint([ex("fine"), "not a record"], select=TEST_SELECT))
    assert [(d.line, d.code) for d in diags] == [(2, "J002")]
    from toolkit.linter.settings import LintConfigError

    with pytest.raises(LintConfigError, match="unknown rule code, name or prefix 'X999'"):
        list(lint([ex("fine")], select=["X999"]))


def test_library_api_matches_cli_json(tmp_path, cli_run):
    path = write_lines(tmp_path / "a.jsonl", [ex("SHOUT"), ex("SHOUT")])
    api = [d.to_dict() for d in lint(path, select=["X901", "X902"])]
    result = cli_run(["lint", path, "--select", "X901,X902", "--output-format", "json", "--isolated"])
    assert json.loads(result.output) == api


def test_unreadable_lines_are_never_dropped(tmp_path, cli_run):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"messages": []}\n\n{"a": "\xff"}\n{"messages": [')
    result = cli_run(["lint", path, "--select", "X001,X002,X003,X901,X902", "--output-format", "json"])
    got = [(d["line"], d["code"]) for d in json.loads(result.output)]
    assert got == [(3, "J004"), (4, "J003")]
    assert result.exit_code == 1


def test_bom_and_crlf_are_reported_when_selected(tmp_path):
    from toolkit.linter.rule import load_all_rules

    path = tmp_path / "a.jsonl"
    path.write_bytes(b'\xef\xbb\xbf' + orjson.dumps(ex("one")) + b'\r\n' + orjson.dumps(ex("two")) + b'\r\n')
    registered = {"J006", "J007"} & set(load_all_rules())
    diags, _ = run([path], select=sorted(registered) or TEST_SELECT)
    assert sorted(d.code for d in diags) == sorted(registered)


def test_stdin_and_stdin_filename(tmp_path, cli_run):
    data = orjson.dumps(ex("SHOUT")) + b"\n"
    result = cli_run(["lint", "-", "--select", "X901", "--isolated"], input=data)
    assert result.exit_code == 1 and result.output.startswith("<stdin>:1: X901 [*]")
    result = cli_run(["lint", "-", "--select", "X901", "--isolated", "--stdin-filename", "in.jsonl"], input=data)
    assert result.output.startswith("in.jsonl:1: X901")


def test_folders_expand_to_jsonl_files(tmp_path, cli_run):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / ".hidden").mkdir()
    write_lines(tmp_path / "d" / "sub" / "x.jsonl", [ex("SHOUT")])
    write_lines(tmp_path / "d" / "y.ndjson", [ex("SHOUT", user="y")])
    write_lines(tmp_path / "d" / ".hidden" / "z.jsonl", [ex("SHOUT", user="z")])
    (tmp_path / "d" / "notes.txt").write_text("SHOUT")
    result = cli_run(["lint", tmp_path / "d", "--select", "X901", "--isolated", "--output-format", "json"])
    assert sorted(Path(d["file"]).name for d in json.loads(result.output)) == ["x.jsonl", "y.ndjson"]


def test_missing_file_and_empty_args_are_usage_errors(tmp_path, cli_run):
    result = cli_run(["lint", tmp_path / "nope.jsonl"])
    assert result.exit_code == 2 and "nope.jsonl: no such file" in result.output
    result = cli_run(["lint"])
    assert result.exit_code == 2 and "no input" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli_run(["lint", empty])
    assert result.exit_code == 2 and "no .jsonl" in result.output


def test_gzip_input(tmp_path, cli_run):
    import gzip

    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(orjson.dumps(ex("fine")) + b"\n" + orjson.dumps(ex("SHOUT")) + b"\n")
    result = cli_run(["lint", path, "--select", "X901", "--isolated"])
    assert result.exit_code == 1 and "a.jsonl.gz:2: X901" in result.output


def test_timing_counts_every_rule_in_every_process(tmp_path, cli_run):
    path = write_lines(tmp_path / "t.jsonl", [ex(f"reply {i}", user=f"q{i}") for i in range(2500)])
    for jobs in (1, 2):
        settings = build_settings({}, select=["X901", "X902", "X003"])
        linter = Linter(settings, jobs=jobs, timing=True)
        linter.run([str(path)])
        assert set(linter.timings) == {"X003", "X901", "X902"}
        assert all(seconds > 0 for seconds in linter.timings.values())
    result = cli_run(["lint", path, "--isolated", "--select", "X901,X902", "--timing", "--jobs", "1"])
    assert "rule timings (CPU seconds over all processes, 2500 examples):" in result.output
    assert "X901  test-shout" in result.output


def test_context_messages_keep_mappings_that_are_not_dicts():
    """ExampleContext.messages tests for a dict first, then for any Mapping; other entries are dropped."""
    from types import MappingProxyType

    from toolkit.linter.rule import ExampleContext

    view = MappingProxyType({"role": "assistant", "content": "hi"})
    ctx = ExampleContext({"messages": [{"role": "user", "content": "q"}, "junk", view, None]})
    assert ctx.messages == [{"role": "user", "content": "q"}, view]
    assert ctx.last_assistant_index == 1


def test_lint_restores_the_callers_gc_thresholds():
    """The engine collects cyclic garbage rarely while it runs (speed), and leaves a library caller's settings as they were."""
    import gc

    seen = []

    def records():
        yield ex("SHOUT")
        seen.append(gc.get_threshold())  # read while the engine consumes the records
        yield ex("calm")

    before = gc.get_threshold()
    gc.set_threshold(321, 7, 9)
    try:
        diagnostics = list(lint(records(), select=TEST_SELECT))
        assert seen == [(10_000, 50, 50)]
        assert [d.code for d in diagnostics] == ["X901"]
        assert gc.get_threshold() == (321, 7, 9)
    finally:
        gc.set_threshold(*before)


def test_records_with_a_lone_surrogate_lint_from_the_library():
    """Python records can hold what JSON files cannot (a lone surrogate): fingerprinting and the cue scans cope."""
    record = {"messages": [{"role": "user", "content": "caf\udce9 As an AI language model?"},
                           {"role": "assistant", "content": "As an AI language model, I cannot \udce9 say."}]}
    diagnostics = list(lint([record, dict(record)], select=["A003", "D001"]))
    assert [d.code for d in diagnostics] == ["A003", "A003", "D001"]
    # equal content, equal identity (the copy is the second line)
    assert diagnostics[0].fingerprint == diagnostics[1].fingerprint and diagnostics[0].fingerprint.startswith("sha256:")
    assert [d.line for d in diagnostics] == [1, 2, 2]
