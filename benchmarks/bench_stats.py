"""Speed and memory of `ftkit stats` / the report passes / the HF pipeline on a generated dataset.

    python3 benchmarks/bench_stats.py                  # 200,000 examples (the full run)
    python3 benchmarks/bench_stats.py --examples 20000 # a quicker run while developing

Prints examples/s and peak RSS for: streamed stats (polars), the cost table, the knowledge
pass of the report, and `toolkit.hf.add_columns` (tokens + trainable tokens, num_proc=2).
Each measurement runs in a fresh process so peak RSS is its own. Memory should stay flat in
the file's size apart from one narrow numeric row per example and per message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data" / "report_bench"  # our own folder: _data is shared by every benchmark

CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
n = 0
if mode == "stats":
    from toolkit.report.stats import compute_stats
    from toolkit.report.cost import cost_table, load_prices
    s = compute_stats([path], model="gpt-4o-mini")
    lines = cost_table(load_prices(), s.totals())
    n = s.examples
    extra = {"tokens": s.total_tokens, "cost_lines": len(lines)}
elif mode == "knowledge":
    from toolkit.report.build import _records
    from toolkit.report.verdict import summarize_knowledge
    k = summarize_knowledge(_records([path]))
    n = k.analysed
    extra = {"knowledge_share": round(k.share, 4)}
elif mode == "hf":
    from datasets import load_dataset
    import toolkit.hf
    ds = load_dataset("json", data_files=path, split="train")
    t0 = time.perf_counter()
    out = toolkit.hf.add_columns(ds, columns=("tokens", "trainable_tokens"), model="gpt-4o-mini", num_proc=2, desc=None)
    n = len(out)
    extra = {"load_s": round(t0 - start, 2), "tokens": int(sum(out["tokens"]))}
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"mode": mode, "examples": n, "seconds": round(elapsed, 2), "examples_per_s": round(n / elapsed),
                  "peak_rss_mb": round(rss, 1), "peak_rss_children_mb": round(rss_children, 1), **extra}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--modes", default="stats,knowledge,hf")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"support_{args.examples}.jsonl"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "gen_support_data.py"), "--examples", str(args.examples), "--out", str(path)], check=True)
    size_mb = path.stat().st_size / 1e6
    load = os.getloadavg()[0]
    print(f"dataset: {path.name}, {args.examples:,} examples, {size_mb:,.1f} MB; machine load average {load:.1f} on {os.cpu_count()} cores")
    for mode in args.modes.split(","):
        proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{mode}: failed\n{proc.stderr[-2000:]}")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{mode:>9}: {result['examples_per_s']:>8,} examples/s  {result['seconds']:>7.2f} s  peak RSS {result['peak_rss_mb']:,.0f} MB"
              + (f" (workers {result['peak_rss_children_mb']:,.0f} MB)" if result["peak_rss_children_mb"] else "")
              + "  " + json.dumps({k: v for k, v in result.items() if k not in ("mode", "examples", "seconds", "examples_per_s", "peak_rss_mb", "peak_rss_children_mb")}))


if __name__ == "__main__":
    main()
