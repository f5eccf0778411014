"""Writing one planned chunk: its people's accounts and histories, its victims' cases and their truth.

A chunk depends only on its plan, the run's seed and its index (its random stream, its id ranges), so
chunks can be written in any process and in any order, and the output is the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ombud.synth.cases import CaseWriter
from ombud.synth.fraud import Thief, Victim
from ombud.synth.ids import CARD_CHUNK_STRIDE, CARD_WRITER_BASE, epoch_seconds
from ombud.synth.people import AccountRefs, PeopleMaker, Person
from ombud.synth.pools import Pools, Rng
from ombud.synth.sink import CHUNK_ID_STRIDE, KINDS, Sink
from ombud.synth.staff import Agent
from ombud.synth.writer import render


@dataclass
class ChunkPlan:
    """Everything decided in the planning process for one chunk."""

    index: int
    people: list[Person]
    victims: dict[int, Victim]  # by index in `people`
    thieves: dict[int, Thief]


@dataclass
class ChunkResult:
    index: int
    texts: dict[str, str]
    counts: dict[str, int]
    truth: str
    cases: Counter[str] = field(default_factory=Counter)
    variations: Counter[str] = field(default_factory=Counter)
    lookalikes: Counter[str] = field(default_factory=Counter)
    victims: int = 0
    fraudulent_accounts: int = 0


class ChunkWriter:
    """Writes chunks for one run; one instance per process (the pools are built once)."""

    def __init__(self, seed: int, as_of: datetime, fmt: str, agents: list[Agent]) -> None:
        self.seed = seed
        self.fmt = fmt
        self.agents = agents
        self.maker = PeopleMaker(Pools.for_seed(seed), seed, epoch_seconds(as_of))

    def write(self, plan: ChunkPlan) -> ChunkResult:
        rng = Rng(f"ombud-synth:{self.seed}:{plan.index}")
        maker = self.maker
        maker.cards.counter = CARD_WRITER_BASE + plan.index * CARD_CHUNK_STRIDE
        maker.cards.limit = maker.cards.counter + CARD_CHUNK_STRIDE
        sink = Sink(self.seed, base=plan.index * CHUNK_ID_STRIDE)
        for index, person in enumerate(plan.people):
            victim = plan.victims.get(index)
            if victim is not None:
                takeover = victim.takeover
                victim.refs = maker.write_accounts(
                    person, sink, rng, self.agents, activity=2.5,
                    email_now=takeover.email if takeover else None,
                    phone_now=takeover.phone_now if takeover else None,
                    status=("locked" if rng.random() < 0.5 else "active") if takeover else None)
                refs: list[AccountRefs] = victim.refs
            else:
                refs = maker.write_accounts(person, sink, rng, self.agents)
                thief = plan.thieves.get(index)
                if thief is not None:
                    thief.refs = refs
            if rng.random() < 0.02:
                maker.honest_application(person, refs[0], sink, rng)
        result = ChunkResult(plan.index, {}, {}, "")
        cases = CaseWriter(maker, sink, self.agents)
        truth_lines = []
        fraudulent: set[str] = set()
        for victim in plan.victims.values():
            cases.write(victim, rng)
            truth = victim.truth()
            truth_lines.append(json.dumps(truth) + "\n")
            result.victims += 1
            for case in victim.cases:
                result.cases[case.kind] += 1
                result.variations.update(case.variations)
            result.lookalikes.update(kind for kind, _ in victim.lookalikes)
            fraudulent.update(truth["fraudulent_account_ids"])  # type: ignore[arg-type]
        result.truth = "".join(truth_lines)
        result.fraudulent_accounts = len(fraudulent)
        rows = sink.take()
        # Fraud rows are made after the honest ones: shuffle each kind so that no row's position (nor the
        # database id an import gives it) tells them apart. An order's lines stay together, in order.
        for kind in KINDS:
            if kind not in ("employees", "order_lines"):
                rng.shuffle(rows[kind])
        lines: dict[object, list[list[object]]] = {}
        for line in rows["order_lines"]:
            lines.setdefault(line[0], []).append(line)
        rows["order_lines"] = [line for order in rows["orders"] for line in lines[order[0]]]
        for kind in KINDS:
            result.counts[kind] = len(rows[kind])
            result.texts[kind] = render(kind, rows[kind], self.fmt)
        return result


# One writer per worker process, set by `init_worker`.
_WORKER: ChunkWriter | None = None


def init_worker(seed: int, as_of: datetime, fmt: str, agents: list[Agent]) -> None:
    """Process-pool initialiser: build this process's pools once."""
    global _WORKER
    _WORKER = ChunkWriter(seed, as_of, fmt, agents)


def write_in_worker(plan: ChunkPlan) -> ChunkResult:
    """Process-pool task: write one chunk with this process's writer."""
    assert _WORKER is not None, "init_worker was not called"
    return _WORKER.write(plan)
