"""The synthetic retailer, end to end: staff, people, their accounts, injected identity theft, ground truth.

One process plans chunks of accounts from the seed (see plan.py); chunks are written in worker processes
(or in this one) and appended in order, so the output is the same bytes whatever the number of workers,
and memory stays flat however many accounts are asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from ombud.errors import InvalidInput
from ombud.synth.chunk import ChunkPlan, ChunkResult, ChunkWriter, init_worker, write_in_worker
from ombud.synth.plan import CHUNK_ACCOUNTS, RunPlanner
from ombud.synth.writer import FORMATS, ImportFiles, render

if TYPE_CHECKING:
    from ombud.synth.insider import InsiderOptions

DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
DEFAULT_VICTIM_RATE = 0.02
MAX_ACCOUNTS = 20_000_000
TRUTH_DIR = "truth"


@dataclass
class Summary:
    """What a run wrote: counts per record kind, victims, cases, variations and look-alikes."""

    out_dir: Path
    accounts: int
    seed: int
    victim_rate: float
    fmt: str
    as_of: datetime
    rows: dict[str, int] = field(default_factory=dict)
    victims: int = 0
    fraudulent_accounts: int = 0
    cases: Counter[str] = field(default_factory=Counter)
    variations: Counter[str] = field(default_factory=Counter)
    lookalikes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    workers: int = 1
    #: With insider data (`ombud.synth.insider`): truth lines per label:scenario; None when not asked for.
    insider: dict[str, int] | None = None
    insider_seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The summary.json document (no timings or worker count: the file is deterministic)."""
        return {
            "seed": self.seed, "accounts": self.accounts, "victim_rate": self.victim_rate, "format": self.fmt,
            "as_of": self.as_of.isoformat().replace("+00:00", "Z"), "rows": self.rows, "victims": self.victims,
            "fraudulent_accounts": self.fraudulent_accounts, "cases": dict(sorted(self.cases.items())),
            "variations": dict(sorted(self.variations.items())), "lookalikes": dict(sorted(self.lookalikes.items())),
            **({"insider": dict(sorted(self.insider.items()))} if self.insider is not None else {}),
        }

    def add(self, result: ChunkResult) -> None:
        self.victims += result.victims
        self.fraudulent_accounts += result.fraudulent_accounts
        self.cases.update(result.cases)
        self.variations.update(result.variations)
        self.lookalikes.update(result.lookalikes)


def default_workers() -> int:
    """Worker processes used by default: one per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def _prepare(out_dir: Path, overwrite: bool) -> Path:
    """A fresh temporary folder beside `out_dir`; refuses to clobber anything that is not a synth output."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InvalidInput(f"{out_dir} exists and is not a folder", field="out")
        if any(out_dir.iterdir()):
            if not overwrite:
                raise InvalidInput(f"{out_dir} is not empty (pass overwrite / --force to replace it)", field="out")
            if not (out_dir / TRUTH_DIR / "summary.json").exists():
                raise InvalidInput(f"{out_dir} is not empty and was not written by ombud synth; not replacing it",
                                   field="out")
    partial = out_dir.parent / f".{out_dir.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    (partial / TRUTH_DIR).mkdir(parents=True)
    return partial


def _in_process(plans: Iterator[ChunkPlan], writer: ChunkWriter) -> Iterator[ChunkResult]:
    for plan in plans:
        yield writer.write(plan)


