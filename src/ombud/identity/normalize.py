"""Normalisers for personal identifiers: pure functions, no database, no web framework.

Each normaliser turns what a person (or a thief) typed into a canonical form, so that two spellings of
the same identifier compare equal, and says nothing (returns None) when the text holds no usable value.
Postal addresses live in `ombud.identity.address`; everything here is re-exported for callers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jellyfish
import phonenumbers
from nicknames import NickNamer

from ombud.crypto import CardNumberError, card_digits, card_fingerprint
from ombud.retail.validate import WEAK_SSN_MARK, ssn_issuable, ssn_match_hash

# ---------------------------------------------------------------------------------------------- text

#: Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL_LETTERS = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ð": "d", "ı": "i"}
)
_APOSTROPHES = re.compile(r"['’`´ʼ‘]")
_NON_DIGITS = re.compile(r"\D")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: accents, apostrophes and punctuation dropped."""
    if text.isascii():  # the common case, without the Unicode work
        return _NOT_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).strip()
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_SPECIAL_LETTERS)
    text = _APOSTROPHES.sub("", text.lower())
    return _NOT_WORD.sub(" ", text).strip()


# --------------------------------------------------------------------------------------------- names

_TITLES = frozenset("mr mrs ms miss mx dr prof rev sir madam dame fr sra srta".split())  # noqa: SIM905
_SUFFIXES = frozenset("jr sr ii iii iv v md phd esq dds jnr snr".split())  # noqa: SIM905
#: Suffixes that name a generation, folded to one form each (Jnr = Jr).
_GENERATIONS = {"jr": "jr", "jnr": "jr", "sr": "sr", "snr": "sr", "ii": "ii", "iii": "iii", "iv": "iv", "v": "v"}
#: Words that belong to the surname that follows them ("van der Berg", "de la Cruz", "O Brien", "ter Horst").
#: Only as written, without accents: the Vietnamese middle names "Văn" and "Vân" and the surname "Lê" fold to
#: "van" and "le" but are names of their own, not particles (see `_join_particles`).
_PARTICLES = frozenset(
    "de del della der den di da das dos du la le van von vander vom zu zum zur ter ten st ste mac mc bin ibn al el".split()  # noqa: E501, SIM905
)


@dataclass(frozen=True, slots=True)
class PersonName:
    """A parsed personal name: given name, middle names, and the surname as one key plus its parts."""

    given: str
    middles: tuple[str, ...]
    surname: str
    surname_parts: tuple[str, ...]
    #: Generational suffix ("jr", "sr", "ii", "iii", "iv", "v"), "" when none was written. A father and a son
    #: with the same name differ only by it, and it is often left off: two different suffixes tell two
    #: people apart, a missing one says nothing.
    generation: str = ""

    @property
    def given_initial(self) -> bool:
        """True when the given name is only an initial."""
        return len(self.given) == 1

    def full(self) -> str:
        """The canonical full form, for display in tests and debugging."""
        return " ".join([self.given, *self.middles, self.surname]).strip()


def _join_particles(tokens: list[str], plain: list[bool]) -> tuple[list[str], str]:
    """Glue surname particles to the word after them: ['van', 'der', 'berg'] -> ['vanderberg'].

    Returns the tokens and the core of the glued surname ("berg"; "" when nothing was glued). A particle
    glues only when written as one (`plain`: no accents), when something follows it and it is not the given
    name itself. Written without accents, a particle may still be a middle name ("Ngoc Van Nguyen" is
    "Ngọc Văn Nguyễn"), and people drop particles ("Maria Cruz" for "Maria de la Cruz"): the core is kept as a
    part of the surname so that both still agree on it.
    """
    out: list[str] = []
    pending = ""
    core = ""
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        if token in _PARTICLES and plain[index] and 0 < index < last:
            pending += token
            continue
        if pending and index == last:
            core = token
        out.append(pending + token)
        pending = ""
    return out, core


