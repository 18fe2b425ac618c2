"""--fix / --unsafe-fixes / --diff: what changes, what stays byte-identical, atomic writes."""

from __future__ import annotations

import gzip
import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import _lint_testrules
from toolkit.linter.engine import FileFixes
from toolkit.linter.fixes import (
    apply_file_fixes,
    clean_whitespace,
    map_texts,
    reencode_line,
    repair_mojibake,
    set_at_pointer,
    unified_diff,
)

SELECT = "X001,X002,X003,X901,X902"


@pytest.fixture(autouse=True)
def test_rules():
    _lint_testrules.install()
    yield
    _lint_testrules.uninstall()


def ex(reply: str, user: str = "hi", **extra) -> dict:
    return {"z_first": 1, "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}], **extra}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


ODD_LINE = b'{"messages":  [{"role": "user", "content": "spacing kept"}, {"role": "assistant", "content": "calm"}] }'


def make(path, lines):
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else orjson.dumps(x) for x in lines) + b"\n")
    return path


def test_fix_applies_safe_fixes_keeps_key_order_and_untouched_bytes(workdir, cli_run):
    data = make(workdir / "d.jsonl", [ODD_LINE, ex("SHOUT now", metadata={"id": "k"}), ex("SHOUT", user="b")])
    result = cli_run(["lint", "d.jsonl", "--isolated", "--select", SELECT, "--fix"])
    lines = data.read_bytes().split(b"\n")
    assert lines[0] == ODD_LINE  # no fix: byte for byte
    fixed = orjson.loads(lines[1])
    assert list(fixed) == ["z_first", "messages", "metadata"]
    assert fixed["messages"][1]["content"] == "shout now"
    assert orjson.loads(lines[2])["messages"][1]["content"] == "shout"
    # After fixing, what is left is reported: nothing for X901; the unsafe duplicate fix is not applied.
    assert result.exit_code == 0, result.output
    assert "2 fixed" in result.output
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_unsafe_fixes_drop_duplicates_only_when_asked(workdir, cli_run):
    data = make(workdir / "d.jsonl", [ex("same"), ex("other"), ex("same", user="again")])
    cli_run(["lint", "d.jsonl", "--isolated", "--select", "X902", "--fix"])
    assert len(data.read_bytes().splitlines()) == 3
    result = cli_run(["lint", "d.jsonl", "--isolated", "--select", "X902", "--fix", "--unsafe-fixes"])
    assert [orjson.loads(x)["messages"][1]["content"] for x in data.read_bytes().splitlines()] == ["same", "other"]
    assert result.exit_code == 0 and "All checks passed" in result.output


def test_suppressed_problems_are_not_fixed(workdir, cli_run):
    keep = ex("SHOUT", metadata={"ftkit": {"ignore": ["X901"], "reason": "quoting a customer"}})
    data = make(workdir / "d.jsonl", [keep])
    before = data.read_bytes()
    cli_run(["lint", "d.jsonl", "--isolated", "--select", SELECT, "--fix"])
    assert data.read_bytes() == before


def test_diff_shows_changes_without_writing(workdir, cli_run):
    data = make(workdir / "d.jsonl", [ODD_LINE, ex("SHOUT")])
    before = data.read_bytes()
    result = cli_run(["lint", "d.jsonl", "--isolated", "--select", SELECT, "--diff"])
    assert data.read_bytes() == before
    assert result.exit_code == 1
    assert result.stdout == (
        "--- a/d.jsonl\n+++ b/d.jsonl\n@@ -2 +2 @@\n"
        f"-{orjson.dumps(ex('SHOUT')).decode()}\n+{orjson.dumps(ex('shout')).decode()}\n"
    )
    assert "Would fix 1 problem(s) in 1 file(s)." in result.output
    clean = make(workdir / "c.jsonl", [ODD_LINE])
    result = cli_run(["lint", clean, "--isolated", "--select", SELECT, "--diff"])
    assert result.exit_code == 0 and result.stdout == ""


def test_fix_on_gzip_stays_gzip(workdir, cli_run):
    path = workdir / "d.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(orjson.dumps(ex("SHOUT")) + b"\n")
    cli_run(["lint", path, "--isolated", "--select", SELECT, "--fix"])
    with gzip.open(path, "rb") as fh:
        assert orjson.loads(fh.read())["messages"][1]["content"] == "shout"


def test_fix_refuses_stdin(workdir, cli_run):
    result = cli_run(["lint", "-", "--fix"], input=b"{}\n")
    assert result.exit_code == 2 and "--fix and --diff need files" in result.output


