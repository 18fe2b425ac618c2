"""Benchmark ``ftkit lint`` with all default rules (near-duplicates included).

    python3 benchmarks/bench_lint.py                      # 200,000 examples (the foundation file)
    python3 benchmarks/bench_lint.py --examples 20000     # quicker
    python3 benchmarks/bench_lint.py --examples 5000 --profile 500   # + per-rule cost

Uses the foundation benchmark's generated chat file (``benchmarks/bench_validate.py``'s
generator; generated once into ``benchmarks/_data/`` and reused). Runs ``ftkit lint`` as a
real process (``--isolated``: no config file, the default rule set), polling its process
tree with psutil for peak memory (RSS summed over the tree every 50 ms, and PSS, which counts
pages shared by the forked workers once, every second: reading it costs the machine enough to
slow the linter), and prints examples/s.

Then the pre-commit case: a 1,000-example file linted end to end (process start, imports,
rule set-up, output), best and median of several runs.

``--profile N`` also times each rule alone, in this process, on the first N examples: each
rule gets a fresh context, so caches that rules share on a context (the PII scan, the
knowledge analysis) are charged to every rule that uses them.

Targets (issue #4): >= 5,000 examples/s on 2 cores; memory flat in the file's size apart
from the near-duplicate index; 1,000 examples in < 1.5 s wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))


def ensure_file(examples: int, turns: int) -> Path:
    from bench_validate import generate  # the foundation benchmark's generator: same file

    path = DATA / f"chat_{examples}x{turns}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        print(f"generating {path} ...", flush=True)
        generate(path, examples, turns)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    return path


def head(path: Path, n: int) -> Path:
    out = DATA / f"{path.stem}_head{n}.jsonl"
    if not out.exists():
        with open(path, "rb") as src, open(out, "wb") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
    return out


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def run_lint(path: Path, extra: list[str], report: Path | None) -> tuple[float, int, int, dict[int, float], int]:
    cmd = [sys.executable, "-m", "toolkit", "lint", str(path), "--isolated", "--exit-zero", *extra]
    if report is not None:
        cmd += ["--output-format", "json", "-o", str(report)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    cpu: dict[int, float] = {}  # pid -> last seen user+system CPU seconds
    polls = 0
    while proc.poll() is None:
        # RSS (from /proc/PID/statm) is cheap to read every 50 ms; PSS needs /proc/PID/smaps, which
        # costs milliseconds per process: read every 20th poll (1 s), or the monitor itself takes
        # a tenth of a core from the two the linter runs on (46 s instead of 42 s wall on 200k).
        full = polls % 20 == 0
        polls += 1
        rss = pss = 0
        for p in _tree(ps):
            try:
                if full:
                    info = p.memory_full_info()
                    pss += getattr(info, "pss", info.rss)
                else:
                    info = p.memory_info()
                rss += info.rss
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak_rss = max(peak_rss, rss)
        if full:
            peak_pss = max(peak_pss, pss)
        time.sleep(0.05)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        print(out.decode()[-3000:], err.decode()[-3000:])
        raise SystemExit(f"ftkit lint exited {proc.returncode}")
    return elapsed, peak_rss, peak_pss, cpu, proc.pid


def time_small(path: Path, runs: int, extra: list[str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "toolkit", "lint", str(path), "--isolated", "--exit-zero", "-q", *extra],
                              capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.decode()[-2000:])
    return times


def profile_rules(path: Path, n: int, extra_ignore: list[str]) -> None:
    import orjson

    from toolkit.linter.rule import ExampleContext, load_all_rules
    from toolkit.linter.settings import build_settings, effective_options

    records = []
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            records.append(orjson.loads(line))
    settings = build_settings({}, extend_ignore=extra_ignore or None)
    registry = load_all_rules()
    rows = []
    for code in sorted(settings.selected):
        cls = registry.get(code)
        if cls is None or code in ("X001", "X002"):
            continue
        rule = cls(effective_options(code, settings))
        started = time.perf_counter()
        for i, record in enumerate(records):
            ctx = ExampleContext(record, file="bench", line=i + 1, index=i + 1)
            if rule.scope == "example":
                list(rule.check(ctx))
            else:
                list(rule.observe(ctx) or ())
        if rule.scope == "dataset":
            list(rule.finish() or ())
        elapsed = time.perf_counter() - started
        rows.append((elapsed, code, cls.name, rule.scope))
    total = sum(r[0] for r in rows)
    print(f"\nper-rule cost on {len(records):,} examples (single process, each rule alone; slowest first):")
    for elapsed, code, name, scope in sorted(rows, reverse=True):
        print(f"  {code}  {name:<28} {scope:<8} {len(records) / elapsed:>10,.0f} examples/s  {100 * elapsed / total:5.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--turns", type=int, default=2, help="user/assistant pairs per example")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for ftkit lint (default: one per CPU)")
    parser.add_argument("--extend-ignore", default="", help="rules to leave out (e.g. K to measure without knowledge rules)")
    parser.add_argument("--small-runs", type=int, default=5, help="runs of the 1,000-example file")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also time each rule alone on N examples")
    args = parser.parse_args()

    extra: list[str] = []
    if args.jobs:
        extra += ["--jobs", str(args.jobs)]
    if args.extend_ignore:
        extra += ["--extend-ignore", args.extend_ignore]

    path = ensure_file(args.examples, args.turns)
    mb = path.stat().st_size / 1e6
    print(f"file: {path.name}: {args.examples:,} examples, {mb:,.1f} MB; cpus: {os.cpu_count()}; "
          f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    report = DATA / f"lint_report_{args.examples}.json"
    elapsed, rss, pss, cpu, main_pid = run_lint(path, extra, report)
    diagnostics = json.loads(report.read_text(encoding="utf-8"))
    by_code: dict[str, int] = {}
    for item in diagnostics:
        by_code[item["code"]] = by_code.get(item["code"], 0) + 1
    print(f"ftkit lint (default rules{', minus ' + args.extend_ignore if args.extend_ignore else ''}): "
          f"{elapsed:.1f}s  {args.examples / elapsed:,.0f} examples/s  {mb / elapsed:,.1f} MB/s  (target >= 5,000 examples/s)")
    print(f"  peak memory of the process tree: RSS sum {rss / 2**20:,.0f} MiB (sampled every 50 ms), "
          f"PSS sum {pss / 2**20:,.0f} MiB (every 1 s)")
    # CPU time is steadier than wall time on a shared machine: project the rate on idle cores
    # as limited by the busier of (the main process) and (all work spread over the cores).
    total_cpu = sum(cpu.values())
    main_cpu = cpu.get(main_pid, 0.0)
    cores = os.cpu_count() or 1
    bound = max(main_cpu, total_cpu / cores)
    print(f"  CPU: {total_cpu:,.1f}s in all ({main_cpu:,.1f}s main process, {total_cpu - main_cpu:,.1f}s workers); "
          f"projected on {cores} idle cores: ~{args.examples / bound:,.0f} examples/s" if bound else "  CPU: not measured")
    print(f"  {len(diagnostics):,} diagnostics: " + ", ".join(f"{c} {n:,}" for c, n in sorted(by_code.items())))

    small = head(path, 1000)
    times = time_small(small, args.small_runs, extra)
    print(f"1,000-example file end to end: best {min(times):.2f}s, median {statistics.median(times):.2f}s "
          f"over {len(times)} runs (target < 1.5 s)")
    if args.profile:
        profile_rules(path, args.profile, [s for s in args.extend_ignore.split(",") if s])
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(the machine is shared: figures vary with contention)")


if __name__ == "__main__":
    main()
