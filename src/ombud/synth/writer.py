"""Writing the import files: CSV (default) or JSON Lines, one file per record kind, in large batches."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from ombud.synth.sink import COLUMNS, KINDS

FORMATS = ("csv", "jsonl")
_BOOL_COLUMNS = {"logins": (COLUMNS["logins"].index("success"),)}


class ImportWriter:
    """Open files for every kind; `write` appends rows given in `COLUMNS` order."""

    def __init__(self, out_dir: Path, fmt: str = "csv") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.counts = dict.fromkeys(KINDS, 0)
        self._files: dict[str, IO[str]] = {}
        self._csv: dict[str, csv._writer] = {}  # type: ignore[name-defined]
        for kind in KINDS:
            handle = (out_dir / f"{kind}.{fmt}").open("w", encoding="utf-8", newline="", buffering=1 << 20)
            self._files[kind] = handle
            if fmt == "csv":
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(COLUMNS[kind])
                self._csv[kind] = writer

    def write(self, kind: str, rows: list[list[object]]) -> None:
        if not rows:
            return
        self.counts[kind] += len(rows)
        bools = _BOOL_COLUMNS.get(kind, ())
        if self.fmt == "csv":
            if bools:
                for row in rows:
                    for i in bools:
                        row[i] = "true" if row[i] else "false"
            self._csv[kind].writerows(rows)
            return
        columns = COLUMNS[kind]
        dumps = json.dumps
        self._files[kind].write("".join(dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows))

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