def test_file_fixes_bom_crlf_and_reencoding(tmp_path):
    path = tmp_path / "d.jsonl"
    latin = '{"messages": [{"role": "user", "content": "caf\u00e9"}]}'.encode("cp1252")
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n' + latin + b"\r\n" + b'{"b": 2}')
    plan = FileFixes(strip_bom=True, crlf_to_lf=True, reencode_lines={2})
    change = apply_file_fixes(str(path), plan, write=False, keep_text=True)
    assert change.changed and change.fixes_applied == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # write=False leaves the file alone
    apply_file_fixes(str(path), plan)
    assert path.read_bytes() == b'{"a": 1}\n' + '{"messages": [{"role": "user", "content": "café"}]}'.encode() + b'\n{"b": 2}'
    diff = unified_diff(change)
    assert diff.startswith(f"--- {path.as_posix()}\n+++ {path.as_posix()}\n@@ -1,2 +1,2 @@\n")
    assert '+{"messages": [{"role": "user", "content": "café"}]}\n' in diff


def test_crlf_kept_when_not_fixed(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"a": 1}\r\n{"b": 2}\r\n')
    from toolkit.linter.rule import Fix

    plan = FileFixes(records={2: [Fix("set b", "safe", lambda r: {**r, "b": 3})]})
    apply_file_fixes(str(path), plan)
    assert path.read_bytes() == b'{"a": 1}\r\n{"b":3}\r\n'


def test_a_failing_fix_names_file_and_line(workdir, cli_run):
    from toolkit.linter.fixes import FixError
    from toolkit.linter.rule import Fix

    path = make(workdir / "d.jsonl", [ex("x")])
    plan = FileFixes(records={1: [Fix("explode", "safe", lambda r: 1 / 0)]})
    with pytest.raises(FixError, match=r"d.jsonl:1: fix 'explode' failed: ZeroDivisionError"):
        apply_file_fixes(str(path), plan)
    assert path.read_bytes() == orjson.dumps(ex("x")) + b"\n"  # atomic: the original is intact


def test_reencode_only_when_it_yields_a_json_object():
    assert reencode_line('{"a": "\u00e9"}'.encode("cp1252")) == '{"a": "é"}'.encode()
    assert reencode_line(b'[\xe9]') is None
    assert reencode_line(b"\x81{") is None  # 0x81 is undefined in cp1252


def test_text_helpers():
    assert clean_whitespace("  Hello\u00a0there \r\nbye\u200b  ") == "Hello there\nbye"
    assert repair_mojibake("caf\u00c3\u00a9") == "café"
    record = {"messages": [{"role": "user", "content": [{"type": "text", "text": " a "}, {"type": "image_url"}]}], "k": 1}
    assert map_texts(record, str.strip) == {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}], "k": 1}
    assert record["messages"][0]["content"][0]["text"] == " a "  # the input is not mutated
    assert set_at_pointer({"m": [{"c": "x"}, {"c": "y"}]}, "/m/1/c", "z") == {"m": [{"c": "x"}, {"c": "z"}]}


json_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "system"]), json_text), max_size=5), json_text)
def test_map_texts_keeps_structure_and_key_order(messages, extra):
    record = {"id": extra, "messages": [{"role": r, "content": c, "weight": 1} for r, c in messages], "tail": True}
    out = map_texts(record, lambda t: t.upper(), roles=("assistant",))
    assert list(out) == list(record)
    for before, after in zip(record["messages"], out["messages"]):
        assert list(after) == list(before)
        expected = before["content"].upper() if before["role"] == "assistant" else before["content"]
        assert after["content"] == expected


@given(json_text)
def test_clean_whitespace_is_idempotent(text):
    once = clean_whitespace(text)
    assert clean_whitespace(once) == once


def test_fix_output_is_deterministic(workdir, cli_run):
    lines = [ex("SHOUT"), ex("SHOUT", user="2"), ODD_LINE]
    a = make(workdir / "a.jsonl", lines)
    b = make(workdir / "b.jsonl", lines)
    cli_run(["lint", a, "--isolated", "--select", SELECT, "--fix"])
    cli_run(["lint", b, "--isolated", "--select", SELECT, "--fix"])
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(json.dumps(orjson.loads(a.read_bytes().splitlines()[0])))["z_first"] == 1


def test_fix_bom_and_crlf_through_the_cli(workdir, cli_run):
    from toolkit.linter.rule import load_all_rules

    if not {"J006", "J007"} <= set(load_all_rules()):
        pytest.fail("J006/J007 are not registered (toolkit/linter/rules/syntax.py)")
    body = orjson.dumps(ex("a")) + b"\r\n" + orjson.dumps(ex("b", user="2")) + b"\r\n"
    path = workdir / "d.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body)
    # Not selected: not reported, not fixed (Azure wants a BOM, for one).
    cli_run(["lint", "d.jsonl", "--isolated", "--select", "X003", "--fix"])
    assert path.read_bytes() == b"\xef\xbb\xbf" + body
    result = cli_run(["lint", "d.jsonl", "--isolated", "--select", "J006,J007"])
    assert "d.jsonl:1: J006 [*]" in result.output and "d.jsonl:1: J007 [*] 2 line(s) end in CRLF" in result.output
    result = cli_run(["lint", "d.jsonl", "--isolated", "--select", "J006,J007", "--fix"])
    assert path.read_bytes() == body.replace(b"\r\n", b"\n")
    assert result.exit_code == 0 and "2 fixed" in result.output
