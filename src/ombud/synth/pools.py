"""Pools drawn once per run: names with their frequencies, towns, streets, products.

The raw material is Faker's en_US data (first names and surnames with their US frequencies, city-name
patterns, ZIP ranges by state); calling Faker per value is slow, so its tables are sampled directly with
one seeded `random.Random`, which is fast and deterministic.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from faker.providers.address.en_US import Provider as AddressProvider
from faker.providers.person.en_US import Provider as PersonProvider

from ombud.synth.data import (
    BRAND_SUFFIXES,
    DEVICE_MODELS,
    GIFT_CARD_VALUES,
    MAIL_PROVIDERS,
    PRODUCT_ADJECTIVES,
    PRODUCT_FAMILIES,
    STATES,
    STREET_TYPES,
)

T = TypeVar("T")

_STREET_WORDS = (
    "Main", "Oak", "Maple", "Pine", "Cedar", "Elm", "Washington", "Lincoln", "Park", "Lake", "Hill", "Church",
    "Mill", "Spring", "River", "Sunset", "Highland", "Forest", "Meadow", "Ridge", "Walnut", "Chestnut", "Willow",
    "Jefferson", "Madison", "Franklin", "Jackson", "Center", "Market", "Union", "Valley", "Cherry", "Birch",
    "Hickory", "Magnolia", "Dogwood", "Laurel", "Spruce", "Sycamore", "Poplar", "Grove", "Orchard", "Prospect",
)


@dataclass(frozen=True, slots=True)
class Town:
    """A place people live: a city, its state, the ZIP codes used there and local area codes."""

    city: str
    state: str
    zips: tuple[str, ...]
    area_codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    description: str
    price_cents: int
    family: str


class Rng(random.Random):
    """`random.Random` with fast shortcuts for the hot loops (plain float scaling; no rejection sampling)."""

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high)."""
        return low + int(self.random() * (high - low))

    def pick(self, seq: Sequence[T]) -> T:
        """One element of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]


class Weighted(Generic[T]):
    """Values with weights, sampled by bisecting the cumulative weights."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        pairs = list(pairs)
        self.values = [value for value, _ in pairs]
        self.cum = list(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def one(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cum, rng.random() * self.total)]


class Pools:
    """Everything sampled to make people; read-only once built (`Pools.for_seed` shares them in a process)."""

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def for_seed(seed: int) -> Pools:
        """The pools of a seed, built once per process."""
        return Pools(seed)

    def __init__(self, seed: int, towns: int = 4000) -> None:
        rng = random.Random(seed ^ 0x5EED)
        self.female = Weighted(list(PersonProvider.first_names_female.items()))
        self.male = Weighted(list(PersonProvider.first_names_male.items()))
        self.last = Weighted(list(PersonProvider.last_names.items()))
        self.street_types = Weighted([((full, abbr), w) for full, abbr, w in STREET_TYPES])
        firsts = list(PersonProvider.first_names)
        bases = list(_STREET_WORDS) * 4
        bases += [str(self.last.one(rng)) for _ in range(1500)] + [rng.choice(firsts) for _ in range(500)]
        self.street_bases = bases
        self.towns = self._towns(rng, towns, firsts)
        self.by_state: dict[str, list[Town]] = {}
        for town in self.towns:
            self.by_state.setdefault(town.state, []).append(town)
        self.providers = Weighted(MAIL_PROVIDERS)
        self.device_models = Weighted(DEVICE_MODELS)
        self.products = self._catalog(rng)
        self.fraud_products = [p for p in self.products if p.family in ("ELE", "GFT")]

    def _city(self, rng: random.Random, firsts: list[str]) -> str:
        """A made-up town name in one of Faker's en_US patterns ("Port Jennifer", "Lake Mariaton")."""
        pattern = rng.randrange(4)
        prefix = rng.choice(AddressProvider.city_prefixes)
        suffix = rng.choice(AddressProvider.city_suffixes)
        if pattern == 0:
            return f"{prefix} {rng.choice(firsts)}{suffix}"
        if pattern == 1:
            return f"{prefix} {rng.choice(firsts)}"
        if pattern == 2:
            return f"{rng.choice(firsts)}{suffix}"
        return f"{self.last.one(rng)}{suffix}"

    def _towns(self, rng: random.Random, count: int, firsts: list[str]) -> list[Town]:
        states = Weighted([(code, pop) for code, (pop, _) in STATES.items()])
        seen: set[tuple[str, str]] = set()
        towns: list[Town] = []
        while len(towns) < count:
            state = str(states.one(rng))
            city = self._city(rng, firsts)
            if (city, state) in seen:
                continue
            seen.add((city, state))
            low, high = AddressProvider.states_postcode.get(state, (20001, 20039))
            base = rng.randint(low, max(low, high - 8))
            zips = tuple(f"{base + i:05d}" for i in sorted(rng.sample(range(8), rng.randint(1, 3))))
            towns.append(Town(city, state, zips, STATES[state][1]))
        return towns

    def _catalog(self, rng: random.Random) -> list[Product]:
        products: list[Product] = []
        brands = [f"{self.last.one(rng)} {rng.choice(BRAND_SUFFIXES)}" for _ in range(300)]
        for code, nouns, low, high in PRODUCT_FAMILIES:
            for n in range(400):
                noun = rng.choice(nouns)
                # Prices cluster at the low end of a family's range, as catalogues do; end in .99 or .49.
                dollars = int(low + (high - low) * rng.random() ** 2.5)
                cents = dollars * 100 + rng.choice((99, 49, 95, 0))
                desc = f"{rng.choice(brands)} {rng.choice(PRODUCT_ADJECTIVES)} {noun}"
                products.append(Product(f"{code}-{n:05d}", desc, max(cents, 99), code))
        for value in GIFT_CARD_VALUES:
            products.append(Product(f"GFT-{value:05d}", f"Store Gift Card ${value}", value * 100, "GFT"))
        return products
