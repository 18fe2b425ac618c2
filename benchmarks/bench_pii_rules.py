"""Benchmark toolkit.pii and the D, P, Q, A and V lint rules.

    python3 benchmarks/bench_pii_rules.py                    # 200,000 examples (the foundation file)
    python3 benchmarks/bench_pii_rules.py --examples 20000   # quicker

Prints:

* ``find_pii`` and ``Redactor.redact`` throughput (texts/s, MB/s) over every message text
  of the first ``--texts`` examples, and the same for texts that do contain personal data
  (the slow path: phone numbers through libphonenumber, cards, IBANs);
* each default-on D/P/Q/A/V rule alone on ``--profile`` examples (examples/s, in this
  process; the P rules each pay the shared PII scan here, in a real run they share it);
* ``ftkit lint`` with those rules end to end as a real process with ``-j 2``
  (examples/s and the peak RSS of the process tree).

The data is the foundation benchmark's generated chat file (``benchmarks/bench_validate.py``'s
generator, written once into ``benchmarks/_data/``). The machine may be shared: the load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench_lint import ensure_file  # noqa: E402  (the foundation benchmark's file)

# The default-on rules of these families (Q005 is opt-in; D010+ are the leakage rules).
SELECT = "D001,D002,D003,P,Q001,Q002,Q003,Q004,Q006,Q007,Q008,A,V"

PII_TEXTS = [
    "Hi, I'm Jane Doe, mail jane.doe@example.com or call (415) 555-0132.",
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, from 203.0.113.7.",
    "Ring me on 020 7946 0958, or +49 30 901820. Order #12345678 cost $1,234.56.",
    "Reset link https://app.example.com/reset?token=9f8e7d6c5b4a3 and key sk-proj-4f9Qw2LmZx81RtYuIoP3asDf",
    "Ship to 221B Baker Street, London NW1 6XE; Rechnung an Hauptstraße 5, 10115 Berlin.",
]


def run_lint(path: Path, extra: list[str]) -> tuple[float, int, int, str]:
    """Run ``ftkit lint`` as a real process; return wall time, peak RSS and PSS of its tree, last line."""
    import subprocess

    cmd = [sys.executable, "-m", "toolkit", "lint", str(path), "--isolated", "--exit-zero", "-q", "--statistics", *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for p in tree:
            try:
                info = p.memory_full_info()
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.1)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ftkit lint exited {proc.returncode}: {err.decode()[-2000:]}")
    lines = out.decode().strip().splitlines()
    table = [line for line in lines if line[:6].strip().isdigit()]
    return elapsed, peak_rss, peak_pss, "\n".join(table[-20:])


def load(path: Path, n: int) -> list[dict]:
    import orjson

    out = []
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            out.append(orjson.loads(line))
    return out


def bench_pii(records: list[dict]) -> None:
    from toolkit.model import content_text
    from toolkit.pii import Redactor, find_pii

    texts = [content_text(m.get("content")) for r in records for m in r.get("messages", []) if isinstance(m, dict)]
    size = sum(len(t.encode()) for t in texts) / 1e6
    for label, batch, mb in (("dataset texts", texts, size), ("texts with PII", PII_TEXTS * 400, None)):
        started = time.perf_counter()
        found = sum(len(find_pii(t)) for t in batch)
        elapsed = time.perf_counter() - started
        mbs = f", {mb / elapsed:.1f} MB/s" if mb else ""
        print(f"find_pii   {label:<15} {len(batch) / elapsed:>10,.0f} texts/s{mbs}  ({found:,} matches)")
        started = time.perf_counter()
        for t in batch:
            Redactor(names=("Jane Doe",)).redact(t)
        elapsed = time.perf_counter() - started
        print(f"redact     {label:<15} {len(batch) / elapsed:>10,.0f} texts/s")


def bench_rules(records: list[dict]) -> None:
    from toolkit.linter.rule import ExampleContext, load_all_rules
    from toolkit.linter.settings import build_settings, effective_options

    settings = build_settings({}, select=list(SELECT.split(",")))
    registry = load_all_rules()
    rows = []
    for code in sorted(settings.selected):
        cls = registry[code]
        if not cls.default_enabled or code[0] not in "DPQAV":
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
        rows.append((time.perf_counter() - started, code, cls.name, rule.scope))
    total = sum(r[0] for r in rows)
    print(f"\nper-rule cost on {len(records):,} examples (each rule alone, one process; slowest first):")
    for elapsed, code, name, scope in sorted(rows, reverse=True):
        print(f"  {code}  {name:<28} {scope:<8} {len(records) / elapsed:>10,.0f} examples/s  {elapsed / total:6.1%}")
    # As the engine runs them: every rule on one shared context per example (the P rules share
    # one PII scan, D001/D002 one normalised text).
    rules = [registry[code](effective_options(code, settings)) for _, code, _, _ in rows]
    started = time.perf_counter()
    for i, record in enumerate(records):
        ctx = ExampleContext(record, file="bench", line=i + 1, index=i + 1)
        for rule in rules:
            list(rule.check(ctx) if rule.scope == "example" else (rule.observe(ctx) or ()))
    for rule in rules:
        if rule.scope == "dataset":
            list(rule.finish() or ())
    elapsed = time.perf_counter() - started
    print(f"  all of them on shared contexts, one process: {len(records) / elapsed:,.0f} examples/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200_000, help="examples in the end-to-end file")
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--texts", type=int, default=5_000, help="examples whose texts feed the PII benchmark")
    parser.add_argument("--profile", type=int, default=5_000, help="examples for the per-rule costs (0: skip)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    print(f"cpus: {os.cpu_count()}; load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    path = ensure_file(args.examples, args.turns)
    if args.texts:
        bench_pii(load(path, args.texts))
    if args.profile:
        bench_rules(load(path, args.profile))
    elapsed, rss, pss, summary = run_lint(path, ["--select", SELECT, "-j", str(args.jobs)])
    print(f"\nftkit lint --select D001-D003,P,Q (not Q005),A,V -j {args.jobs} on {args.examples:,} examples: {elapsed:.1f}s, "
          f"{args.examples / elapsed:,.0f} examples/s; peak RSS {rss / 2**20:,.0f} MiB (PSS {pss / 2**20:,.0f} MiB)")
    print(summary)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (shared machine: figures vary)")


if __name__ == "__main__":
    main()
