"""Planning a run, chunk by chunk, in one process: the people, and who is a victim, a thief or a look-alike.

Everything that must be unique across the whole run (emails, SSNs, people's cards, victim numbers) is drawn
here from one seeded stream; chunk writers then only add rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

from ombud.synth import households as hh
from ombud.synth.chunk import ChunkPlan
from ombud.synth.fraud import LOOKALIKE_KINDS, Planner, Thief, Victim, new_accounts_of, plan_kinds
from ombud.synth.ids import epoch_seconds
from ombud.synth.people import PeopleMaker, Person
from ombud.synth.pools import Pools, Rng
from ombud.synth.staff import Agent, make_staff, staff_size

#: Accounts per chunk: the unit of streaming (memory) and of parallel writing.
CHUNK_ACCOUNTS = 5000
#: Chance that a victim has each kind of honest look-alike.
LOOKALIKE_RATES = {"same_name": 0.35, "same_name_same_city": 0.2, "same_name_dob_other_state": 0.12,
                   "family": 0.25, "roommate": 0.12}


def _stochastic_round(value: float, rng: Rng) -> int:
    whole = math.floor(value)
    return whole + (1 if rng.random() < value - whole else 0)


class RunPlanner:
    """Plans every chunk of one run from the run's seed."""

    def __init__(self, seed: int, victim_rate: float, as_of: datetime, chunk_accounts: int = CHUNK_ACCOUNTS,
                 households: bool = False) -> None:
        self.rng = Rng(seed)
        self.households = households
        self.chunk_accounts = chunk_accounts
        self.victim_rate = victim_rate
        self.pools = Pools.for_seed(seed)
        self.maker = PeopleMaker(self.pools, seed, epoch_seconds(as_of))
        self.planner = Planner(self.maker)
        self.victims = 0

    def staff(self, accounts: int, size: int | None = None) -> tuple[list[list[object]], list[Agent]]:
        """The staff directory's rows and the agents among them (`size` employees, or as many as `accounts` has)."""
        return make_staff(self.pools, self.rng, size or staff_size(accounts), self.maker.as_of)

    def chunks(self, accounts: int) -> Iterator[ChunkPlan]:
        """The plans of all chunks, in order; exactly `accounts` accounts in all."""
        index, remaining = 0, accounts
        while remaining > 0:
            budget = min(self.chunk_accounts, remaining)
            yield self.chunk(index, budget)
            index += 1
            remaining -= budget

    def chunk(self, index: int, budget: int) -> ChunkPlan:
        """One chunk of `budget` accounts: honest people's own accounts plus the accounts thieves open."""
        rng, maker = self.rng, self.maker
        n_victims = _stochastic_round(budget * self.victim_rate, rng)
        # Each victim needs other people (a share of a thief, look-alikes): keep tiny runs sane.
        n_victims = min(n_victims, budget // 8)
        kinds = [plan_kinds(rng) for _ in range(n_victims)]
        opens = [new_accounts_of(k, rng) for k in kinds]
        looks = [[kind for kind in LOOKALIKE_KINDS if rng.random() < LOOKALIKE_RATES[kind]] for _ in kinds]
        if self.households:  # drawn after, so the stream without households is unchanged
            for look in looks:
                look += [kind for kind, rate in hh.HOUSEHOLD_RATES.items() if rng.random() < rate]
        n_thieves = math.ceil(n_victims / 3)
        left = budget - sum(sum(o) for o in opens)
        people: list[Person] = []
        while left > 0:
            person = maker.person(rng)
            del person.account_times[left:]
            left -= len(person.account_times)
            people.append(person)
        needed = n_victims + n_thieves + sum(len(x) for x in looks)
        cursor = iter(rng.sample(range(len(people)), min(needed, len(people))))
        thieves: dict[int, Thief] = {}
        for _ in range(n_thieves):
            at = next(cursor)
            thieves[at] = self.planner.make_thief(people[at], rng)
        crew = list(thieves.values())
        victims: dict[int, Victim] = {}
        for kind_list, open_list, look_list in zip(kinds, opens, looks, strict=True):
            at = next(cursor)
            victim = self.planner.make_victim(people[at], kind_list, open_list, crew, rng)
            self.victims += 1
            victim.victim_id = f"V{self.victims:07d}"
            for look in look_list:
                other = people[next(cursor)]
                if look in hh.HOUSEHOLD_RATES:
                    look = hh.make_member(maker, look, victim.person, other, rng)
                else:
                    self.planner.make_lookalike(look, victim.person, other, rng)
                victim.lookalikes.append((look, other))
            victims[at] = victim
        return ChunkPlan(index, people, dict(sorted(victims.items())), thieves)
