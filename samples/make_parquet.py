"""Regenerate samples/raw/messages.parquet from samples/raw/messages.csv (deterministic).

    python samples/make_parquet.py

The Parquet sample holds the same messages as the CSV, with a real timestamp column, so the
table reader is tested on both file types with the same expected conversations.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent / "raw"


def main() -> None:
    frame = pl.read_csv(HERE / "messages.csv", infer_schema_length=0)
    frame = frame.with_columns(pl.col("sent_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC"))
    # No statistics or creation time differences between runs: same bytes every time.
    frame.write_parquet(HERE / "messages.parquet", compression="zstd", statistics=False)


if __name__ == "__main__":
    main()
