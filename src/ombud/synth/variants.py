"""How people (and thieves) write the same identifier differently: pure functions over strings.

Each function takes a seeded `random.Random` and returns the varied text, never the input unchanged
unless the identifier has no such variant (then it returns None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ombud.synth.data import DOTS_IGNORED, NICKNAMES, PLUS_TAGS, STREET_ABBREV
from ombud.synth.pools import Rng, Town

_KEYBOARD = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji", "v": "cfgb",
    "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}


def typo(text: str, rng: Rng) -> str:
    """One keyboard slip: adjacent letters swapped, a letter dropped, doubled, or a neighbouring key hit."""
    if len(text) < 3:
        return text + text[-1]
    for _ in range(8):
        i = rng.between(1, len(text) - 1)  # first letters are typed carefully; slips come later
        op = rng.below(4)
        if op == 0 and text[i] != text[i + 1]:
            out = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif op == 1:
            out = text[:i] + text[i + 1 :]
        elif op == 2:
            out = text[:i] + text[i] + text[i:]
        else:
            near = _KEYBOARD.get(text[i].lower())
            if not near:
                continue
            ch = rng.pick(near)
            out = text[:i] + (ch.upper() if text[i].isupper() else ch) + text[i + 1 :]
        if out != text:
            return out
    return text[:-1] + text[-1] * 2


def nickname(first: str, rng: Rng) -> str | None:
    """A common nickname for a given name, or None when it has none in the table."""
    options = NICKNAMES.get(first)
    return rng.pick(options) if options else None


def transpose_digits(digits: str, rng: Rng, start: int = 0) -> str | None:
    """Two adjacent different digits swapped (at or after `start`), or None when all are equal."""
    spots = [i for i in range(start, len(digits) - 1) if digits[i] != digits[i + 1] and digits[i].isdigit()
             and digits[i + 1].isdigit()]
    if not spots:
        return None
    i = rng.pick(spots)
    return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]


# ---------------------------------------------------------------- phones


def phone_text(digits10: str, style: int) -> str:
    """A ten-digit US number written in one of the ways people type it."""
    a, e, n = digits10[:3], digits10[3:6], digits10[6:]
    forms = (
        f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"{a}{e}{n}", f"+1 {a} {e} {n}", f"+1{a}{e}{n}",
        f"1-{a}-{e}-{n}", f"{a} {e} {n}", f"+1 ({a}) {e}-{n}",
    )
    return forms[style % len(forms)]


PHONE_STYLES = 9


# ---------------------------------------------------------------- dates of birth


def dob_transposed(dob: date, rng: Rng) -> date | None:
    """The date with two adjacent digits of its YYYYMMDD swapped, when that is still a plausible date."""
    text = dob.strftime("%Y%m%d")
    for _ in range(10):
        swapped = transpose_digits(text, rng, start=2)
        if swapped is None:
            return None
        try:
            out = date(int(swapped[:4]), int(swapped[4:6]), int(swapped[6:]))
        except ValueError:
            continue
        if out != dob and 1900 < out.year < 2015:
            return out
    return None


def dob_day_month_swapped(dob: date) -> date | None:
    """The date with day and month exchanged (the US/European confusion), when both are <= 12 and differ."""
    if dob.day > 12 or dob.day == dob.month:
        return None
    return date(dob.year, dob.day, dob.month)


# ---------------------------------------------------------------- emails


def mailbox(email: str) -> str:
    """The mailbox an address reaches, under the stand-in providers' rules (dots, +tags): the uniqueness key."""
    local, _, domain = email.lower().partition("@")
    if domain in PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_variant(email: str, how: str, rng: Rng, other_domain: str) -> str | None:
    """The address written another way: `dots`, `plus_tag`, `other_provider`, `case` or `typo`."""
    local, _, domain = email.partition("@")
    if how == "dots":
        if domain not in DOTS_IGNORED:
            return None
        plain = local.replace(".", "")
        if len(plain) < 4:
            return None
        cuts = sorted(rng.sample(range(1, len(plain)), rng.randint(1, 2)))
        pieces = [plain[a:b] for a, b in zip([0, *cuts], [*cuts, len(plain)], strict=True)]
        varied = ".".join(pieces)
        return None if varied == local else f"{varied}@{domain}"
    if how == "plus_tag":
        if domain not in PLUS_TAGS:
            return None
        return f"{local}+{rng.pick(('shop', 'orders', 'deals', 'amz', 'x', 'retail'))}@{domain}"
    if how == "other_provider":
        return None if other_domain == domain else f"{local}@{other_domain}"
    if how == "case":
        return f"{local.capitalize()}@{domain.capitalize()}"
    if how == "typo":
        return f"{typo(local, rng)}@{domain}"
    raise ValueError(how)


# ---------------------------------------------------------------- postal addresses


