"""The synthetic retailer, end to end: staff, people, their accounts, injected identity theft, ground truth.

Generation streams in chunks of accounts: each chunk's people, victims, thieves and look-alikes are made,
written and dropped, so memory stays flat however many accounts are asked for. One seeded generator drives
everything, so the same arguments give the same bytes.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ombud.errors import InvalidInput
from ombud.synth.cases import CaseWriter
from ombud.synth.fraud import LOOKALIKE_KINDS, Planner, Thief, Victim, new_accounts_of, plan_kinds
from ombud.synth.ids import epoch_seconds
from ombud.synth.people import AccountRefs, PeopleMaker, Person
from ombud.synth.pools import Pools, Rng
from ombud.synth.sink import KINDS, Sink
from ombud.synth.staff import make_staff, staff_size
from ombud.synth.writer import FORMATS, ImportWriter

DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
DEFAULT_VICTIM_RATE = 0.02
CHUNK_ACCOUNTS = 5000
TRUTH_DIR = "truth"
_LOOKALIKE_RATES = {"same_name": 0.35, "same_name_same_city": 0.2, "same_name_dob_other_state": 0.12,
                    "family": 0.25, "roommate": 0.12}


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

    def to_json(self) -> dict[str, object]:
        """The summary.json document (no timings: the file is byte-for-byte deterministic)."""
        return {
            "seed": self.seed, "accounts": self.accounts, "victim_rate": self.victim_rate, "format": self.fmt,
            "as_of": self.as_of.isoformat().replace("+00:00", "Z"), "rows": self.rows, "victims": self.victims,
            "fraudulent_accounts": self.fraudulent_accounts, "cases": dict(sorted(self.cases.items())),
            "variations": dict(sorted(self.variations.items())), "lookalikes": dict(sorted(self.lookalikes.items())),
        }


def _stochastic_round(value: float, rng: Rng) -> int:
    whole = math.floor(value)
    return whole + (1 if rng.random() < value - whole else 0)


class _Run:
    def __init__(self, seed: int, victim_rate: float, as_of: datetime, writer: ImportWriter,
                 truth: Path, summary: Summary) -> None:
        self.rng = Rng(seed)
        self.victim_rate = victim_rate
        self.pools = Pools(seed)
        self.maker = PeopleMaker(self.pools, seed, epoch_seconds(as_of))
        self.planner = Planner(self.maker)
        self.sink = Sink(seed)
        self.writer = writer
        self.truth = truth.open("w", encoding="utf-8", newline="\n")
        self.summary = summary
        self.agents: list[tuple[str, int, int]] = []
        self.fraudulent: set[str] = set()

    def staff(self, accounts: int) -> None:
        rows, self.agents = make_staff(self.pools, self.rng, staff_size(accounts), self.maker.as_of)
        self.writer.write("employees", rows)

    def chunk(self, budget: int) -> None:
        rng, maker = self.rng, self.maker
        n_victims = _stochastic_round(budget * self.victim_rate, rng)
        # Each victim needs about three other people (a share of a thief, look-alikes): keep tiny runs sane.
        n_victims = min(n_victims, budget // 8)
        kinds = [plan_kinds(rng) for _ in range(n_victims)]
        opens = [new_accounts_of(k, rng) for k in kinds]
        looks = [[kind for kind in LOOKALIKE_KINDS if rng.random() < _LOOKALIKE_RATES[kind]] for _ in kinds]
        n_thieves = math.ceil(n_victims / 3)
        left = budget - sum(sum(o) for o in opens)
        people: list[Person] = []
        while left > 0:
            person = maker.person(rng)
            del person.account_times[left:]
            left -= len(person.account_times)
            people.append(person)
        needed = n_victims + n_thieves + sum(len(x) for x in looks)
        picked = rng.sample(range(len(people)), min(needed, len(people)))
        cursor = iter(picked)
        thieves = [self.planner.make_thief(people[next(cursor)], rng) for _ in range(n_thieves)]
        victims: dict[int, Victim] = {}
        for kind_list, open_list, look_list in zip(kinds, opens, looks, strict=True):
            index = next(cursor)
            victim = self.planner.make_victim(people[index], kind_list, open_list, thieves, rng)
            for look in look_list:
                other = people[next(cursor)]
                self.planner.make_lookalike(look, victim.person, other, rng)
                victim.lookalikes.append((look, other))
            victims[index] = victim
        thief_of = {id(t.person): t for t in thieves}
        for index, person in enumerate(people):
            victim = victims.get(index)
            if victim is not None:
                takeover = victim.takeover
                victim.refs = maker.write_accounts(
                    person, self.sink, rng, self.agents, activity=2.5,
                    email_now=takeover.email_now if takeover else None,
                    phone_now=takeover.phone_now if takeover else None,
                    status=("locked" if rng.random() < 0.5 else "active") if takeover else None)
                refs: list[AccountRefs] = victim.refs
            else:
                refs = maker.write_accounts(person, self.sink, rng, self.agents)
                thief: Thief | None = thief_of.get(id(person))
                if thief is not None:
                    thief.refs = refs
            if rng.random() < 0.02:
                maker.honest_application(person, refs[0], self.sink, rng)
        cases = CaseWriter(self.planner, self.sink, self.agents)
        for victim in victims.values():
            cases.write(victim, rng)
            self.summary.victims += 1
            truth = victim.truth(f"V{self.summary.victims:07d}")
            self.truth.write(json.dumps(truth) + "\n")
            for case in victim.cases:
                self.summary.cases[case.kind] += 1
                self.summary.variations.update(case.variations)
            self.summary.lookalikes.update(kind for kind, _ in victim.lookalikes)
            self.fraudulent.update(truth["fraudulent_account_ids"])  # type: ignore[arg-type]
        rows = self.sink.take()
        rng.shuffle(rows["accounts"])  # the rows of a chunk's fraud accounts are not told apart by position
        for kind in KINDS:
            self.writer.write(kind, rows[kind])

    def close(self) -> None:
        self.truth.close()


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


def generate(out_dir: Path | str, accounts: int, seed: int = 0, *, victim_rate: float = DEFAULT_VICTIM_RATE,
             fmt: str = "csv", as_of: datetime = DEFAULT_AS_OF, overwrite: bool = False,
             on_progress: Callable[[int], None] | None = None) -> Summary:
    """Write a synthetic retailer of `accounts` accounts to `out_dir` (import files + truth/); all or nothing."""
    import time

    if accounts < 1:
        raise InvalidInput("accounts must be at least 1", field="accounts")
    if not 0 <= victim_rate <= 0.25:
        raise InvalidInput("victim rate must be between 0 and 0.25", field="victim_rate")
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    if as_of.tzinfo is None:
        raise InvalidInput("as_of must be an aware datetime", field="as_of")
    out = Path(out_dir)
    started = time.perf_counter()
    partial = _prepare(out, overwrite)
    summary = Summary(out, accounts, seed, victim_rate, fmt, as_of)
    writer = ImportWriter(partial, fmt)
    run = _Run(seed, victim_rate, as_of, writer, partial / TRUTH_DIR / "victims.jsonl", summary)
    try:
        run.staff(accounts)
        remaining = accounts
        while remaining > 0:
            budget = min(CHUNK_ACCOUNTS, remaining)
            run.chunk(budget)
            remaining -= budget
            if on_progress:
                on_progress(budget)
    except BaseException:
        writer.close()
        run.close()
        shutil.rmtree(partial, ignore_errors=True)
        raise
    writer.close()
    run.close()
    summary.rows = dict(writer.counts)
    summary.fraudulent_accounts = len(run.fraudulent)
    (partial / TRUTH_DIR / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n",
                                                      encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    summary.seconds = time.perf_counter() - started
    return summary
