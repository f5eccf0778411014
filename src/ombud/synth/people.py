"""Honest people and the records of their own accounts: years of orders, logins, cards and addresses."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from ombud.synth.data import HONEST_NOTES, SUPPORT_CHANNELS
from ombud.synth.ids import CardMaker, SsnMaker
from ombud.synth.pools import Pools, Rng, Town, Weighted
from ombud.synth.sink import Sink
from ombud.synth.variants import Addr, AddrStyle, fast_reduce, mailbox, name_text, phone_text, render

DAY = 86400
YEAR = 365 * DAY
_EPOCH = date(1970, 1, 1)

_BRANDS = Weighted((("visa", 55), ("mastercard", 28), ("amex", 10), ("discover", 7)))
_UNIT_FORMS = Weighted((("Apt", 45), ("#", 20), ("Unit", 15), ("Apt.", 10), ("Apartment", 5), ("APT", 5)))
_PHONE_STYLE = Weighted(tuple((i, w) for i, w in enumerate((30, 25, 10, 10, 5, 5, 5, 5, 5))))
_CHANNELS = Weighted(SUPPORT_CHANNELS)
_ISP_OCTETS = (24, 50, 63, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 104, 107, 108, 173, 174, 184)
_LINE_COUNTS = Weighted(((1, 60), (2, 28), (3, 12)))
_EXTRA_CARDS = Weighted(((0, 60), (1, 30), (2, 10)))
_OWN_NAME: Weighted[str | None] = Weighted(((None, 78), ("middle_initial", 12), ("nickname", 7), ("case:name", 3)))
_DEVICES = Weighted(((1, 40), (2, 40), (3, 20)))
_IPS = Weighted(((1, 50), (2, 35), (3, 15)))
_STATUS = Weighted((("active", 95), ("closed", 3), ("locked", 2)))
_OLD_ORDER = Weighted((("delivered", 90), ("returned", 5), ("cancelled", 5)))
_DECISION = Weighted((("approved", 70), ("declined", 25), ("pending", 5)))


@functools.lru_cache(maxsize=8192)
def _month_of(day_number: int) -> tuple[int, int, int]:
    """(year, month) of a day since 1970, and the first second after that month ends."""
    day = _EPOCH + timedelta(days=day_number)
    after = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return day.year, day.month, (after - _EPOCH).days * DAY


@dataclass(slots=True)
class Card:
    number: str
    brand: str
    exp_month: int
    exp_year: int
    issued: int  # epoch seconds the holder started using it
    expires: int  # the first second after its expiry month
    removed: int | None

    __reduce__ = fast_reduce

    def usable(self, t: int) -> bool:
        """Whether the card can pay at time t (issued, not expired, not removed)."""
        return self.issued <= t < self.expires and (self.removed is None or t < self.removed)


@dataclass(slots=True)
class Person:
    """One real (synthetic) human: who they are, how they write things, what they own."""

    pid: int
    sex: str
    first: str
    middle: str | None
    last: str
    former_last: str | None
    dob: date
    ssn: str
    emails: list[str]
    phone: str  # ten digits
    phone_style: int
    home: Addr
    former: list[Addr]
    moved_at: int  # when they moved to `home` (epoch seconds)
    style: AddrStyle
    cards: list[Card]
    devices: list[str]
    ips: list[str]
    account_times: list[int]  # creation time of each own account
    name_how: str | None = None  # how they type their own name on accounts
    account_ids: list[str] = field(default_factory=list)

    __reduce__ = fast_reduce

    @property
    def legal_name(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last) if p)

    def address_at(self, t: int) -> Addr:
        """Where the person lived at time t."""
        return self.home if t >= self.moved_at or not self.former else self.former[-1]


@dataclass(slots=True)
class AccountRefs:
    """The ids of one account's rows that later steps (fraud, look-alikes) refer to."""

    account_id: str
    created: int
    name: str
    homes: list[tuple[int, str, str]]  # (from when, shipping address id, billing address id), oldest first
    pms: list[tuple[str, Card]]
    order_ids: list[str]

    def home_at(self, t: int) -> tuple[str, str]:
        """The (shipping, billing) address ids of the home the account had at time t."""
        current = self.homes[0]
        for home in self.homes:
            if t >= home[0]:
                current = home
        return current[1], current[2]