def fast_reduce(self: object) -> tuple[type, tuple[object, ...]]:
    """Pickle a slots dataclass as a constructor call: plans cross to worker processes several times faster."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)  # type: ignore[attr-defined]


@dataclass(slots=True)
class Addr:
    """A US street address in parts, so it can be written in any of the ways people write it."""

    number: str
    predir: str | None  # "North", ...
    street: str  # "Oak"
    stype: str  # "Street" (full form)
    unit: str | None  # "4B"
    town: Town
    postal: str  # 5-digit ZIP

    __reduce__ = fast_reduce

    def moved(self, **changes: object) -> Addr:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(slots=True)
class AddrStyle:
    """How one person writes addresses."""

    abbreviate: bool = False
    unit_form: str = "Apt"
    unit_in_line1: bool = False
    zip4: str | None = None
    upper: bool = False

    __reduce__ = fast_reduce


_DIR_ABBR = {"North": "N", "South": "S", "East": "E", "West": "W"}


def unit_text(unit: str, form: str) -> str:
    """`Apt 4B`, `#4B`, `Unit 4B`, ... as chosen."""
    return f"#{unit}" if form == "#" else f"{form} {unit}"


def render(addr: Addr, style: AddrStyle) -> tuple[str, str, str, str, str]:
    """The address as (line1, line2, city, region, postal_code) in this style."""
    predir = (_DIR_ABBR[addr.predir] if style.abbreviate else addr.predir) if addr.predir else None
    stype = STREET_ABBREV[addr.stype] if style.abbreviate else addr.stype
    line1 = " ".join(p for p in (addr.number, predir, addr.street, stype) if p)
    line2 = unit_text(addr.unit, style.unit_form) if addr.unit else ""
    if line2 and style.unit_in_line1:
        line1, line2 = f"{line1} {line2}", ""
    postal = f"{addr.postal}-{style.zip4}" if style.zip4 else addr.postal
    city = addr.town.city
    if style.upper:
        line1, line2, city = line1.upper(), line2.upper(), city.upper()
    return line1, line2, city, addr.town.state, postal


def canonical(addr: Addr) -> dict[str, str]:
    """The address as the person themselves would give it (full street type, `Apt`), profile shape."""
    line1, line2, city, region, postal = render(addr, AddrStyle())
    return {"line1": line1, "line2": line2, "city": city, "region": region, "postal_code": postal, "country": "US"}


ADDRESS_VARIATIONS = ("street_abbrev", "apartment_form", "unit_in_line1", "zip_plus4", "transposed:zip",
                      "typo:street", "case:address")


def vary_address(addr: Addr, base: AddrStyle, how: str, rng: Rng) -> tuple[Addr, AddrStyle] | None:
    """The address written differently in one way (see ADDRESS_VARIATIONS), or None when not applicable."""
    if how == "street_abbrev":
        return addr, replace(base, abbreviate=not base.abbreviate)
    if how == "apartment_form":
        if not addr.unit:
            return None
        form = rng.pick([f for f in ("#", "Unit", "Apartment", "Apt.", "APT") if f != base.unit_form])
        return addr, replace(base, unit_form=form)
    if how == "unit_in_line1":
        return (addr, replace(base, unit_in_line1=True)) if addr.unit and not base.unit_in_line1 else None
    if how == "zip_plus4":
        return addr, replace(base, zip4=f"{rng.between(1, 10000):04d}")
    if how == "transposed:zip":
        swapped = transpose_digits(addr.postal, rng, start=2)
        return (addr.moved(postal=swapped), base) if swapped else None
    if how == "typo:street":
        return addr.moved(street=typo(addr.street, rng)), base
    if how == "case:address":
        return addr, replace(base, upper=True)
    raise ValueError(how)


# ---------------------------------------------------------------- names

NAME_VARIATIONS = ("nickname", "initial", "typo:name", "name_order", "case:name", "middle_initial")


def name_text(first: str, middle: str | None, last: str, how: str | None, rng: Rng) -> str | None:
    """A full name as typed, varied one way (see NAME_VARIATIONS) or plain when `how` is None."""
    if how is None:
        return f"{first} {last}"
    if how == "nickname":
        nick = nickname(first, rng)
        return f"{nick} {last}" if nick else None
    if how == "initial":
        return f"{first[0]}{rng.pick(('.', '', '.'))} {last}"
    if how == "typo:name":
        return f"{typo(first, rng)} {last}" if rng.random() < 0.5 else f"{first} {typo(last, rng)}"
    if how == "name_order":
        return f"{last}, {first}" if rng.random() < 0.7 else f"{last} {first}"
    if how == "case:name":
        return f"{first} {last}".upper() if rng.random() < 0.7 else f"{first} {last}".lower()
    if how == "middle_initial":
        return f"{first} {middle[0]}. {last}" if middle else None
    raise ValueError(how)
