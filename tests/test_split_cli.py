"""``ftkit split`` through the real CLI: files, manifest, formats, errors, and no leakage afterwards."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _split_fixtures import naive_random_split, planted_records, write  # noqa: E402


def _lines(path: Path) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [line for line in data.split(b"\n") if line]


def test_split_then_leakage_finds_nothing_but_naive_split_leaks(tmp_path, cli_run):
    records = planted_records()
    data = write(tmp_path / "data.jsonl", records)
    naive = naive_random_split(records, tmp_path / "naive")
    result = cli_run(["leakage", *naive])
    assert result.exit_code == 1
    out = result.output
    assert "exact duplicate" in out and "near-duplicate" in out
    assert "same conversation_id" in out and "same customer_id" in out

    result = cli_run(["split", data, "-o", tmp_path / "out", "--stratify-by", "intent"])
    assert result.exit_code == 0, result.output
    files = [tmp_path / "out" / f"{name}.jsonl" for name in ("train", "validation", "test")]
    assert all(f.exists() for f in files)
    # Every input line is in exactly one split, byte for byte.
    original = sorted(_lines(data))
    assert sorted(line for f in files for line in _lines(f)) == original
    result = cli_run(["leakage", *files])
    assert result.exit_code == 0, result.output
    assert "no leakage" in result.output


def test_manifest_contents(tmp_path, cli_run):
    data = write(tmp_path / "data.jsonl", planted_records(80))
    result = cli_run(["split", data, "-o", tmp_path / "out", "--seed", "3", "--stratify-by", "intent"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "split_manifest.json").read_text())
    assert manifest["inputs"] == [{"path": str(data), "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
                                   "examples": len(_lines(data))}]
    assert manifest["seed"] == 3 and manifest["options"]["seed"] == 3
    assert manifest["options"]["group-by"] == ["conversation_id", "customer_id"]
    total = 0
    for name, entry in manifest["splits"].items():
        assert entry["file"] == f"{name}.jsonl"
        assert entry["examples"] == len(_lines(tmp_path / "out" / entry["file"]))
        assert entry["tokens"]["encoding"] == "o200k_base" and entry["tokens"]["estimate"] is True
        assert set(entry["strata"]) == {"refund", "shipping", "login", "billing"}
        assert entry["groups"] >= 1
        total += entry["examples"]
    assert total == manifest["totals"]["kept"] == len(_lines(data))
    assert "estimates" in result.output and "o200k_base" in result.output


def test_outputs_are_byte_identical_across_runs_and_jobs(tmp_path, ftkit_subprocess):
    data = write(tmp_path / "data.jsonl", planted_records(120))
    digests = []
    for run, jobs in enumerate(["1", "2"]):
        out = tmp_path / f"out{run}"
        proc = ftkit_subprocess(["split", data, "-o", out, "--jobs", jobs, "--stratify-by", "intent"])
        assert proc.returncode == 0, proc.stderr
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert set(digests[0]) == {"train.jsonl", "validation.jsonl", "test.jsonl", "split_manifest.json"}


def test_appended_file_keeps_original_splits_via_cli(tmp_path, cli_run):
    base = planted_records(200, seed=5)
    more = planted_records(40, seed=6, start=50_000)
    a = write(tmp_path / "a.jsonl", base)
    b = write(tmp_path / "b.jsonl", base + more)
    for path, out in ((a, "oa"), (b, "ob")):
        assert cli_run(["split", path, "-o", tmp_path / out]).exit_code == 0
    where_a = {orjson.loads(line)["metadata"]["id"]: name for name in ("train", "validation", "test")
               for line in _lines(tmp_path / "oa" / f"{name}.jsonl")}
    where_b = {orjson.loads(line)["metadata"]["id"]: name for name in ("train", "validation", "test")
               for line in _lines(tmp_path / "ob" / f"{name}.jsonl")}
    assert all(where_b[key] == split for key, split in where_a.items())
    assert len(where_b) > len(where_a)


def test_gzip_in_gzip_out_and_custom_names(tmp_path, cli_run):
    records = planted_records(60)
    data = tmp_path / "data.jsonl.gz"
    data.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in records), mtime=0))
    result = cli_run(["split", data, "-o", tmp_path / "out", "--ratios", "0.75,0.25", "--names", "fit,holdout", "--no-tokens"])
    assert result.exit_code == 0, result.output
    fit, holdout = tmp_path / "out" / "fit.jsonl.gz", tmp_path / "out" / "holdout.jsonl.gz"
    assert len(_lines(fit)) + len(_lines(holdout)) == len(records)
    manifest = json.loads((tmp_path / "out" / "split_manifest.json").read_text())
    assert "tokens" not in manifest["splits"]["fit"]


def test_to_target_and_hf_dataset_dict(tmp_path, cli_run):
    import datasets

    data = write(tmp_path / "data.jsonl", planted_records(40))
    result = cli_run(["split", data, "-o", tmp_path / "out", "--to", "sharegpt", "--hf", tmp_path / "hf", "--no-tokens"])
    assert result.exit_code == 0, result.output
    first = orjson.loads(_lines(tmp_path / "out" / "train.jsonl")[0])
    assert "conversations" in first
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    manifest = json.loads((tmp_path / "out" / "split_manifest.json").read_text())
    assert {name: len(loaded[name]) for name in loaded} == {n: e["examples"] for n, e in manifest["splits"].items()}
    assert manifest["format"] == "sharegpt"


def test_time_split_cli(tmp_path, cli_run):
    data = write(tmp_path / "data.jsonl", planted_records(100))
    result = cli_run(["split", data, "-o", tmp_path / "out", "--by-time", "created_at", "--cutoff", "2025-03-01",
                      "--names", "past,future", "--no-tokens"])
    assert result.exit_code == 0, result.output
    for line in _lines(tmp_path / "out" / "future.jsonl"):
        assert orjson.loads(line)["metadata"]["created_at"] >= "2025-03-01"


def test_bad_input_is_reported_with_file_and_line_and_nothing_written(tmp_path, cli_run):
    data = tmp_path / "data.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in planted_records(10)) + b'{"messages": [}\n')
    result = cli_run(["split", data, "-o", tmp_path / "out"])
    assert result.exit_code == 2
    assert f"{data}:" in result.output and "J001" in result.output
    assert not (tmp_path / "out" / "train.jsonl").exists()

    result = cli_run(["split", write(tmp_path / "ok.jsonl", planted_records(10)), "-o", tmp_path / "out",
                      "--by-time", "/metadata/when", "--cutoff", "2025-01-01"])
    assert result.exit_code == 2
    assert "ok.jsonl:1: field /metadata/when is missing" in result.output

    for args, message in [
        (["--ratios", "0.5,0.2"], "2 ratios for 3 splits"),
        (["--ratios", "a,b,c"], "comma-separated numbers"),
        (["--ratios", "0.8,0.1,0.1", "--counts", "1,2,3"], "not both"),
        (["--cutoff", "2025-01-01"], "needs --by-time"),
        (["--to", "nope"], "unknown --to target"),
    ]:
        result = cli_run(["split", tmp_path / "ok.jsonl", "-o", tmp_path / "o2", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    result = cli_run(["split", tmp_path / "missing.jsonl", "-o", tmp_path / "o3"])
    assert result.exit_code == 2 and "no such file" in result.output
    (tmp_path / "empty.jsonl").write_bytes(b"\n")
    result = cli_run(["split", tmp_path / "empty.jsonl", "-o", tmp_path / "o4"])
    assert result.exit_code == 2 and "no examples" in result.output


def test_missing_group_field_warns_on_stderr(tmp_path, ftkit_subprocess):
    rows = [{"messages": [{"role": "user", "content": f"question w{i} w{i * 3}"}, {"role": "assistant", "content": f"answer w{i * 5}"}]}
            for i in range(30)]
    data = write(tmp_path / "plain.jsonl", rows)
    proc = ftkit_subprocess(["split", data, "-o", tmp_path / "out", "--no-tokens"])
    assert proc.returncode == 0
    assert b"30 of 30 examples have no group field" in proc.stderr
    assert b"plain.jsonl:1" in proc.stderr


def test_config_section_supplies_defaults(tmp_path, cli_run, monkeypatch):
    data = write(tmp_path / "data.jsonl", planted_records(60))
    (tmp_path / "ftkit.toml").write_text('[split]\nratios = [0.5, 0.5]\nnames = ["a", "b"]\nseed = 9\nnear-duplicates = false\n')
    monkeypatch.chdir(tmp_path)
    result = cli_run(["split", data, "-o", tmp_path / "out", "--no-tokens", "--output-format", "json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert list(manifest["splits"]) == ["a", "b"] and manifest["seed"] == 9
    assert manifest["options"]["near-duplicates"] is False


def test_stdin_input(tmp_path, ftkit_subprocess):
    payload = b"".join(orjson.dumps(r) + b"\n" for r in planted_records(30))
    proc = ftkit_subprocess(["split", "-", "-o", tmp_path / "out", "--no-tokens"], input=payload)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "split_manifest.json").read_text())
    assert manifest["inputs"][0]["path"] == "<stdin>"
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(payload).hexdigest()


def test_parquet_in_parquet_out(tmp_path, cli_run):
    import polars as pl

    records = planted_records(60)
    rows = [{"messages": r["messages"], "conversation_id": r["metadata"]["conversation_id"],
             "intent": r["metadata"]["intent"]} for r in records]
    source = tmp_path / "data.parquet"
    pl.DataFrame(rows).write_parquet(source)
    result = cli_run(["split", source, "-o", tmp_path / "out", "--stratify-by", "intent", "--no-tokens"])
    assert result.exit_code == 0, result.output
    frames = {name: pl.read_parquet(tmp_path / "out" / f"{name}.parquet") for name in ("train", "validation", "test")}
    assert sum(f.height for f in frames.values()) == len(rows)
    assert all(f.schema == pl.read_parquet(source).schema for f in frames.values())
    seen: dict[str, str] = {}
    for name, frame in frames.items():
        for conv in frame["conversation_id"].to_list():
            assert seen.setdefault(conv, name) == name
    result = cli_run(["leakage", *(tmp_path / "out" / f"{n}.parquet" for n in ("train", "validation", "test"))])
    assert result.exit_code == 0, result.output
    mixed = cli_run(["split", source, write(tmp_path / "x.jsonl", records[:3]), "-o", tmp_path / "o2"])
    assert mixed.exit_code == 2 and "mix Parquet" in mixed.output


def test_dry_run_writes_nothing(tmp_path, cli_run):
    data = write(tmp_path / "data.jsonl", planted_records(40))
    result = cli_run(["split", data, "-o", tmp_path / "out", "--dry-run", "--output-format", "json", "--no-tokens"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["dry_run"] is True and sum(s["examples"] for s in manifest["splits"].values()) == len(_lines(data))
    assert not (tmp_path / "out").exists()
