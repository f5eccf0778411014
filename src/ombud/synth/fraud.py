"""Planning identity theft: who is a victim, who the thieves are, which cases happen, and honest look-alikes.

Planning happens before a chunk's honest rows are written, because some plans change what those rows say
(an account takeover changes the account's email; a look-alike shares a victim's name or address).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ombud.synth.households import household_account_ids
from ombud.synth.people import DAY, YEAR, AccountRefs, PeopleMaker, Person
from ombud.synth.pools import Rng
from ombud.synth.variants import Addr, canonical, email_variant, mailbox, phone_text

CASE_KINDS = ("new_account", "credit_application", "card_added", "account_takeover")
LOOKALIKE_KINDS = ("same_name", "same_name_same_city", "same_name_dob_other_state", "family", "roommate")


@dataclass(slots=True)
class Thief:
    person: Person
    drops: list[Addr]  # where goods go: the thief's home and sometimes another address
    refs: list[AccountRefs] = field(default_factory=list)


@dataclass(slots=True)
class CasePlan:
    kind: str
    at: int  # when the fraud starts (epoch seconds)
    thief: Thief
    with_account: bool = True  # credit applications: opened a new account too
    email: str = ""  # an address the thief controls (a takeover changes the account's email to it)
    # Sometimes the thief typed the victim's address in another form instead: (variation tag, the address).
    email_variant: tuple[str, str] | None = None
    phone_now: str | None = None  # takeovers: the phone the thief changed it to, if they did


@dataclass(slots=True)
class Case:
    """One case's ground truth, shaped as victims.jsonl documents it."""

    kind: str
    account_id: str | None
    application_ids: list[str] = field(default_factory=list)
    payment_method_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    address_ids: list[str] = field(default_factory=list)
    login_ids: list[str] = field(default_factory=list)
    note_ids: list[str] = field(default_factory=list)
    variations: list[str] = field(default_factory=list)
    identifiers_used: list[str] = field(default_factory=list)

    def truth(self) -> dict[str, object]:
        return {
            "kind": self.kind, "account_id": self.account_id, "application_ids": self.application_ids,
            "payment_method_ids": self.payment_method_ids, "order_ids": self.order_ids,
            "address_ids": self.address_ids, "login_ids": self.login_ids, "note_ids": self.note_ids,
            "variations": self.variations, "identifiers_used": self.identifiers_used,
        }


@dataclass(slots=True)
class Victim:
    person: Person
    plans: list[CasePlan]
    victim_id: str = ""
    lookalikes: list[tuple[str, Person]] = field(default_factory=list)
    refs: list[AccountRefs] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    @property
    def takeover(self) -> CasePlan | None:
        return next((plan for plan in self.plans if plan.kind == "account_takeover"), None)

    def profile(self) -> dict[str, object]:
        """What the victim knows of themselves: only their own identifiers, never the thief's."""
        p = self.person
        names = [p.legal_name]
        if p.former_last:
            names.append(" ".join(x for x in (p.first, p.middle, p.former_last) if x))
        return {
            "names": names,
            "emails": list(p.emails),
            "phones": [phone_text(p.phone, 0)],
            "addresses": [canonical(p.home)] + [canonical(a) for a in reversed(p.former)],
            "date_of_birth": p.dob.isoformat(),
            "ssn": p.ssn,
            "card_numbers": [card.number for card in p.cards],
        }

    def truth(self) -> dict[str, object]:
        fraudulent: list[str] = []
        for case in self.cases:
            if case.account_id and case.account_id not in fraudulent:
                fraudulent.append(case.account_id)
        return {
            "victim_id": self.victim_id,
            "profile": self.profile(),
            "own_account_ids": list(self.person.account_ids),
            "fraudulent_account_ids": fraudulent,
            "cases": [case.truth() for case in self.cases],
            "lookalike_account_ids": [aid for _, la in self.lookalikes for aid in la.account_ids],
            "household_account_ids": household_account_ids(self.lookalikes),
            "lookalikes": [{"kind": kind, "account_ids": list(la.account_ids)} for kind, la in self.lookalikes],
        }


def plan_kinds(rng: Rng) -> list[str]:
    """One to three cases for a victim; at most one takeover (there is one own account to take over)."""
    count = rng.choices((1, 2, 3), (60, 30, 10))[0]
    kinds: list[str] = []
    while len(kinds) < count:
        kind = rng.choices(CASE_KINDS, (35, 20, 25, 20))[0]
        if kind == "account_takeover" and kind in kinds:
            continue
        kinds.append(kind)
    return kinds


def new_accounts_of(kinds: list[str], rng: Rng) -> list[bool]:
    """For each planned case, whether it opens a new account (decided here so the chunk can be sized)."""
    return [k == "new_account" or (k == "credit_application" and rng.random() < 0.5) for k in kinds]


