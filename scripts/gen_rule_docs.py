#!/usr/bin/env python3
"""Generate docs/rules.md from the rule registry (``--check`` fails when the file is stale)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.linter.docs import all_rules_markdown  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=str(ROOT / "docs" / "rules.md"))
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs instead of writing it")
    args = parser.parse_args()
    text = all_rules_markdown()
    target = Path(args.output)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python scripts/gen_rule_docs.py", file=sys.stderr)
            return 1
        return 0
    from toolkit.io.jsonl import atomic_writer

    with atomic_writer(target, gzip_output=False) as out:
        out.write(text.encode("utf-8"))
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