def _in_pool(plans: Iterator[ChunkPlan], pool: ProcessPoolExecutor, window: int) -> Iterator[ChunkResult]:
    """Results in plan order, with at most `window` chunks planned ahead (memory stays bounded)."""
    pending: deque[Future[ChunkResult]] = deque()
    for plan in plans:
        pending.append(pool.submit(write_in_worker, plan))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def generate(out_dir: Path | str, accounts: int, seed: int = 0, *, victim_rate: float = DEFAULT_VICTIM_RATE,
             fmt: str = "csv", as_of: datetime = DEFAULT_AS_OF, overwrite: bool = False, workers: int = 1,
             chunk_accounts: int = CHUNK_ACCOUNTS, on_progress: Callable[[int], None] | None = None,
             insider: InsiderOptions | None = None, households: bool = False, messy: float = 0.0,
             logins: bool = True) -> Summary:
    """Write a synthetic retailer of `accounts` accounts to `out_dir` (import files + truth/); all or nothing.

    With `workers` > 1, chunks are written in that many spawned processes (same bytes as with one); a script
    doing so needs the usual `if __name__ == "__main__":` guard. `chunk_accounts` is the unit of streaming and
    of parallel work; the output depends on it (keep the default to compare runs). `households`, `messy` and
    `logins` add household members, damage the export and leave out sign-ins (see `synth/households.py`).
    """
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise InvalidInput(f"accounts must be between 1 and {MAX_ACCOUNTS:,}", field="accounts")
    if not 0 <= victim_rate <= 0.25:
        raise InvalidInput("victim rate must be between 0 and 0.25", field="victim_rate")
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    if as_of.tzinfo is None:
        raise InvalidInput("as_of must be an aware datetime", field="as_of")
    if insider is not None:
        insider.check()
    out = Path(out_dir).resolve()
    started = time.perf_counter()
    if messy > 0 and fmt != "csv":
        raise InvalidInput("messy exports are written as CSV only", field="messy")
    if not 100 <= chunk_accounts <= 100_000:
        raise InvalidInput("chunk_accounts must be between 100 and 100,000", field="chunk_accounts")
    chunks = -(-accounts // chunk_accounts)
    workers = max(1, min(workers, chunks))
    partial = _prepare(out, overwrite)
    summary = Summary(out, accounts, seed, victim_rate, fmt, as_of, workers=workers)
    files = ImportFiles(partial, fmt)
    pool: ProcessPoolExecutor | None = None
    try:
        with (partial / TRUTH_DIR / "victims.jsonl").open("w", encoding="utf-8", newline="\n") as truth:
            planner = RunPlanner(seed, victim_rate, as_of, chunk_accounts, households=households)
            staff_rows, agents = planner.staff(accounts, insider.staff if insider is not None else None)
            files.write("employees", render("employees", staff_rows, fmt), len(staff_rows))
            plans = planner.chunks(accounts)
            if workers == 1:
                results = _in_process(plans, ChunkWriter(seed, as_of, fmt, agents))
            else:
                pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=init_worker,
                                           initargs=(seed, as_of, fmt, agents))
                results = _in_pool(plans, pool, window=workers + 1)
            for result in results:
                for kind, text in result.texts.items():
                    files.write(kind, text, result.counts[kind])
                truth.write(result.truth)
                summary.add(result)
                if on_progress:
                    on_progress(min(chunk_accounts, accounts - result.index * chunk_accounts))
    except BaseException:
        files.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(partial, ignore_errors=True)
        raise
    files.close()
    if pool is not None:
        pool.shutdown()
    summary.rows = dict(files.counts)
    if insider is not None:  # staff activity and insider scenarios, written beside the retailer's files
        try:
            from ombud.synth.insider import write_insider

            insider_started = time.perf_counter()
            extra = write_insider(partial, fmt, seed, as_of, insider)
            summary.insider_seconds = time.perf_counter() - insider_started
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        for kind, count in extra.rows.items():  # staff and their families are appended to accounts, addresses
            summary.rows[kind] = summary.rows.get(kind, 0) + count
        summary.insider = dict(extra.scenarios)
    try:  # victims' records requests with their ground truth (truth/requests.jsonl)
        from ombud.synth.requests import inject

        inject(partial, seed=seed, as_of=as_of)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if messy > 0 or not logins:  # household extension: damage the export, leave out sign-ins (households.py)
        try:
            from ombud.synth.households import damage

            damage(partial, seed, messy, logins)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if not logins:
            summary.rows.pop("logins", None)
    (partial / TRUTH_DIR / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n",
                                                      encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    summary.seconds = time.perf_counter() - started
    return summary