@lru_cache(maxsize=131072)
def parse_name(text: str | None) -> PersonName | None:
    """Parse a full name ("Jane Q. Doe", "DOE, JANE", "Dr. José García-López Jr.") or None if empty."""
    if not text or not text.strip():
        return None
    raw = text.strip()
    if raw.count(",") == 1:
        last, first = (part.strip() for part in raw.split(","))
        if first and last and fold(first) not in _SUFFIXES:
            # "Doe, John Jr." puts the suffix after the given name: it belongs after the surname.
            given_words = first.split()
            suffix = given_words.pop() if len(given_words) > 1 and fold(given_words[-1]) in _SUFFIXES else ""
            raw = " ".join(p for p in (" ".join(given_words), last, suffix) if p)
    # Hyphens join parts of one surname; remember which words were hyphenated together.
    words = [w for w in re.split(r"\s+", raw) if w]
    tokens: list[str] = []
    plain: list[bool] = []  # the word written in plain ASCII letters (a particle can only be written so)
    hyphen_groups: list[tuple[str, ...]] = []
    for word in words:
        parts = [fold(p).replace(" ", "") for p in re.split(r"[-‐‑–]", word)]
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) > 1:
            hyphen_groups.append(tuple(parts))
        tokens.append("".join(parts))
        plain.append(_APOSTROPHES.sub("", word).isascii())
    while tokens and tokens[0] in _TITLES and len(tokens) > 1:
        tokens.pop(0)
        plain.pop(0)
    generation = ""
    while tokens and tokens[-1] in _SUFFIXES and len(tokens) > 1:
        suffix = tokens.pop()
        plain.pop()
        generation = generation or _GENERATIONS.get(suffix, "")
    if not tokens:
        return None
    tokens, core = _join_particles(tokens, plain)
    if len(tokens) == 1:
        return PersonName(given="", middles=(), surname=tokens[0], surname_parts=(tokens[0],), generation=generation)
    given, *middles, surname = tokens
    parts = next((group for group in hyphen_groups if "".join(group) == surname), (surname,))
    if core and core not in parts:
        parts = (*parts, core)
    return PersonName(given=given, middles=tuple(middles), surname=surname, surname_parts=tuple(parts),
                      generation=generation)


#: Short forms the `nicknames` dataset lacks, folded: short form -> the given names it stands for.
EXTRA_NICKNAMES: dict[str, tuple[str, ...]] = {
    "liam": ("william",), "robbie": ("robert",), "chas": ("charles",), "topher": ("christopher",),
    "xander": ("alexander",), "sasha": ("alexandra", "alexander"), "katie": ("katherine", "catherine", "kathleen"),
    "kate": ("katherine", "catherine", "kathleen"), "cat": ("catherine", "katherine"),
    "barb": ("barbara",), "terri": ("teresa", "theresa"), "terry": ("teresa", "theresa", "terence"),
    "maddie": ("madison", "madeline", "madeleine"), "tess": ("theresa", "teresa"),
}


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=65536)
def given_forms(given: str) -> frozenset[str]:
    """The canonical given names a (folded) given name may stand for, the name itself included.

    Uses the hand-curated `nicknames` dataset (Old Dominion University / Carlton Northern): "bill" ->
    {bill, william, will, ...}. Two given names are nickname variants when their forms intersect.
    """
    if len(given) < 2:
        return frozenset((given,)) if given else frozenset()
    return frozenset({given, *_nicknamer().canonicals_of(given), *EXTRA_NICKNAMES.get(given, ())})


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    """A phonetic key (metaphone) of a folded word; the word itself when it has no letters."""
    return jellyfish.metaphone(token) or token if token else ""


# -------------------------------------------------------------------------------------------- emails


@dataclass(frozen=True, slots=True)
class EmailRule:
    """How one mail provider reads the local part of its addresses."""

    ignores_dots: bool = False
    plus_tags: bool = True
    canonical_domain: str | None = None