def poisson(rng: Rng, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class PeopleMaker:
    """Makes people and writes their own, honest accounts."""

    def __init__(self, pools: Pools, seed: int, as_of: int) -> None:
        self.pools = pools
        self.as_of = as_of
        self.as_of_date = _EPOCH + timedelta(days=as_of // DAY)
        self.ssns = SsnMaker(seed)
        self.cards = CardMaker(seed)
        self.emails_used: set[str] = set()
        self.next_pid = 0

    # ------------------------------------------------------------ people

    def random_addr(self, rng: Rng, town: Town | None = None) -> Addr:
        p = self.pools
        town = town or p.towns[rng.below(len(p.towns))]
        stype = p.street_types.one(rng)[0]  # type: ignore[index]
        number = str(int(10 ** (1 + 3 * rng.random())))
        predir = rng.pick(("North", "South", "East", "West")) if rng.random() < 0.12 else None
        unit = None
        if rng.random() < 0.3:
            form = rng.below(4)
            if form == 0:
                unit = f"{rng.between(1, 31)}{rng.pick('ABCDEF')}"
            elif form == 1:
                unit = str(rng.between(1, 41) * 100 + rng.between(1, 21))
            elif form == 2:
                unit = str(rng.between(1, 13))
            else:
                unit = f"{rng.between(1, 10)}F"
        return Addr(number, predir, rng.pick(p.street_bases), stype, unit, town, rng.pick(town.zips))

    def phone_for(self, rng: Rng, town: Town) -> str:
        area = rng.pick(town.area_codes) if rng.random() < 0.8 else rng.pick(
            self.pools.towns[rng.below(len(self.pools.towns))].area_codes)
        exchange = rng.between(201, 990)
        if exchange % 100 == 11:
            exchange += 1
        return f"{area}{exchange}{rng.below(10000):04d}"

    def email_for(self, rng: Rng, first: str, last: str, birth_year: int) -> str:
        f = "".join(c for c in first.lower() if c.isalnum()) or "x"
        la = "".join(c for c in last.lower() if c.isalnum()) or "x"
        pattern = rng.below(9)
        local = (f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}{la[0]}", f"{f}_{la}", f"{la}.{f}",
                 f"{f}.{la}{birth_year % 100:02d}", f"{f}{la}{rng.between(1, 100)}", f"{f[0]}{la}{birth_year}")[pattern]
        domain = str(self.pools.providers.one(rng))
        email = f"{local}@{domain}"
        key = mailbox(email)
        while key in self.emails_used:  # one mailbox, one person (gmail: jane.doe = janedoe)
            email = f"{local}{rng.between(1, 10000)}@{domain}"
            key = mailbox(email)
        self.emails_used.add(key)
        return email

    def claim_email(self, email: str) -> bool:
        """Reserve an address made some other way; False when its mailbox already belongs to someone."""
        key = mailbox(email)
        if key in self.emails_used:
            return False
        self.emails_used.add(key)
        return True

    def new_device(self, rng: Rng) -> str:
        return f"{self.pools.device_models.one(rng)} #{rng.getrandbits(32):08x}"

    @staticmethod
    def new_ip(rng: Rng) -> str:
        if rng.random() < 0.2:
            return f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
        return f"{rng.pick(_ISP_OCTETS)}.{rng.below(256)}.{rng.below(256)}.{rng.between(1, 255)}"

    def new_card(self, rng: Rng, issued: int, lasting: bool = False) -> Card:
        """A card first used at `issued`; some are given up years later (lost, replaced, account closed).

        The expiry is the one on file now: retailers' card updaters keep a card's expiry current while it is
        in use, so a card still on file expires after the as-of date, and a removed one soon after removal.
        """
        brand = str(_BRANDS.one(rng))
        number = self.cards.next(brand, rng.below(8))
        removed = None
        if not lasting and rng.random() < 0.35:
            end = issued + rng.between(YEAR, 8 * YEAR)
            if end < self.as_of - DAY:
                removed = end
        exp_at = removed + rng.below(90 * DAY) if removed else self.as_of + rng.between(30 * DAY, 5 * YEAR)
        year, month, month_end = _month_of(exp_at // DAY)
        return Card(number, brand, month, year, issued, month_end, removed)

    def wallet(self, rng: Rng, since: int) -> list[Card]:
        """The cards a person uses from `since` on: a chain of replacements, and sometimes a second card."""
        card = self.new_card(rng, since)
        cards = [card]
        while card.removed is not None:
            card = self.new_card(rng, card.removed - rng.below(30 * DAY))
            cards.append(card)
        for _ in range(_EXTRA_CARDS.one(rng)):
            cards.append(self.new_card(rng, rng.between(since, self.as_of)))
        return cards

    def person(self, rng: Rng) -> Person:
        """A new person with a first account time; the caller may adjust them before writing."""
        p = self.pools
        pid = self.next_pid
        self.next_pid += 1
        sex = "F" if rng.random() < 0.51 else "M"
        names = p.female if sex == "F" else p.male
        first = str(names.one(rng))
        middle = str(names.one(rng)) if rng.random() < 0.75 else None
        last = str(p.last.one(rng))
        age_days = int((18 + 62 * rng.betavariate(2.0, 3.0)) * 365.25)
        dob = self.as_of_date - timedelta(days=age_days)
        former_last = None
        if sex == "F" and age_days > 25 * 365 and rng.random() < 0.25:
            former_last = str(p.last.one(rng))
            if former_last == last:
                former_last = None
        home = self.random_addr(rng)
        former: list[Addr] = []
        moved_at = 0
        if rng.random() < 0.35:
            town = home.town if rng.random() < 0.4 else None
            former = [self.random_addr(rng, town)]
            moved_at = self.as_of - rng.between(30 * DAY, 12 * YEAR)
        first_account = self.as_of - int(15 * YEAR * rng.random() ** 1.3) - rng.between(DAY, 10 * DAY)
        times = [first_account]
        if rng.random() < 0.04:
            times.append(rng.between(first_account, self.as_of - DAY))
        emails = [self.email_for(rng, first, last, dob.year)]
        if len(times) > 1 or rng.random() < 0.1:
            emails.append(self.email_for(rng, first, former_last or last, dob.year))
        cards = self.wallet(rng, first_account)
        style = AddrStyle(
            abbreviate=rng.random() < 0.55, unit_form=str(_UNIT_FORMS.one(rng)), unit_in_line1=rng.random() < 0.1,
            zip4=f"{rng.between(1, 10000):04d}" if rng.random() < 0.05 else None, upper=rng.random() < 0.03,
        )
        name_how = _OWN_NAME.one(rng)
        return Person(
            pid, sex, first, middle, last, former_last, dob, self.ssns.next(), emails,
            self.phone_for(rng, home.town), int(_PHONE_STYLE.one(rng)), home, former, moved_at, style, cards,
            [self.new_device(rng) for _ in range(_DEVICES.one(rng))],
            [self.new_ip(rng) for _ in range(_IPS.one(rng))], times, name_how,
        )

    def typed_name(self, person: Person, rng: Rng, last: str | None = None) -> str:
        """The name as this person types it on their own accounts."""
        last = last or person.last
        text = name_text(person.first, person.middle, last, person.name_how, rng)
        return text or f"{person.first} {last}"

    # ------------------------------------------------------------ their own accounts

    def write_accounts(self, person: Person, sink: Sink, rng: Rng, agents: list[tuple[str, int, int]],
                       activity: float = 1.0, email_now: str | None = None, phone_now: str | None = None,
                       status: str | None = None) -> list[AccountRefs]:
        """Write each of the person's own accounts with their history; `activity` scales orders and logins."""
        refs = []
        for index, created in enumerate(person.account_times):
            email = person.emails[min(index, len(person.emails) - 1)]
            last = person.former_last if person.former_last and created < person.moved_at and rng.random() < 0.5 \
                else person.last
            name = self.typed_name(person, rng, last)
            phone = phone_text(person.phone, person.phone_style) if rng.random() < 0.75 else None
            if index == 0 and email_now:
                email = email_now
            if index == 0 and phone_now:
                phone = phone_now
            account_status = status if index == 0 and status else _STATUS.one(rng)
            ref = self._account(person, sink, rng, agents, created, name, email, phone, account_status,
                                activity if index == 0 else 0.4)
            person.account_ids.append(ref.account_id)
            refs.append(ref)
        return refs

    def _account(self, person: Person, sink: Sink, rng: Rng, agents: list[tuple[str, int, int]],
                 created: int, name: str, email: str, phone: str | None, status: str,
                 activity: float) -> AccountRefs:
        dob = person.dob.isoformat() if rng.random() < 0.55 else None
        account_id = sink.account(created, name, email, phone, dob, person.ips[0], person.devices[0], status)
        # Addresses: a former home (if the account predates the move) and the current one, each as the
        # shipping and the billing address, written the way this person writes addresses.
        homes: list[tuple[int, str, str]] = []  # (from time, shipping id, billing id)
        if person.former and created < person.moved_at:
            parts = render(person.former[-1], person.style)
            homes.append((created, sink.address(account_id, "shipping", name, parts, created),
                          sink.address(account_id, "billing", name, parts, created)))
        since = max(created, person.moved_at) if person.former else created
        parts = render(person.home, person.style)
        ship_id = sink.address(account_id, "shipping", name, parts, since)
        bill_id = sink.address(account_id, "billing", name, parts, since)
        homes.append((since, ship_id, bill_id))
        gift: tuple[int, str] | None = None
        if rng.random() < 0.12:
            other = self.random_addr(rng)
            recipient = f"{self.pools.female.one(rng) if rng.random() < 0.5 else self.pools.male.one(rng)} " \
                        f"{self.pools.last.one(rng)}"
            at = rng.between(created, self.as_of)
            gift = (at, sink.address(account_id, "shipping", recipient, render(other, person.style), at))

        def home_at(t: int) -> tuple[int, str, str]:
            current = homes[0]
            for home in homes:
                if t >= home[0]:
                    current = home
            return current

        pms: list[tuple[str, Card, int, int | None]] = []
        for card in person.cards:
            if card.removed is not None and card.removed <= created:
                continue
            added = max(card.issued, created) + rng.below(3600)
            if added >= self.as_of:
                continue
            removed = card.removed if card.removed is not None and card.removed > added else None
            pm_id = sink.payment_method(account_id, card.number, card.brand, card.exp_month, card.exp_year,
                                        name if rng.random() < 0.8 else person.legal_name, home_at(added)[2],
                                        added, removed)
            pms.append((pm_id, card, added, removed))
        if not pms:  # every account can pay: a fresh card at sign-up
            card = self.new_card(rng, created, lasting=True)
            person.cards.append(card)
            pm_id = sink.payment_method(account_id, card.number, card.brand, card.exp_month, card.exp_year, name,
                                        homes[0][2], created, card.removed)
            pms.append((pm_id, card, created, card.removed))
        years = (self.as_of - created) / YEAR
        order_ids = []
        for _ in range(poisson(rng, activity * 0.45 * years + 0.2)):
            t = rng.between(pms[0][2], self.as_of)
            usable = [pm for pm in pms if pm[2] <= t and pm[1].usable(t) and (pm[3] is None or t < pm[3])]
            if not usable:  # no card that could pay then: no order then
                continue
            pm = rng.pick(usable)
            _, ship, bill = home_at(t)
            if gift and t >= gift[0] and rng.random() < 0.15:
                ship = gift[1]
            order_ids.append(sink.order(account_id, t, self.order_status(rng, t), self.basket(rng), pm[0], ship,
                                        home_at(pm[2])[2] if rng.random() < 0.9 else bill,
                                        rng.pick(person.ips), rng.pick(person.devices)))
        # Logins are the most numerous rows: written inline. A person's own few devices and addresses recur.
        logins, next_id, ts, rand = sink.rows["logins"], sink.login_ids.next, sink.fmt.ts, rng.random
        ips, devices, span = person.ips, person.devices, self.as_of - created
        for _ in range(poisson(rng, activity * 0.7 * years + 0.5)):
            logins.append([next_id(), account_id, ts(created + int(rand() * span)), ips[int(rand() * len(ips))],
                           devices[int(rand() * len(devices))], rand() > 0.03])
        if order_ids and rng.random() < 0.1:
            for _ in range(rng.pick((1, 1, 2))):
                t = rng.between(created, self.as_of)
                body = rng.pick(HONEST_NOTES).format(order=rng.pick(order_ids))
                sink.note(account_id, t, self.agent_at(rng, agents, t), str(_CHANNELS.one(rng)), body)
        return AccountRefs(account_id, created, name, homes, [(pm[0], pm[1]) for pm in pms], order_ids)

    def order_status(self, rng: Rng, t: int) -> str:
        age = self.as_of - t
        if age < 2 * DAY:
            return rng.pick(("pending", "paid"))
        if age < 7 * DAY:
            return rng.pick(("paid", "shipped", "shipped"))
        return _OLD_ORDER.one(rng)

    def basket(self, rng: Rng, fraud: bool = False) -> list[tuple[str, str, int, int]]:
        products = self.pools.fraud_products if fraud else self.pools.products
        lines = []
        for _ in range(_LINE_COUNTS.one(rng)):
            product = products[int(rng.random() * len(products))]
            qty = 1 if rng.random() < 0.85 else 2 + int(rng.random() * 2)
            lines.append((product.sku, product.description, qty, product.price_cents))
        return lines

    @staticmethod
    def agent_at(rng: Rng, agents: list[tuple[str, int, int]], t: int) -> str | None:
        """An agent employed at time t (hired before, not yet left), by employee id."""
        if not agents:
            return None
        for _ in range(6):
            employee_id, hired, left = agents[rng.below(len(agents))]
            if hired <= t < left:
                return employee_id
        return agents[rng.below(len(agents))][0]

    def honest_application(self, person: Person, ref: AccountRefs, sink: Sink, rng: Rng) -> str:
        """A store card or financing application the person made themselves."""
        t = rng.between(ref.created, self.as_of)
        decision = _DECISION.one(rng) \
            if t < self.as_of - 3 * DAY else "pending"
        decided = t + rng.between(60, 3 * DAY) if decision != "pending" else None
        return sink.application(
            ref.account_id, rng.pick(("store_card", "store_card", "financing")), t, person.legal_name
            if rng.random() < 0.7 else f"{person.first} {person.last}", person.dob.isoformat(), person.ssn
            if rng.random() < 0.8 else person.ssn.replace("-", ""), person.emails[0],
            phone_text(person.phone, person.phone_style), render(person.address_at(t), person.style),
            rng.between(18_000, 250_000) * 100, decision, decided,
            rng.pick((500, 1000, 1500, 2500, 5000)) * 100 if decision == "approved" else None,
            rng.pick(person.ips), rng.pick(person.devices),
        )
