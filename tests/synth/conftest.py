"""A small synthetic retailer shared by the synth tests (generated once per run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ombud.synth import generate

#: Enough victims (12%) over several chunks for every case kind, variation and look-alike kind to appear.
SMALL = {"accounts": 3000, "seed": 11, "victim_rate": 0.12, "chunk_accounts": 1000}


class Dataset:
    """One generated output folder, its rows read back as the importer would see them (strings)."""

    def __init__(self, path: Path, params: dict) -> None:
        self.path = path
        self.params = params
        self._cache: dict[str, list[dict[str, str]]] = {}
        self._index: dict[str, dict[str, dict[str, str]]] = {}

    def rows(self, kind: str) -> list[dict[str, str]]:
        if kind not in self._cache:
            with (self.path / f"{kind}.csv").open(newline="", encoding="utf-8") as handle:
                self._cache[kind] = list(csv.DictReader(handle))
        return self._cache[kind]

    def by_id(self, kind: str, column: str) -> dict[str, dict[str, str]]:
        key = f"{kind}:{column}"
        if key not in self._index:
            self._index[key] = {row[column]: row for row in self.rows(kind)}
        return self._index[key]

    def victims(self) -> list[dict]:
        with (self.path / "truth" / "victims.jsonl").open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    def summary(self) -> dict:
        return json.loads((self.path / "truth" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("synth") / "retailer"
    generate(out, **SMALL)
    return Dataset(out, SMALL)
