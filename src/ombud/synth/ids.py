"""Identifiers that are unique by construction: record ids, SSNs in never-issued ranges, test-range cards.

Each is a counter passed through a keyed permutation of its space, so values look random, never repeat
within a run, and reveal nothing of the order in which rows were generated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

#: Test BIN prefixes published by card networks and processors for testing; never a real issuer's card.
TEST_BINS: dict[str, tuple[str, ...]] = {
    "visa": ("411111", "424242", "400005", "401288", "400000"),
    "mastercard": ("555555", "510510", "222300", "520082", "545454"),
    "amex": ("378282", "371449", "378734", "340000"),
    "discover": ("601111", "601100", "644564", "650000"),
}
CARD_LENGTH = {"visa": 16, "mastercard": 16, "amex": 15, "discover": 16}


class Permuter:
    """A keyed pseudo-random permutation of 0..modulus-1.

    An invertible mix of the next power of two (add a key, xor-shift, multiply by an odd constant), walked
    until it lands back inside the range ("cycle walking"), which keeps it a bijection of the range.
    """

    __slots__ = ("bits", "key", "mask", "modulus", "mult1", "mult2")

    def __init__(self, modulus: int, multiplier: int, seed: int) -> None:
        self.modulus = modulus
        self.bits = max(8, (modulus - 1).bit_length())
        self.mask = (1 << self.bits) - 1
        self.key = (seed * 0x9E3779B97F4A7C15 + multiplier) & self.mask
        self.mult1 = (0xBF58476D1CE4E5B9 ^ multiplier) | 1
        self.mult2 = 0x94D049BB133111EB | 1

    def __call__(self, counter: int) -> int:
        if counter >= self.modulus:
            raise ValueError("identifier space exhausted")
        x, mask, bits, key, modulus = counter, self.mask, self.bits, self.key, self.modulus
        m1, m2, s1, s2, s3 = self.mult1, self.mult2, bits // 2, bits // 3 + 1, bits // 2 + 1
        while True:
            x = (x + key) & mask
            x ^= x >> s1
            x = (x * m1) & mask
            x ^= x >> s2
            x = (x * m2) & mask
            x ^= x >> s3
            if x < modulus:
                return x


class IdMaker:
    """Makes ids of one kind: a prefix and a fixed number of digits."""

    __slots__ = ("counter", "digits", "perm", "prefix")

    def __init__(self, prefix: str, digits: int, multiplier: int, seed: int, start: int = 0,
                 scramble: bool = True) -> None:
        """`scramble=False` gives plain sequence numbers (for event rows nobody looks up by number)."""
        self.prefix = prefix
        self.digits = digits
        self.perm = Permuter(10**digits, multiplier, seed) if scramble else None
        self.counter = start

    def next(self) -> str:
        value = self.perm(self.counter) if self.perm is not None else self.counter
        self.counter += 1
        return self.prefix + str(value).zfill(self.digits)


class OrderIdMaker(IdMaker):
    """Order numbers in the familiar three-part form, e.g. 112-4829103-5520917."""

    def __init__(self, seed: int, start: int = 0) -> None:
        super().__init__("", 17, 7_777_777_777_777, seed, start)

    def next(self) -> str:
        text = super().next()
        return f"{text[:3]}-{text[3:10]}-{text[10:]}"


# SSN space outside what the SSA issues: area 900-999 (never issued as SSNs), group 01-99, serial 0001-9999.
_SSN_SPACE = 100 * 99 * 9999


class SsnMaker:
    """Unique SSNs in the never-issued 9xx area range."""

    def __init__(self, seed: int) -> None:
        self.perm = Permuter(_SSN_SPACE, 48271, seed)
        self.counter = 0

    def next(self) -> str:
        value = self.perm(self.counter)
        self.counter += 1
        area, rest = divmod(value, 99 * 9999)
        group, serial = divmod(rest, 9999)
        return f"{900 + area:03d}-{group + 1:02d}-{serial + 1:04d}"


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body + digit` pass the Luhn checksum."""
    digits = [ord(c) - 48 for c in reversed(body)]
    # Once the check digit is appended, the body's last digit and every second one before it are doubled.
    total = sum(_DOUBLED[d] for d in digits[0::2]) + sum(digits[1::2])
    return str((10 - total % 10) % 10)


#: Card counters below this are for people's own cards (made while planning); chunks' writers make the few
#: other cards (prepaid cards bought by thieves) from CARD_CHUNK_STRIDE-wide ranges above it.
CARD_WRITER_BASE = 90_000_000
CARD_CHUNK_STRIDE = 1_000


class CardMaker:
    """Unique Luhn-valid card numbers on test BIN prefixes, per brand (up to 10^8 cards a run)."""

    def __init__(self, seed: int, start: int = 0) -> None:
        self.perm16 = Permuter(10**9, 1_000_003, seed)
        self.perm15 = Permuter(10**8, 9_999_991, seed)
        self.counter = start
        self.limit = CARD_WRITER_BASE

    def next(self, brand: str, bin_index: int) -> str:
        if self.counter >= self.limit:
            raise ValueError("card number range exhausted")
        bins = TEST_BINS[brand]
        prefix = bins[bin_index % len(bins)]
        if CARD_LENGTH[brand] == 15:
            body = f"{prefix}{self.perm15(self.counter):08d}"
        else:
            body = f"{prefix}{self.perm16(self.counter):09d}"
        self.counter += 1
        return body + luhn_check_digit(body)


_EPOCH = date(1970, 1, 1)


_CLOCK = tuple(f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60))


class TimeFormat:
    """Formats epoch seconds as ISO 8601 UTC quickly, caching each day's text."""

    __slots__ = ("_days",)

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, day_number: int) -> str:
        text = self._days.get(day_number)
        if text is None:
            text = (_EPOCH + timedelta(days=day_number)).isoformat()
            self._days[day_number] = text
        return text

    def ts(self, seconds: int) -> str:
        d, s = divmod(seconds, 86400)
        text = self._days.get(d)
        if text is None:
            text = self.day(d)
        return text + _CLOCK[s]


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970 of an aware datetime."""
    return int(moment.astimezone(UTC).timestamp())


def money(cents: int) -> str:
    """Cents as a decimal amount with two places."""
    return f"{cents // 100}.{cents % 100:02d}"
