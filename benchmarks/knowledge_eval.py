"""Knowledge-injection evaluation: precision, recall and F1 of the K rules, and examples/s.

Builds the labeled set (``benchmarks/knowledge_eval/build.py``: SGD, Taskmaster, ABCD from
``../shared/corpora`` plus the hand-written ``own_examples.jsonl``), lints it exactly as a
user would - ``ftkit lint --select K --output-format json`` semantics: an example is flagged
when any K diagnostic points at its line - and prints figures at example level (overall,
per source and per split: tune on ``dev``, report ``holdout``) and per rule.

Usage::

    python3 benchmarks/knowledge_eval.py              # library engine, default settings, no KB
    python3 benchmarks/knowledge_eval.py --cli        # through the real `ftkit lint` command
    python3 benchmarks/knowledge_eval.py --speed 20000  # also time the K rules on N synthetic examples
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "benchmarks" / "_data" / "knowledge_eval"


def build() -> None:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "knowledge_eval" / "build.py"), "--out", str(DATA)], check=True,
                   stdout=subprocess.DEVNULL)


def lint_lines(path: Path, *, cli: bool, jobs: int, select: str = "K") -> tuple[dict[int, set[str]], float]:
    """Map line -> K codes reported on it, and the seconds the lint took."""
    start = time.perf_counter()
    flagged: dict[int, set[str]] = defaultdict(set)
    if cli:
        proc = subprocess.run([sys.executable, "-m", "toolkit", "lint", "--isolated", "--select", select,
                               "--output-format", "json", "--jobs", str(jobs), str(path)], capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            sys.exit(f"ftkit lint failed ({proc.returncode}): {proc.stderr}")
        data = json.loads(proc.stdout)
        diagnostics = data["diagnostics"] if isinstance(data, dict) else data
        for d in diagnostics:
            if d.get("code", "").startswith("K") and d.get("line"):
                flagged[d["line"]].add(d["code"])
    else:
        from toolkit.linter import lint

        for d in lint(str(path), select=[select], jobs=jobs):
            if d.code.startswith("K") and d.line:
                flagged[d.line].add(d.code)
    return flagged, time.perf_counter() - start


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(labels: list[dict], flagged: dict[int, set[str]], *, show_errors: int = 0, only: str | None = None) -> None:
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn tn
    rule_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # tp, fp
    errors: list[tuple[str, dict]] = []
    for line, label in enumerate(labels, 1):
        truth = label["label"] == "knowledge"
        codes = flagged.get(line, set())
        pred = bool(codes)
        src = label["source"].split("-")[0]
        for key in ("ALL", f"split={label['split']}", f"{src}", f"{src}/{label['split']}"):
            g = groups[key]
            g[0 if truth and pred else 1 if pred else 2 if truth else 3] += 1
        for code in codes:
            rule_hits[code][0 if truth else 1] += 1
        if truth != pred and (only is None or src == only):
            errors.append(("FN" if truth else "FP", {**label, "line": line, "codes": sorted(codes)}))
    print(f"{'group':<24} {'n':>5} {'know':>5} {'P':>6} {'R':>6} {'F1':>6}")
    for key in sorted(groups, key=lambda k: (k != "ALL", not k.startswith("split"), k)):
        tp, fp, fn, tn = groups[key]
        p, r, f = prf(tp, fp, fn)
        print(f"{key:<24} {tp + fp + fn + tn:>5} {tp + fn:>5} {p:>6.3f} {r:>6.3f} {f:>6.3f}")
    total_know = sum(1 for l in labels if l["label"] == "knowledge")
    print("\nper rule (examples it fires on; precision = share that are knowledge; recall = share of knowledge examples it finds)")
    for code in sorted(rule_hits):
        tp, fp = rule_hits[code]
        print(f"  {code}: fires {tp + fp:>5}  precision {tp / (tp + fp):.3f}  recall {tp / total_know:.3f}")
    if show_errors:
        random.Random(0).shuffle(errors)
        print(f"\n{len(errors)} errors; a sample:")
        for kind, item in errors[:show_errors]:
            print(f"  {kind} line {item['line']} {item['id']} ({item['why']}) {item['codes']}")


def _cpu_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def speed(n: int, jobs: int) -> None:
    """Time the K rules on ``n`` examples sampled from the labeled set (support chats, SGD and Taskmaster dialogues).

    Prints wall-clock throughput and CPU time; on a shared machine the wall clock measures the
    contention, so the CPU-based figure (examples per CPU-second times the cores used) is the
    estimate of what the rules do on idle cores.
    """
    from toolkit.linter import lint

    rng = random.Random(7)
    path = ROOT / "benchmarks" / "_data" / "knowledge_speed.jsonl"
    records = [json.loads(l) for l in (DATA / "examples.jsonl").read_text().splitlines()]
    with open(path, "w") as out:
        for i in range(n):
            record = dict(records[rng.randrange(len(records))])
            record["metadata"] = {"id": f"s{i}"}
            out.write(json.dumps(record) + "\n")
    print(f"\nspeed on {n} examples ({path.stat().st_size / 1e6:.1f} MB), jobs={jobs}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}:")
    for label, select in (("per-example K rules (K001-K006)", ["K0"]), ("all K rules incl. dataset rules K101/K102", ["K"])):
        cpu0, start = _cpu_seconds(), time.perf_counter()
        count = sum(1 for _ in lint(str(path), select=select, jobs=jobs))
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
        print(f"  {label}: wall {seconds:.2f} s = {n / seconds:,.0f} examples/s; CPU {cpu:.2f} s = "
              f"{n / cpu:,.0f} examples per CPU-second -> ~{n / cpu * jobs:,.0f} examples/s on {jobs} idle cores "
              f"({count} diagnostics)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", action="store_true", help="run the real `ftkit lint` command")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--errors", type=int, default=0, help="print a sample of N misclassified examples")
    parser.add_argument("--only", help="only show errors of this source (sgd, tm, abcd, own)")
    parser.add_argument("--speed", type=int, default=0, help="time the K rules on N examples")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build()
    labels = [json.loads(l) for l in (DATA / "labels.jsonl").read_text().splitlines() if l.strip()]
    flagged, seconds = lint_lines(DATA / "examples.jsonl", cli=args.cli, jobs=args.jobs)
    print(f"{len(labels)} labeled assistant turns, linted in {seconds:.2f} s ({len(labels) / seconds:,.0f} examples/s "
          f"incl. start-up; default settings, no KB)\n")
    evaluate(labels, flagged, show_errors=args.errors, only=args.only)
    if args.speed:
        speed(args.speed, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
