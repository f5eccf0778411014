"""Writing the import files: CSV (default) or JSON Lines, one file per record kind, in large batches.

A chunk's rows are rendered to text where they were made (possibly a worker process) and appended here in
chunk order, so the files do not depend on how many processes made them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO

from ombud.synth.sink import COLUMNS, KINDS

FORMATS = ("csv", "jsonl")
_BOOL_COLUMNS = {"logins": (COLUMNS["logins"].index("success"),)}


def render(kind: str, rows: list[list[object]], fmt: str) -> str:
    """Rows of one kind (in `COLUMNS` order) as CSV lines (no header) or JSON Lines."""
    if not rows:
        return ""
    if fmt == "csv":
        for i in _BOOL_COLUMNS.get(kind, ()):
            for row in rows:
                row[i] = "true" if row[i] else "false"
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    columns = COLUMNS[kind]
    dumps = json.dumps
    return "".join(dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows)


class ImportFiles:
    """One open file per kind (CSV files start with their header row); text is appended as given."""

    def __init__(self, out_dir: Path, fmt: str = "csv") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.counts = dict.fromkeys(KINDS, 0)
        self._files: dict[str, IO[str]] = {}
        for kind in KINDS:
            handle = (out_dir / f"{kind}.{fmt}").open("w", encoding="utf-8", newline="", buffering=1 << 20)
            if fmt == "csv":
                handle.write(",".join(COLUMNS[kind]) + "\n")
            self._files[kind] = handle

    def write(self, kind: str, text: str, count: int) -> None:
        self._files[kind].write(text)
        self.counts[kind] += count

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