class Planner:
    """Turns some of a chunk's people into victims, thieves and look-alikes."""

    def __init__(self, maker: PeopleMaker) -> None:
        self.maker = maker
        self.as_of = maker.as_of

    def make_thief(self, person: Person, rng: Rng) -> Thief:
        # A thief's own account is an established one (it predates every case, as the truth's times need).
        person.account_times[0] = min(person.account_times[0], self.as_of - rng.between(2 * YEAR, 8 * YEAR))
        drops = [person.home]
        if rng.random() < 0.5:
            drops.append(self.maker.random_addr(rng))
        return Thief(person, drops)

    def make_victim(self, person: Person, kinds: list[str], opens: list[bool], thieves: list[Thief],
                    rng: Rng) -> Victim:
        # Victims' own accounts are long-standing: years of logins and orders before the theft.
        oldest = self.as_of - rng.between(3 * YEAR, 15 * YEAR)
        person.account_times[0] = min(person.account_times[0], oldest)
        if person.cards[0].issued > person.account_times[0]:
            person.cards[0].issued = person.account_times[0]
        thief = rng.pick(thieves)
        start = self.as_of - rng.between(10 * DAY, 540 * DAY)
        if not any(card.usable(start) for card in person.cards):  # a card in their wallet to steal
            person.cards.append(self.maker.new_card(rng, start - rng.between(30 * DAY, 2 * YEAR), lasting=True))
        plans = []
        for kind, opens_account in zip(kinds, opens, strict=True):
            at = min(start + rng.between(0, 60 * DAY), self.as_of - 2 * DAY)
            plan = CasePlan(kind, at, thief if rng.random() < 0.8 else rng.pick(thieves), opens_account)
            # Drawn here, in the one process that knows every address already given out.
            plan.email = self.thief_email(person, rng)
            if rng.random() < 0.2:
                plan.email_variant = self.victim_email_variant(person, rng)
            if kind == "account_takeover" and rng.random() < 0.5:
                plan.phone_now = phone_text(self.maker.phone_for(rng, plan.thief.person.home.town),
                                            rng.below(4))
            plans.append(plan)
        return Victim(person, plans)

    def victim_email_variant(self, victim: Person, rng: Rng) -> tuple[str, str] | None:
        """The victim's email written another way: the same mailbox (dots, +tag: one the thief got into), or
        an address that reaches no one else (another provider, a typo); None when that one is taken."""
        email = victim.emails[0]
        other = str(self.maker.pools.providers.one(rng))
        options = [how for how in ("dots", "plus_tag", "other_provider", "typo")
                   if email_variant(email, how, rng, other) is not None]
        how = rng.pick(options)
        varied = email_variant(email, how, rng, other)
        if varied is None:
            return None
        if mailbox(varied) != mailbox(email) and not self.maker.claim_email(varied):
            return None
        return ("typo:email" if how == "typo" else f"email:{how}"), varied

    def thief_email(self, victim: Person, rng: Rng) -> str:
        """An address the thief controls, often made to look like the victim's name."""
        if rng.random() < 0.6:
            return self.maker.email_for(rng, victim.first, victim.last + str(rng.between(1, 1000)), victim.dob.year)
        t = self.maker.pools
        return self.maker.email_for(rng, str(t.male.one(rng)), str(t.last.one(rng)), 1990)

    def make_lookalike(self, kind: str, victim: Person, other: Person, rng: Rng) -> None:
        """Make `other` an honest look-alike of the victim (a different real person)."""
        maker = self.maker
        if kind in ("same_name", "same_name_same_city", "same_name_dob_other_state"):
            other.sex, other.first, other.last = victim.sex, victim.first, victim.last
            other.former_last = None
            if kind == "same_name_dob_other_state":
                other.middle, other.dob = victim.middle, victim.dob
                towns = [t for t in maker.pools.towns if t.state != victim.home.town.state]
                other.home = maker.random_addr(rng, rng.pick(towns))
                other.former = [a for a in other.former if a.town.state != victim.home.town.state]
            else:
                names = maker.pools.female if victim.sex == "F" else maker.pools.male
                other.middle = str(names.one(rng)) if rng.random() < 0.6 else None
                if other.middle == victim.middle:
                    other.middle = None
                if other.dob == victim.dob:
                    other.dob = victim.dob - timedelta(days=rng.randint(30, 3000))
                if kind == "same_name_same_city":
                    other.home = maker.random_addr(rng, victim.home.town)
            other.phone = maker.phone_for(rng, other.home.town)
        elif kind == "family":
            other.last, other.former_last = victim.last, None
            other.home, other.former, other.moved_at = victim.home, [], 0
            if rng.random() < 0.5:  # spouse or sibling close in age; otherwise a grown child
                other.dob = victim.dob + timedelta(days=rng.randint(-2500, 2500))
            else:
                other.dob = victim.dob + timedelta(days=rng.randint(20 * 365, 35 * 365))
            limit = maker.as_of_date - timedelta(days=18 * 365)
            if other.dob > limit:
                other.dob = limit - timedelta(days=rng.randint(0, 900))
        elif kind == "roommate":
            other.home, other.former, other.moved_at = victim.home, [], 0
        else:
            raise ValueError(kind)
        other.emails = [maker.email_for(rng, other.first, other.last, other.dob.year) for _ in other.emails]

