"""A Hugging Face ``DatasetDict`` saved with ``save_to_disk`` (load it with ``datasets.load_from_disk``).

The rows have the same columns as the Parquet writer (``messages`` as a list of structs,
``tools`` and ``metadata`` as JSON strings). They are streamed into an Arrow file in a
temporary folder (memory stays flat), wrapped as one split (``train`` by default) with a
fingerprint derived from the data (so ``state.json`` is the same for the same input), saved
with ``save_to_disk``, and the folder is moved into place only when complete; an existing
output folder is replaced only then.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

import orjson
import pyarrow as pa

from toolkit.writers.base import Record
from toolkit.writers.parquet import ROW_GROUP, SCHEMA, ParquetWriter


class HFWriter(ParquetWriter):
    name = "hf"
    description = "Hugging Face DatasetDict (save_to_disk folder)"
    suffix = ""
    directory_output = True

    def __init__(self, split: str = "train", **options: Any):
        super().__init__(**options)
        if not _SPLIT_NAME.match(split):
            raise ValueError(f"split name {split!r} is not valid for datasets (letters, digits, _ and . only)")
        self.split = split

    def write(self, path: str | os.PathLike[str], records: Iterable[Record]) -> int:
        from datasets import Dataset, DatasetDict, Features
        from datasets.table import MemoryMappedTable

        target = Path(path)
        check_output_folder(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            arrow_path = work / "data.arrow"
            count = 0
            digest = hashlib.sha256()
            with pa.OSFile(str(arrow_path), "wb") as sink, pa.ipc.new_stream(sink, SCHEMA) as stream:
                batch: list[Record] = []
                for record in records:
                    batch.append(record)
                    count += 1
                    if len(batch) >= ROW_GROUP:
                        _write_batch(stream, batch, digest)
                        batch = []
                if batch:
                    _write_batch(stream, batch, digest)
            table = MemoryMappedTable.from_file(str(arrow_path))
            features = Features.from_arrow_schema(SCHEMA)
            dataset = Dataset(table, fingerprint=digest.hexdigest()[:16])
            dataset = dataset.cast(features) if dataset.features != features else dataset
            saved = work / "dataset"
            DatasetDict({self.split: dataset}).save_to_disk(str(saved))
            del dataset, table
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                os.replace(target, old / "previous")
                os.replace(saved, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(saved, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return count


_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")


def check_output_folder(target: Path) -> None:
    """Refuse to replace a folder that is not a previous ``save_to_disk`` output (or empty)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ValueError(f"{target}: exists and is not a folder; the hf target writes a save_to_disk folder")
    if any(target.iterdir()) and not (target / "dataset_dict.json").is_file():
        raise ValueError(f"{target}: is a folder with other files in it, not a dataset saved by save_to_disk; "
                         "give a new or empty folder (ftkit replaces only its own output)")


def _write_batch(stream: Any, batch: list[Record], digest: Any) -> None:
    for record in batch:
        digest.update(orjson.dumps(record))
        digest.update(b"\n")
    table = pa.Table.from_pylist(batch, schema=SCHEMA)
    for record_batch in table.to_batches():
        stream.write_batch(record_batch)