#: Provider rules. Unlisted domains: dots kept, `+tag` ignored (the default of most mail servers).
EMAIL_RULES: dict[str, EmailRule] = {
    "gmail.com": EmailRule(ignores_dots=True, plus_tags=True),
    "googlemail.com": EmailRule(ignores_dots=True, plus_tags=True, canonical_domain="gmail.com"),
    "outlook.com": EmailRule(plus_tags=True),
    "hotmail.com": EmailRule(plus_tags=True),
    "live.com": EmailRule(plus_tags=True),
    "msn.com": EmailRule(plus_tags=True),
    "icloud.com": EmailRule(plus_tags=True),
    "me.com": EmailRule(plus_tags=True),
    "mac.com": EmailRule(plus_tags=True),
    "fastmail.com": EmailRule(plus_tags=True),
    "proton.me": EmailRule(plus_tags=True),
    "protonmail.com": EmailRule(plus_tags=True),
    # Yahoo and AOL have no plus addressing: "a+b@yahoo.com" is a different mailbox from "a@yahoo.com".
    "yahoo.com": EmailRule(plus_tags=False),
    "ymail.com": EmailRule(plus_tags=False),
    "aol.com": EmailRule(plus_tags=False),
}
_DEFAULT_EMAIL_RULE = EmailRule()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@lru_cache(maxsize=262144)
def normalize_email(text: str | None) -> str | None:
    """The mailbox an address reaches: lower case, provider rules for dots and `+tags`; None if not an email."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).strip().strip("<>").lower()
    if text.startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text):
        return None
    local, domain = text.rsplit("@", 1)
    domain = domain.rstrip(".")
    rule = EMAIL_RULES.get(domain, _DEFAULT_EMAIL_RULE)
    if rule.plus_tags and "+" in local[1:]:
        local = local[: local.index("+", 1)]
    if rule.ignores_dots:
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{rule.canonical_domain or domain}"


def email_local(email: str) -> str:
    """The local part of a normalised email, without dots (for cross-provider look-alikes)."""
    return email.rsplit("@", 1)[0].replace(".", "").replace("_", "")


# -------------------------------------------------------------------------------------------- phones


_PHONE_PUNCTUATION = re.compile(r"^\+?[\d\s().-]+$")


@lru_cache(maxsize=262144)
def normalize_phone(text: str | None, region: str = "US") -> str | None:
    """The number in E.164 (`+12025550143`), reading national numbers in `region`; None if not a number."""
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if region == "US" and _PHONE_PUNCTUATION.match(text):
        # North American numbers typed with punctuation only: the same answer as the library, much faster.
        digits = _NON_DIGITS.sub("", text)
        plus = text.lstrip().startswith("+")
        if len(digits) == 10 and not plus and digits[0] not in "01":
            return "+1" + digits
        if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
            return "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # Possible rather than valid: fictional numbers (555 exchanges) must still compare.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ------------------------------------------------------------------------------------- dates of birth

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_US = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class DateOfBirthError(ValueError):
    """The text is not a date of birth in a known format."""


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year > 25 else 2000
    return year


def parse_date_of_birth(value: str | date | None) -> date | None:
    """A date from ISO (1984-07-19), US (07/19/1984), compact (19840719) or "19 Jul 1984"/"July 19, 1984".

    US order (month first) is assumed for slashed dates unless the first number cannot be a month.
    Raises DateOfBirthError on text that is not a date; None for empty input.
    """
    if value is None or isinstance(value, date):
        return value
    text = value.strip().lower()
    if not text:
        return None
    try:
        if m := _ISO.match(text) or _COMPACT.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _US.match(text):
            first, second, year = int(m[1]), int(m[2]), _year(m[3])
            return date(year, first, second) if first <= 12 else date(year, second, first)
        words = [w for w in re.split(r"[\s,./-]+", text) if w]
        if len(words) == 3:
            month_word = next((w for w in words if w[:3] in _MONTHS and not w.isdigit()), None)
            numbers = [w.rstrip("stndrh") for w in words if w != month_word]
            if month_word and all(n.isdigit() for n in numbers):
                day_text, year_text = sorted(numbers, key=len)
                return date(_year(year_text), _MONTHS[month_word[:3]], int(day_text))
    except ValueError as exc:
        raise DateOfBirthError(f"{value!r} is not a valid date") from exc
    raise DateOfBirthError(f"{value!r} is not a date in a known format (use YYYY-MM-DD)")


def swapped_day_month(value: date) -> date | None:
    """The date with day and month exchanged, when that is a different valid date."""
    if value.day > 12 or value.day == value.month:
        return None
    return date(value.year, value.day, value.month)


def dob_transpositions(dates: object) -> set[date]:
    """Valid dates one adjacent-digit swap (of YYYYMMDD) away from any of these dates."""
    out: set[date] = set()
    for d in dates:  # type: ignore[attr-defined]
        text = d.strftime("%Y%m%d")
        for i in range(7):
            if text[i] == text[i + 1]:
                continue
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            try:
                out.add(date(int(swapped[:4]), int(swapped[4:6]), int(swapped[6:])))
            except ValueError:
                continue
    return out - set(dates)  # type: ignore[arg-type]


def dob_digit_typo(a: date, b: date) -> bool:
    """True when the two dates differ by a single mistyped or transposed digit (YYYYMMDD text)."""
    sa, sb = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    diffs = [i for i in range(8) if sa[i] != sb[i]]
    if len(diffs) == 1:
        # One digit of the year's decade or century changed: a generation apart (a father and a son born in
        # 1960 and 1980), not a slip. Transpositions (1984 and 1948) stay slips.
        return diffs[0] > 2
    if len(diffs) != 2 or diffs[1] != diffs[0] + 1:
        return False
    if len(diffs) != 2 or diffs[1] != diffs[0] + 1:
        return False
    i, j = diffs
    return sa[i] == sb[j] and sa[j] == sb[i]


# ---------------------------------------------------------------------------------------------- SSNs
_SSN_TEXT = re.compile(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")


class SSNError(ValueError):
    """The text is not a Social Security number."""


def normalize_ssn(text: str | None) -> str | None:
    """The nine digits of an SSN ("123-45-6789", "123 45 6789"); None if empty, SSNError if malformed.

    An unissuable number (area 000 or 666, group 00, serial 0000) is returned too, as the import keeps it:
    it is compared as weak evidence (`ssn_hash` marks it), never refused.
    """
    if text is None or not text.strip():
        return None
    if not _SSN_TEXT.match(text.strip()):
        raise SSNError("an SSN has nine digits (dashes and spaces allowed)")
    return _NON_DIGITS.sub("", text)


def ssn_hash(key: bytes, digits: str) -> str:
    """The keyed hash an SSN is compared by: the same one the import stores (`retail.validate.ssn_match_hash`);
    an unissuable number's hash carries the weak mark."""
    return ssn_match_hash(key, digits)


