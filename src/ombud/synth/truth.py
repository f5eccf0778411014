"""Reading a synth output's ground truth (for the demo, discovery's evaluation and tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ombud.errors import InvalidInput, NotFound

TRUTH_DIR = "truth"


def read_victims(out_dir: Path | str) -> Iterator[dict[str, Any]]:
    """Each victim's truth line from `truth/victims.jsonl`, in order."""
    path = Path(out_dir) / TRUTH_DIR / "victims.jsonl"
    if not path.exists():
        raise InvalidInput(f"{path} not found: is {out_dir} an ombud synth output?", field="dir")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_summary(out_dir: Path | str) -> dict[str, Any]:
    """The run's `truth/summary.json`."""
    path = Path(out_dir) / TRUTH_DIR / "summary.json"
    if not path.exists():
        raise InvalidInput(f"{path} not found: is {out_dir} an ombud synth output?", field="dir")
    return json.loads(path.read_text(encoding="utf-8"))


def find_victim(out_dir: Path | str, victim_id: str | None = None, kind: str | None = None) -> dict[str, Any]:
    """A victim by id; without an id, the first victim (with a case of `kind`, when given)."""
    for victim in read_victims(out_dir):
        if victim_id is not None:
            if victim["victim_id"] == victim_id:
                return victim
        elif kind is None or any(case["kind"] == kind for case in victim["cases"]):
            return victim
    raise NotFound(f"no victim {victim_id or ('with a ' + kind + ' case' if kind else '')} in {out_dir}".strip())
