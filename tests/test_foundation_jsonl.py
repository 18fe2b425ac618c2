"""Streaming JSONL: line numbers, every bad-line kind, BOM/CRLF/gzip/stdin, atomic and deterministic writes."""

from __future__ import annotations

import gzip
import io
import os
import sys

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.jsonl import atomic_writer, dumps, parse_line, read_jsonl, read_records, write_jsonl

GOOD = b'{"messages": [{"role": "user", "content": "hi"}]}'


def lines_of(data: bytes, tmp_path, name="d.jsonl"):
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_jsonl(path))


def test_line_numbers_skip_blank_lines_but_count_them(tmp_path):
    items = lines_of(GOOD + b"\n\n   \n" + GOOD + b"\n", tmp_path)
    assert [(i.line, i.ok) for i in items] == [(1, True), (4, True)]


def test_every_bad_line_kind_is_reported_and_reading_continues(tmp_path):
    data = b"\n".join([
        b'{"a": 1,}',  # 1 invalid JSON
        b"[1, 2]",  # 2 not an object
        b'{"a": "caf\xe9"}',  # 3 not UTF-8
        b"version https://git-lfs.github.com/spec/v1",  # 4 LFS pointer
        b'"just a string"',  # 5 not an object
        GOOD,  # 6 fine
        b'{"messages": [{"role": "us',  # 7 truncated last line (no newline)
    ])
    items = lines_of(data, tmp_path)
    got = [(i.line, i.error.code if i.error else None) for i in items]
    assert got == [(1, "J001"), (2, "J002"), (3, "J004"), (4, "J005"), (5, "J002"), (6, None), (7, "J003")]
    assert items[0].error.column == 8 and "trailing comma" in items[0].error.message  # 1-based column of the comma
    assert items[2].error.column == 11 and "byte 11" in items[2].error.message  # 1-based byte of 0xE9
    assert "array" in items[1].error.message and "string" in items[4].error.message
    assert items[5].value == orjson.loads(GOOD)


def test_truncated_only_for_the_last_line(tmp_path):
    items = lines_of(b'{"a": [1, 2\n' + GOOD + b"\n", tmp_path)
    assert [i.error.code if i.error else None for i in items] == ["J001", None]
    items = lines_of(GOOD + b'\n{"a": [1, 2\n', tmp_path)  # last line, even with its newline
    assert [i.error.code if i.error else None for i in items] == [None, "J003"]


def test_bom_and_crlf_are_tolerated(tmp_path):
    items = lines_of(b"\xef\xbb\xbf" + GOOD + b"\r\n" + GOOD + b"\r\n", tmp_path)
    assert [i.ok for i in items] == [True, True]
    assert items[0].value == orjson.loads(GOOD)


def test_gzip_by_content_not_name(tmp_path):
    data = GOOD + b"\n" + GOOD + b"\n"
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "misnamed.jsonl").write_bytes(gzip.compress(data))
    assert len(list(read_records(tmp_path / "a.jsonl.gz"))) == 2
    assert len(list(read_records(tmp_path / "misnamed.jsonl"))) == 2


def test_stdin(monkeypatch):
    fake = io.TextIOWrapper(io.BytesIO(GOOD + b"\nnot json\n"))
    monkeypatch.setattr(sys, "stdin", fake)
    items = list(read_jsonl("-"))
    assert [(i.file, i.line, i.ok) for i in items] == [("<stdin>", 1, True), ("<stdin>", 2, False)]


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_write_is_deterministic_and_keeps_key_order(tmp_path):
    records = [{"b": 1, "a": "é", "c": [1, {"z": None}]}, {"messages": []}]
    write_jsonl(tmp_path / "one.jsonl", records)
    write_jsonl(tmp_path / "two.jsonl", records)
    data = (tmp_path / "one.jsonl").read_bytes()
    assert data == (tmp_path / "two.jsonl").read_bytes()
    assert data == '{"b":1,"a":"é","c":[1,{"z":null}]}\n{"messages":[]}\n'.encode()
    write_jsonl(tmp_path / "a.jsonl.gz", records)
    os.utime(tmp_path / "a.jsonl.gz", (1, 1))
    write_jsonl(tmp_path / "b.jsonl.gz", records)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()  # gzip mtime 0
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()) == data
    write_jsonl(tmp_path / "bom.jsonl", records, bom=True)
    assert (tmp_path / "bom.jsonl").read_bytes() == b"\xef\xbb\xbf" + data


def test_atomic_write_leaves_no_half_file(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old contents\n")

    def records():
        yield {"a": 1}
        yield {"b": 2}
        raise RuntimeError("boom in the middle")

    with pytest.raises(RuntimeError):
        write_jsonl(target, records())
    assert target.read_bytes() == b"old contents\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temp file left
    with pytest.raises(ValueError):
        with atomic_writer(tmp_path / "new.jsonl") as out:
            out.write(b"partial")
            raise ValueError
    assert not (tmp_path / "new.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10,
)
records = st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=8)


@given(records, st.booleans(), st.booleans())
@settings(max_examples=60, deadline=None)
def test_write_read_round_trip(tmp_path_factory, data, crlf, bom):
    path = tmp_path_factory.mktemp("rt") / "x.jsonl"
    write_jsonl(path, data, bom=bom, newline=b"\r\n" if crlf else b"\n")
    items = list(read_jsonl(path))
    assert [i.value for i in items] == data
    assert [i.line for i in items] == list(range(1, len(data) + 1))
    assert all(i.ok for i in items)


@given(st.binary(max_size=200), st.booleans())
@settings(max_examples=200, deadline=None)
def test_parse_line_never_raises(raw, last):
    parsed = parse_line(raw.replace(b"\n", b" "), "f", 3, last=last)
    if parsed is not None:
        assert parsed.line == 3
        assert parsed.ok == (parsed.error is None)
        if parsed.ok:
            assert isinstance(parsed.value, dict) and dumps(parsed.value)
        else:
            assert parsed.error.code in {"J001", "J002", "J003", "J004", "J005"}