def ssn_is_weak(hashed: str) -> bool:
    """True for the hash of an unissuable SSN (a placeholder or a made-up number: weak evidence)."""
    return hashed.startswith(WEAK_SSN_MARK)


def ssn_transpositions(digits: str) -> list[str]:
    """The SSNs one adjacent-digit swap away (a common typing slip), without the original."""
    out = []
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
            out.append(swapped)
    return out


# --------------------------------------------------------------------------------------------- cards


def card_fingerprint_of(key: bytes, card_number: str) -> tuple[str, str]:
    """(keyed fingerprint, last four digits) of a card number: the fingerprint the import stores."""
    digits = card_digits(card_number)
    return card_fingerprint(key, digits), digits[-4:]


__all__ = [
    "EMAIL_RULES",
    "CardNumberError",
    "DateOfBirthError",
    "EmailRule",
    "PersonName",
    "SSNError",
    "card_fingerprint_of",
    "dob_digit_typo",
    "dob_transpositions",
    "email_local",
    "fold",
    "given_forms",
    "normalize_email",
    "normalize_phone",
    "normalize_ssn",
    "parse_date_of_birth",
    "parse_name",
    "phonetic",
    "ssn_hash",
    "ssn_is_weak",
    "ssn_issuable",
    "ssn_transpositions",
    "swapped_day_month",
]
