"""An independent identity-theft population for evaluating discovery: not the `ombud synth` code, not its data.

    .venv/bin/python benchmarks/evalpop.py --people 30000 --seed 101 --out DIR [--no-logins] [--messy 1.0]

Written apart from `ombud.synth` on purpose, so that discovery's figures can be measured on data its rules
and thresholds were never tuned on: other name sources (Faker's en_US, es_MX, en_IN, fr_FR, de_DE, vi_VN
locales, mixed the way a US customer base mixes them), other address shapes (Faker's streets and towns, full
state names as often as codes), other household structures and error rates, other fraud mechanics. Nothing
here imports from `ombud.synth`.

What it writes (the import format, CSV): accounts, addresses, payment_methods, orders, credit_applications,
logins (unless --no-logins), and `truth/victims.jsonl`, one line per victim:

    {"victim_id", "profile", "thin", "fraudulent_account_ids", "own_account_ids", "household_account_ids",
     "lookalike_account_ids", "cases": [{"kind", "account_id", "application_id"}]}

The hard cases it is made of:
- households: spouses (a married surname with the maiden name as a former name, or each keeping theirs),
  parents and grown children with the same first and last name (Jr./Sr./III, the suffix often left off),
  twins (same birth date and surname, other first names), room-mates; each member with their own accounts;
- the victim's own account with another victim's stolen card on it (a card-testing thief);
- victims' own accounts of every age, young ones included, with or without sign-in history;
- messy exports: regions or cities left out, suffixes dropped, impossible birth dates, a name missing;
- unissuable SSNs (area 000 or 666, group 00) on some people's files and profiles;
- thin profiles (only an email, or only a phone) which should get "not enough identifiers", not accusations.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from faker import Faker

AS_OF = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
LOCALES = (("en_US", 0.62), ("es_MX", 0.16), ("en_IN", 0.07), ("vi_VN", 0.05), ("fr_FR", 0.05), ("de_DE", 0.05))
STATES = {"CA": "California", "TX": "Texas", "FL": "Florida", "NY": "New York", "PA": "Pennsylvania",
          "IL": "Illinois", "OH": "Ohio", "GA": "Georgia", "NC": "North Carolina", "MI": "Michigan",
          "NJ": "New Jersey", "VA": "Virginia", "WA": "Washington", "AZ": "Arizona", "MA": "Massachusetts",
          "TN": "Tennessee", "IN": "Indiana", "MO": "Missouri", "MD": "Maryland", "WI": "Wisconsin",
          "CO": "Colorado", "MN": "Minnesota", "OR": "Oregon", "NV": "Nevada", "UT": "Utah"}
PROVIDERS = ("mailbox.example.com", "inbox.example.net", "post.example.org", "web.example.com", "example.net",
             "home.example.org")
# A short table of its own (not ombud.synth's): the forms a thief or a customer types instead of a name.
SHORT = {"William": "Bill", "Robert": "Rob", "Elizabeth": "Beth", "Katherine": "Kate", "Michael": "Mike",
         "Jennifer": "Jen", "Christopher": "Chris", "Daniel": "Dan", "Joseph": "Joe", "Thomas": "Tom",
         "Patricia": "Pat", "Margaret": "Peggy", "Richard": "Rick", "Anthony": "Tony", "Jessica": "Jess",
         "Samantha": "Sam", "Alexander": "Alex", "Rebecca": "Becky", "Nicholas": "Nick", "Jonathan": "Jon"}
SUFFIXES = ("Jr.", "Sr.", "II", "III")
TEST_BINS = ("400000", "401288", "510510", "520082", "601100", "371449")


@dataclass
class Person:
    pid: int
    household: int
    first: str
    middle: str | None
    last: str
    suffix: str | None
    maiden: str | None
    dob: date
    ssn: str
    emails: list[str]
    phone: str
    cards: list[str]
    devices: list[str]
    home: dict[str, str]
    previous: dict[str, str] | None
    account_ids: list[str] = field(default_factory=list)
    # account id -> (created, [address ids], [payment method ids])
    accounts: dict[str, tuple[datetime, list[str], list[str]]] = field(default_factory=dict)

    def name_forms(self) -> list[str]:
        """The names the person gives when searching: their name (with its suffix), a maiden name."""
        out = [" ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)]
        if self.maiden:
            out.append(" ".join(p for p in (self.first, self.middle, self.maiden) if p))
        return out


class Files:
    """CSV files in the import format, written row by row."""

    COLUMNS = {
        "accounts": ("account_id", "status", "created_at", "name", "email", "phone", "date_of_birth", "signup_ip",
                     "signup_device"),
        "addresses": ("address_id", "account_id", "kind", "name", "line1", "line2", "city", "region", "postal_code",
                      "country", "created_at"),
        "payment_methods": ("payment_method_id", "account_id", "card_number", "last4", "brand", "exp_month",
                            "exp_year", "cardholder_name", "billing_address_id", "added_at", "removed_at"),
        "orders": ("order_id", "account_id", "placed_at", "status", "currency", "total", "payment_method_id",
                   "ship_to_address_id", "billing_address_id", "ip", "device"),
        "credit_applications": ("application_id", "account_id", "product", "applied_at", "applicant_name",
                                "date_of_birth", "ssn", "email", "phone", "line1", "line2", "city", "region",
                                "postal_code", "country", "annual_income", "decision", "decided_at", "credit_limit",
                                "ip", "device"),
        "logins": ("login_id", "account_id", "at", "ip", "device", "success"),
    }

    def __init__(self, out: Path, logins: bool) -> None:
        # Sign-ins are always made (the same random stream either way) and written only when asked for.
        self.rows: dict[str, list[list[object]]] = {k: [] for k in self.COLUMNS}
        self.logins = logins
        self.counter = 0
        self.out = out

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:08d}"

    def add(self, kind: str, row: list[object]) -> None:
        self.rows[kind].append(row)

    def write(self, rng: random.Random) -> None:
        for kind, rows in self.rows.items():
            if kind == "logins" and not self.logins:
                continue
            if kind != "orders":
                rng.shuffle(rows)  # no position tells fraud apart
            with (self.out / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(self.COLUMNS[kind])
                writer.writerows(["" if v is None else v for v in row] for row in rows)


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


class Population:
    """People in households, their accounts, thieves, victims and the truth."""

    def __init__(self, seed: int, *, messy: float, logins: bool, out: Path) -> None:
        self.rng = random.Random(seed)
        self.fakers = {loc: Faker(loc) for loc, _ in LOCALES}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed * 31 + i)
        self.us = self.fakers["en_US"]
        self.messy = messy
        self.logins = logins
        self.files = Files(out, logins)
        self.people: list[Person] = []
        self.households: dict[int, list[Person]] = {}
        self.ssns: set[str] = set()
        self.emails: set[str] = set()
        self.pid = 0

    # ------------------------------------------------------------------------------------ identities

    def locale(self) -> str:
        r, acc = self.rng.random(), 0.0
        for loc, w in LOCALES:
            acc += w
            if r < acc:
                return loc
        return "en_US"

    def given(self, loc: str, sex: str) -> str:
        f = self.fakers[loc]
        return f.first_name_female() if sex == "F" else f.first_name_male()

    def address(self, state: str | None = None, town: tuple[str, str, str] | None = None) -> dict[str, str]:
        rng, us = self.rng, self.us
        if town is None:
            state = state or rng.choice(list(STATES))
            town = (us.city(), state, us.zipcode_in_state(state))
        street = f"{us.building_number()} {us.street_name()}"
        if rng.random() < 0.5:
            street = street.replace(" Street", " St").replace(" Avenue", " Ave").replace(" Road", " Rd")
        unit = ""
        if rng.random() < 0.35:
            unit = rng.choice(("Apt ", "Apt. ", "Unit ", "# ", "Suite ")) + str(rng.randint(1, 40)) + \
                rng.choice(("", "", "A", "B"))
        return {"line1": street, "line2": unit, "city": town[0], "region": town[1], "postal_code": town[2]}

    def ssn(self, unissuable: bool = False) -> str:
        while True:
            if unissuable:
                area = self.rng.choice(("000", "666", f"{self.rng.randint(100, 899):03d}"))
                group = "00" if area not in ("000", "666") else f"{self.rng.randint(1, 99):02d}"
            else:
                area, group = f"{self.rng.randint(900, 999)}", f"{self.rng.randint(1, 99):02d}"
            value = f"{area}-{group}-{self.rng.randint(1, 9999):04d}"
            if value not in self.ssns:
                self.ssns.add(value)
                return value

    def email(self, first: str, last: str, year: int) -> str:
        rng = self.rng
        import unicodedata

        def plain(s: str) -> str:
            return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isascii() and c.isalnum()).lower()

        for _ in range(50):
            form = rng.randrange(5)
            local = [f"{plain(first)}.{plain(last)}", f"{plain(first)[:1]}{plain(last)}{rng.randint(1, 99)}",
                     f"{plain(last)}{plain(first)[:2]}{year % 100:02d}", f"{plain(first)}{rng.randint(100, 9999)}",
                     self.us.user_name()][form]
            value = f"{local}@{rng.choice(PROVIDERS)}"
            if value not in self.emails:
                self.emails.add(value)
                return value
        raise RuntimeError("no free email")

    def phone(self) -> str:
        area = self.rng.randint(201, 989)
        number = f"{area}{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}"
        form = self.rng.randrange(4)
        return [number, f"({number[:3]}) {number[3:6]}-{number[6:]}", f"{number[:3]}-{number[3:6]}-{number[6:]}",
                f"+1 {number[:3]} {number[3:6]} {number[6:]}"][form]

    def card(self) -> str:
        prefix = self.rng.choice(TEST_BINS)
        return luhn_complete(prefix, 15 if prefix.startswith("37") else 16, self.rng)

    def person(self, household: int, home: dict[str, str], *, loc: str | None = None, sex: str | None = None,
               first: str | None = None, last: str | None = None, dob: date | None = None,
               suffix: str | None = None, maiden: str | None = None) -> Person:
        rng = self.rng
        loc = loc or self.locale()
        sex = sex or rng.choice("FM")
        first = first or self.given(loc, sex)
        last = last or self.fakers[loc].last_name()
        if dob is None:
            dob = (AS_OF - timedelta(days=int(365.25 * rng.uniform(19, 82)))).date()
        middle = self.given(loc, sex) if rng.random() < 0.55 else None
        self.pid += 1
        p = Person(self.pid, household, first, middle, last, suffix, maiden, dob,
                   self.ssn(unissuable=rng.random() < 0.01), [self.email(first, last, dob.year)], self.phone(),
                   [self.card() for _ in range(rng.choice((1, 1, 2, 3)))],
                   [f"{self.us.user_agent()[:60]}|{rng.getrandbits(40):010x}" for _ in range(rng.choice((1, 2)))],
                   home, self.address() if rng.random() < 0.25 else None)
        if rng.random() < 0.15:
            p.emails.append(self.email(first, maiden or last, dob.year))
        self.people.append(p)
        self.households.setdefault(household, []).append(p)
        return p

    # -------------------------------------------------------------------------------------- households

    def household(self, hid: int) -> None:
        rng = self.rng
        home = self.address()
        kind = rng.choices(("single", "couple", "family", "roommates", "generations"), (30, 24, 30, 10, 6))[0]
        loc = self.locale()
        if kind == "single":
            self.person(hid, home, loc=loc)
            return
        if kind == "roommates":
            for _ in range(rng.randint(2, 4)):
                self.person(hid, home)
            return
        surname = self.fakers[loc].last_name()
        husband = self.person(hid, home, loc=loc, sex="M", last=surname)
        takes = rng.random() < 0.7
        wife_maiden = self.fakers[loc].last_name()
        wife_dob = husband.dob + timedelta(days=rng.randint(-2500, 2500))
        wife_dob = min(wife_dob, (AS_OF - timedelta(days=int(365.25 * 19))).date())
        self.person(hid, home, loc=loc, sex="F", last=surname if takes else wife_maiden,
                    maiden=wife_maiden if takes else None, dob=wife_dob)
        if kind == "couple":
            return
        children = rng.choice((1, 1, 2, 2, 3))
        eldest = husband.dob + timedelta(days=int(365.25 * rng.uniform(21, 36)))
        limit = (AS_OF - timedelta(days=int(365.25 * 18.2))).date()
        if eldest > limit:
            eldest = limit - timedelta(days=rng.randint(0, 400))
        if kind == "generations" or rng.random() < 0.35:
            # A son with his father's first and last name: Jr. (III under a II), the suffix often left off.
            husband.suffix = "Sr." if rng.random() < 0.5 else None
            self.person(hid, home, loc=loc, sex="M", first=husband.first, last=surname, dob=eldest,
                        suffix="Jr." if kind != "generations" else "III")
            children -= 1
            if kind == "generations":
                husband.suffix = "Jr."
        twins = children >= 2 and rng.random() < 0.5
        for i in range(max(children, 0)):
            dob = eldest + timedelta(days=rng.randint(400, 3000)) if not (twins and i == 1) else self.people[-1].dob
            dob = min(dob, limit)
            self.person(hid, home, loc=loc, last=surname, dob=dob)

    # -------------------------------------------------------------------------------------- accounts

    def typed_name(self, p: Person, *, suffix_kept: float = 0.4) -> str:
        rng = self.rng
        first = p.first
        if rng.random() < 0.08 and first in SHORT:
            first = SHORT[first]
        parts = [first]
        if p.middle and rng.random() < 0.5:
            parts.append(p.middle if rng.random() < 0.5 else p.middle[0] + ".")
        parts.append(p.last)
        if p.suffix and rng.random() < suffix_kept:
            parts.append(p.suffix)
        text = " ".join(parts)
        r = rng.random()
        if r < 0.03:
            text = text.upper()
        elif r < 0.06:
            text = f"{p.last}, {first}"
        return text

    def messy_address(self, a: dict[str, str]) -> dict[str, str]:
        rng, out = self.rng, dict(a)
        if rng.random() < 0.5:
            out["region"] = STATES[a["region"]]
        if rng.random() < 0.06 * self.messy:
            out["region"] = ""
        if rng.random() < 0.03 * self.messy:
            out["city"] = ""
        if rng.random() < 0.02 * self.messy:
            out["postal_code"] = ""
        if out["line2"] and rng.random() < 0.3:
            out["line1"], out["line2"] = f"{out['line1']} {out['line2']}", ""
        return out

    def dob_text(self, p: Person) -> str | None:
        if self.rng.random() < 0.4:
            return None
        if self.rng.random() < 0.015 * self.messy:  # an impossible date
            return f"{p.dob.year}-02-{self.rng.choice((30, 31))}"
        return p.dob.isoformat()

    def add_address(self, aid: str, kind: str, name: str, a: dict[str, str], at: datetime) -> str:
        a = self.messy_address(a)
        ref = self.files.next_id("AD")
        self.files.add("addresses", [ref, aid, kind, name, a["line1"], a["line2"], a["city"], a["region"],
                                     a["postal_code"], "US", ts(at)])
        return ref

    def add_card(self, aid: str, number: str, holder: str, bill: str, at: datetime) -> str:
        ref = self.files.next_id("PM")
        brand = {"4": "visa", "5": "mastercard", "6": "discover", "3": "amex"}[number[0]]
        self.files.add("payment_methods", [ref, aid, number, number[-4:], brand, self.rng.randint(1, 12),
                                           AS_OF.year + self.rng.randint(1, 5), holder, bill, ts(at), None])
        return ref

    def add_logins(self, aid: str, devices: list[str], start: datetime, end: datetime, n: int,
                   failures: int = 0) -> None:
        span = max((end - start).total_seconds(), 60)
        for i in range(n + failures):
            at = start + timedelta(seconds=self.rng.random() * span)
            self.files.add("logins", [self.files.next_id("LG"), aid, ts(at), self.us.ipv4_public(),
                                      self.rng.choice(devices), "false" if i < failures else "true"])

    def add_orders(self, aid: str, pm: str, ship: str, bill: str, start: datetime, end: datetime, n: int,
                   devices: list[str]) -> None:
        span = max((end - start).total_seconds(), 60)
        for _ in range(n):
            at = start + timedelta(seconds=self.rng.random() * span)
            self.files.add("orders", [self.files.next_id("OR"), aid, ts(at), "delivered", "USD",
                                      f"{self.rng.uniform(5, 400):.2f}", pm, ship, bill, self.us.ipv4_public(),
                                      self.rng.choice(devices)])

    def own_account(self, p: Person, created: datetime | None = None) -> str:
        """One of the person's own accounts, with its history."""
        rng = self.rng
        if created is None:
            years = rng.choice((0.3, 0.7, 1.5, 3, 5, 8, 11)) * rng.uniform(0.7, 1.0)
            created = AS_OF - timedelta(days=int(365.25 * years))
        aid = self.files.next_id("AC")
        name = self.typed_name(p) if rng.random() > 0.008 * self.messy else ""
        email = p.emails[len(p.accounts) % len(p.emails)]
        phone = p.phone if rng.random() < 0.7 else None
        self.files.add("accounts", [aid, "active", ts(created), name, email, phone, self.dob_text(p),
                                    self.us.ipv4_public(), p.devices[0]])
        addresses, cards = [], []
        first_home = p.previous if p.previous and rng.random() < 0.5 else p.home
        ship = self.add_address(aid, "shipping", name, first_home, created)
        bill = self.add_address(aid, "billing", name, first_home, created)
        addresses += [ship, bill]
        if first_home is not p.home:
            moved = created + (AS_OF - created) * rng.uniform(0.2, 0.8)
            ship = self.add_address(aid, "shipping", name, p.home, moved)
            bill = self.add_address(aid, "billing", name, p.home, moved)
            addresses += [ship, bill]
        for i, number in enumerate(p.cards):
            at = created + timedelta(days=rng.randint(0, 20)) if i == 0 else \
                created + (AS_OF - created) * rng.uniform(0.1, 0.9)
            cards.append(self.add_card(aid, number, name or p.first + " " + p.last, bill, min(at, AS_OF)))
        years = (AS_OF - created).days / 365.25
        self.add_orders(aid, cards[0], ship, bill, created, AS_OF, max(1, int(rng.uniform(0.5, 3) * years)),
                        p.devices)
        self.add_logins(aid, p.devices, created, AS_OF, max(1, int(rng.uniform(1, 6) * years)),
                        failures=rng.choice((0, 0, 0, 1)))
        p.account_ids.append(aid)
        p.accounts[aid] = (created, addresses, cards)
        return aid

    # -------------------------------------------------------------------------------------- fraud

    def thief(self) -> Person:
        hid = 10_000_000 + self.pid
        t = self.person(hid, self.address())
        self.own_account(t, AS_OF - timedelta(days=self.rng.randint(500, 3000)))
        return t

    def fraud_new_account(self, v: Person, t: Person) -> str:
        rng = self.rng
        created = AS_OF - timedelta(days=rng.randint(5, 500))
        aid = self.files.next_id("AC")
        name = self.typed_name(v, suffix_kept=0.2)
        use_card, use_address, use_dob = (rng.random() < 0.55), (rng.random() < 0.6), (rng.random() < 0.75)
        if use_card + use_address + use_dob < 2:
            use_card, use_dob = True, True
        dob = v.dob.isoformat() if use_dob else None
        email = self.email(v.first, v.last + str(rng.randint(2, 99)), v.dob.year) if rng.random() < 0.6 \
            else t.emails[0] if rng.random() < 0.3 else self.email(t.first, t.last, t.dob.year)
        phone = t.phone if rng.random() < 0.5 else (v.phone if rng.random() < 0.15 else None)
        self.files.add("accounts", [aid, "active", ts(created), name, email, phone, dob, self.us.ipv4_public(),
                                    t.devices[0]])
        drop = t.home if rng.random() < 0.5 else self.address()
        ship = self.add_address(aid, "shipping", name, drop, created)
        bill = self.add_address(aid, "billing", name, v.home if use_address else drop, created)
        number = rng.choice(v.cards) if use_card else self.card()
        pm = self.add_card(aid, number, name, bill, created + timedelta(minutes=5))
        self.add_orders(aid, pm, ship, bill, created, min(created + timedelta(days=60), AS_OF), rng.randint(1, 5),
                        t.devices)
        self.add_logins(aid, t.devices, created, min(created + timedelta(days=60), AS_OF), rng.randint(1, 8))
        return aid

    def fraud_card_added(self, v: Person, t: Person) -> str:
        """The victim's card on the thief's own, long-standing account."""
        rng = self.rng
        aid = t.account_ids[0]
        _created, addresses, _ = t.accounts[aid]
        at = AS_OF - timedelta(days=rng.randint(5, 400))
        holder = self.typed_name(v) if rng.random() < 0.5 else f"{t.first} {t.last}"
        pm = self.add_card(aid, rng.choice(v.cards), holder, addresses[1], at)
        self.add_orders(aid, pm, addresses[0], addresses[1], at, min(at + timedelta(days=40), AS_OF),
                        rng.randint(1, 4), t.devices)
        return aid

    def fraud_application(self, v: Person, t: Person) -> tuple[str | None, str]:
        rng = self.rng
        at = AS_OF - timedelta(days=rng.randint(5, 500))
        aid = None
        if rng.random() < 0.5:
            aid = self.files.next_id("AC")
            name = self.typed_name(v, suffix_kept=0.2)
            self.files.add("accounts", [aid, "active", ts(at - timedelta(minutes=3)), name,
                                        self.email(v.first, v.last + "x", v.dob.year), t.phone, None,
                                        self.us.ipv4_public(), t.devices[0]])
            ship = self.add_address(aid, "shipping", name, t.home, at)
            self.add_address(aid, "billing", name, v.home, at)
            if self.logins:
                self.add_logins(aid, t.devices, at, min(at + timedelta(days=30), AS_OF), rng.randint(1, 4))
            del ship
        ssn = v.ssn
        if rng.random() < 0.06:
            digits = ssn.replace("-", "")
            i = rng.randint(0, 7)
            digits = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
            ssn = digits
        a = self.messy_address(v.home if rng.random() < 0.8 else t.home)
        dob = v.dob.isoformat() if rng.random() > 0.015 * self.messy else f"{v.dob.year}-02-30"
        app = self.files.next_id("CA")
        self.files.add("credit_applications", [
            app, aid, rng.choice(("store_card", "financing")), ts(at), self.typed_name(v, suffix_kept=0.3), dob,
            ssn, None, t.phone, a["line1"], a["line2"], a["city"], a["region"], a["postal_code"], "US",
            f"{rng.randint(20, 150) * 1000}.00", "approved" if rng.random() < 0.5 else "declined",
            ts(at + timedelta(minutes=2)), None, self.us.ipv4_public(), t.devices[0]])
        return aid, app

    def fraud_takeover(self, v: Person, t: Person) -> str:
        rng = self.rng
        aid = v.account_ids[0]
        created, addresses, cards = v.accounts[aid]
        at = max(AS_OF - timedelta(days=rng.randint(5, 200)), created + timedelta(days=30))
        # The account row shows the intruder's email: the retailer exports its current state.
        for row in self.files.rows["accounts"]:
            if row[0] == aid:
                row[4] = self.email(t.first, t.last, t.dob.year)
                if rng.random() < 0.4:
                    row[5] = t.phone
        ship = self.add_address(aid, "shipping", f"{t.first} {t.last}", t.home, at)
        self.add_orders(aid, cards[0], ship, addresses[1], at, min(at + timedelta(days=30), AS_OF),
                        rng.randint(1, 4), t.devices)
        self.add_logins(aid, t.devices, at, min(at + timedelta(days=30), AS_OF), rng.randint(1, 3),
                        failures=rng.randint(1, 4))
        return aid

    def stolen_card_on(self, owner: Person, victim: Person) -> str:
        """A card-testing thief puts `victim`'s card on `owner`'s genuine account (nothing else changes)."""
        rng = self.rng
        aid = owner.account_ids[0]
        created, addresses, _ = owner.accounts[aid]
        at = max(AS_OF - timedelta(days=rng.randint(3, 120)), created + timedelta(days=1))
        pm = self.add_card(aid, rng.choice(victim.cards), self.typed_name(victim), addresses[1], at)
        self.add_orders(aid, pm, addresses[0], addresses[1], at, min(at + timedelta(days=10), AS_OF), 1,
                        ["unknown device|" + f"{rng.getrandbits(40):010x}"])
        return aid

    # ------------------------------------------------------------------------------------ the run

    def build(self, people: int, victim_rate: float) -> list[dict[str, object]]:
        rng = self.rng
        hid = 0
        while len(self.people) < people:
            hid += 1
            self.household(hid)
        residents = list(self.people)
        for p in residents:
            self.own_account(p)
            if rng.random() < 0.05:
                self.own_account(p)
        # Namesakes elsewhere: some residents share a first and last name with someone in another town.
        thieves = [self.thief() for _ in range(max(1, int(len(residents) * victim_rate / 3)))]
        candidates = [p for p in residents if len(self.households[p.household]) >= 1]
        victims = rng.sample(candidates, int(len(residents) * victim_rate))
        truth = []
        fraud_of: dict[int, set[str]] = {}
        for n, v in enumerate(victims, 1):
            t = rng.choice(thieves)
            cases = []
            for kind in rng.sample(("new_account", "new_account", "card_added", "application", "takeover"),
                                   rng.choice((1, 1, 2))):
                if kind == "new_account":
                    cases.append({"kind": kind, "account_id": self.fraud_new_account(v, t), "application_id": None})
                elif kind == "card_added":
                    cases.append({"kind": kind, "account_id": self.fraud_card_added(v, t), "application_id": None})
                elif kind == "application":
                    aid, app = self.fraud_application(v, t)
                    cases.append({"kind": kind, "account_id": aid, "application_id": app})
                elif kind == "takeover":
                    cases.append({"kind": kind, "account_id": self.fraud_takeover(v, t), "application_id": None})
            fraud_of.setdefault(v.pid, set()).update(c["account_id"] for c in cases if c["account_id"])
            truth.append({"victim": v, "cases": cases, "n": n})
        # Class 2: some victims' stolen cards end up on another customer's genuine account (often another
        # victim's own); for that customer the account stays their own.
        for entry in rng.sample(truth, len(truth) // 8):
            v = entry["victim"]
            owner = rng.choice(residents if rng.random() < 0.5 else [e["victim"] for e in truth])
            if owner is v or owner.household == v.household:
                continue
            aid = self.stolen_card_on(owner, v)
            entry["cases"].append({"kind": "card_on_other_customer", "account_id": aid, "application_id": None})
            fraud_of.setdefault(v.pid, set()).add(aid)
        lines = []
        for entry in truth:
            v: Person = entry["victim"]  # type: ignore[no-redef]
            fraud = fraud_of.get(v.pid, set())
            household = [aid for m in self.households[v.household] if m is not v for aid in m.account_ids]
            profile = self.profile(v)
            thin = rng.random() < 0.04
            if thin:
                profile = {"emails": [v.emails[0]]} if rng.random() < 0.6 else {"phones": [v.phone]}
            lines.append({
                "victim_id": f"E{entry['n']:06d}", "profile": profile, "thin": thin,
                "fraudulent_account_ids": sorted(fraud),
                "own_account_ids": sorted(v.account_ids),
                "household_account_ids": sorted(set(household) - fraud),
                "lookalike_account_ids": sorted(set(household) - fraud),
                "cases": entry["cases"],
            })
        return lines

    def profile(self, v: Person) -> dict[str, object]:
        rng = self.rng
        out: dict[str, object] = {"names": v.name_forms()}
        out["emails"] = list(v.emails)
        if rng.random() < 0.85:
            out["phones"] = [v.phone]
        homes = [v.home] + ([v.previous] if v.previous else [])
        out["addresses"] = [{k: h[k] for k in ("line1", "line2", "city", "region", "postal_code") if h[k]}
                            for h in homes]
        out["date_of_birth"] = v.dob.isoformat()
        if rng.random() < 0.7:
            out["ssn"] = v.ssn
        out["card_numbers"] = list(v.cards)  # a victim knows their cards (without them a card case is unfindable)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--victim-rate", type=float, default=0.04)
    parser.add_argument("--messy", type=float, default=1.0, help="scale of export errors (0: a clean export)")
    parser.add_argument("--no-logins", action="store_true", help="a retailer that sends no sign-in history")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    (args.out / "truth").mkdir(parents=True)
    pop = Population(args.seed, messy=args.messy, logins=not args.no_logins, out=args.out)
    lines = pop.build(args.people, args.victim_rate)
    pop.files.write(random.Random(args.seed + 1))
    with (args.out / "truth" / "victims.jsonl").open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    counts = {k: len(v) for k, v in pop.files.rows.items()}
    print(json.dumps({"people": len(pop.people), "victims": len(lines), "rows": counts}))


if __name__ == "__main__":
    main()
