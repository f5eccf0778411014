"""Fellegi–Sunter scoring of a profile against an indexed record, with term-frequency adjustment and an
explanation of every comparison. Pure: no database.

Each comparison (given name, surname, date of birth, SSN, email, phone, address, card) takes the best
level over all pairs of values (a profile has several names and addresses, so does an account). Level
ℓ of comparison c contributes the match weight log2(m/u): m = P(level | the record used this identity),
u = P(level | it did not). Exact agreement on a name, surname, ZIP or city uses the value's own
frequency as u (term-frequency adjustment), so "Smith" counts for less than "Szczepański". The sum of
weights plus the prior log-odds gives the match probability. A card fingerprint or SSN hash that agrees
exactly is a hard link: the record holds the person's own card or SSN, whatever name it is under.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from ombud.identity.address import PostalAddress
from ombud.identity.calibration import platt
from ombud.identity.normalize import PersonName, dob_digit_typo, email_local, given_forms, phonetic, ssn_is_weak
from ombud.identity.record import Identity

# ------------------------------------------------------------------------------------------- levels

#: Comparison -> its levels, strongest first, each with its kind (what an agent reads: exact, variant,
#: fuzzy, partial or mismatch) and the level's default (m, u) before `ombud identity train`.
LEVELS: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "given_name": (
        ("exact", "exact", 0.72, 0.005),
        ("nickname", "variant", 0.08, 0.002),
        ("fuzzy", "fuzzy", 0.06, 0.003),
        ("initial", "variant", 0.03, 0.01),
        ("alone", "partial", 0.02, 0.02),
        ("mismatch", "mismatch", 0.03, 0.96),
    ),
    "surname": (
        ("exact", "exact", 0.74, 0.002),
        ("part", "variant", 0.05, 0.0005),
        ("fuzzy", "fuzzy", 0.07, 0.002),
        ("alone", "partial", 0.01, 0.004),
        # One record's surname is the other's first name (the two fields swapped) and the other name differs:
        # a swap together with a changed or mistyped name. People who live together share the surname in the
        # surname field, so a household never shows this; by chance it takes a surname that is also a first
        # name, or a letter from one (James, Thomas; Williams, Davis), on one side.
        ("crossed", "variant", 0.003, 0.0015),
        ("mismatch", "mismatch", 0.04, 0.99),
    ),
    "middle_name": (
        ("exact", "exact", 0.6, 0.03),
        ("initial", "variant", 0.37, 0.1),
        ("mismatch", "mismatch", 0.03, 0.87),
    ),
    "date_of_birth": (
        ("exact", "exact", 0.82, 4e-5),
        ("swapped", "variant", 0.03, 4e-5),
        ("typo", "fuzzy", 0.07, 6e-4),
        ("mismatch", "mismatch", 0.08, 0.9993),
    ),
    "ssn": (
        ("exact", "exact", 0.92, 1e-10),
        ("transposed", "fuzzy", 0.05, 1e-9),
        # An unissuable number (000-, 666-, group 00) on both sides: placeholders and made-up numbers repeat.
        ("unissuable", "partial", 0.01, 1e-4),
        ("mismatch", "mismatch", 0.02, 1.0),
    ),
    "email": (
        ("exact", "exact", 0.55, 1e-8),
        ("fuzzy", "fuzzy", 0.12, 2e-3),
        ("other_domain", "variant", 0.05, 5e-3),
        ("mismatch", "mismatch", 0.28, 1.0),
    ),
    "phone": (
        ("exact", "exact", 0.6, 1e-7),
        ("typo", "fuzzy", 0.08, 3e-6),
        ("mismatch", "mismatch", 0.32, 1.0),
    ),
    "address": (
        ("exact", "exact", 0.55, 5e-6),
        ("unit_missing", "variant", 0.08, 2e-6),
        ("other_unit", "partial", 0.02, 2e-5),
        ("fuzzy", "fuzzy", 0.06, 5e-6),
        ("zip", "partial", 0.06, 3e-4),
        ("city", "partial", 0.04, 3e-3),
        ("mismatch", "mismatch", 0.19, 0.9966),
    ),
    "card": (
        ("exact", "exact", 0.5, 1e-10),
        ("mismatch", "mismatch", 0.5, 1.0),
    ),
}
COMPARISONS = tuple(LEVELS)
LEVEL_NAMES = {c: tuple(level[0] for level in levels) for c, levels in LEVELS.items()}
LEVEL_KIND = {(c, level[0]): level[1] for c, levels in LEVELS.items() for level in levels}

#: (comparison, level) -> term-frequency table it is adjusted by.
TF_LEVELS = {
    ("given_name", "exact"): "given",
    ("surname", "exact"): "surname",
    ("address", "exact"): "address",
    ("address", "unit_missing"): "address",
    ("address", "zip"): "zip",
    ("address", "city"): "city",
}
#: Levels that link a record on their own (the person's own card or SSN is on it).
HARD_LINKS = frozenset({("card", "exact"), ("ssn", "exact")})
HARD_LINK_LOG2_ODDS = 12.0  # P = 0.99976: only a data-entry error or a family member's card stands against it

#: Calibration of probabilities: Platt scaling of the log2 odds, fitted on labelled candidate pairs of the
#: synthetic retailer with households (`benchmarks/fit_identity_calibration.py`), never on evaluation data.
#: (slope, intercept) for records without a hard link, then for records with one (the person's card or SSN).
CALIBRATION = (0.4818, -9.7908, 0.0, 8.0130)

_GIVEN_FUZZY = 0.88
_SURNAME_FUZZY = 0.90
_STREET_FUZZY = 0.85


@dataclass
class Model:
    """Parameters of the scorer: per-level (m, u), the prior, and term-frequency floors."""

    params: dict[str, dict[str, tuple[float, float]]]
    links_per_identity: float = 3.0
    n_records: int = 100_000
    tf_floor: float = 2e-6
    trained: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    #: Calibration of probabilities on log2 odds (see `calibration.py`): (slope, intercept) without a hard
    #: link, then with one.
    calibration: tuple[float, float, float, float] = CALIBRATION

    def probability(self, log2_odds: float, hard_link: bool = False) -> float:
        """The calibrated probability that a record with these log2 odds used the identity."""
        a, b, ha, hb = self.calibration
        return platt(log2_odds, ha, hb) if hard_link else platt(log2_odds, a, b)

    @classmethod
    def default(cls, n_records: int = 100_000) -> Model:
        """The untrained model: the documented defaults."""
        params = {c: {name: (m, u) for name, _kind, m, u in levels} for c, levels in LEVELS.items()}
        return cls(params=params, n_records=max(n_records, 1))

    @property
    def prior_log2_odds(self) -> float:
        """log2 odds that a record in the index used a given identity, before any comparison."""
        p = min(self.links_per_identity / max(self.n_records, 1), 0.5)
        return math.log2(p / (1 - p))

    def weight(self, comparison: str, level: str, tf: float | None = None) -> float:
        """log2(m/u) of a level; `tf` (a value's frequency) replaces u where the level is TF-adjusted."""
        m, u = self.params[comparison][level]
        if tf is not None and (comparison, level) in TF_LEVELS:
            u = max(tf, self.tf_floor)
        return math.log2(max(m, 1e-12) / max(u, 1e-15))

    def to_json(self) -> dict[str, Any]:
        return {
            "params": {c: {lv: list(mu) for lv, mu in levels.items()} for c, levels in self.params.items()},
            "links_per_identity": self.links_per_identity,
            "n_records": self.n_records,
            "tf_floor": self.tf_floor,
            "trained": self.trained,
            "info": self.info,
            "calibration": list(self.calibration),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        base = cls.default()
        params = {c: dict(levels) for c, levels in base.params.items()}
        for comparison, levels in data.get("params", {}).items():
            for level, mu in levels.items():
                if comparison in params and level in params[comparison]:
                    params[comparison][level] = (float(mu[0]), float(mu[1]))
        return cls(
            params=params,
            links_per_identity=float(data.get("links_per_identity", base.links_per_identity)),
            n_records=int(data.get("n_records", base.n_records)),
            tf_floor=float(data.get("tf_floor", base.tf_floor)),
            trained=bool(data.get("trained", False)),
            info=dict(data.get("info", {})),
            calibration=tuple(data.get("calibration", CALIBRATION)),  # type: ignore[arg-type]
        )


# ----------------------------------------------------------------------------------- comparisons


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one comparison came out: the level, and which values on each side produced it."""

    comparison: str
    level: str
    left_refs: tuple[str, ...] = ()
    right_refs: tuple[str, ...] = ()
    note: str = ""
    tf_key: str | None = None  # the agreeing value, for term-frequency look-up


def given_level(a: str, b: str) -> tuple[str, str]:
    if not a or not b:
        return "", ""
    if a == b:
        return ("exact", "") if len(a) > 1 else ("initial", "initial")
    if len(a) == 1 or len(b) == 1:
        return ("initial", "initial") if a[0] == b[0] else ("mismatch", "")
    if given_forms(a) & given_forms(b):
        return "nickname", "nickname or short form"
    short, full = (a, b) if len(a) < len(b) else (b, a)
    if len(short) >= 3 and full.startswith(short):
        return "nickname", "nickname or short form"
    if JaroWinkler.normalized_similarity(a, b) >= _GIVEN_FUZZY:
        return "fuzzy", "spelling differs"
    return "mismatch", ""


def surname_level(a: PersonName, b: PersonName) -> tuple[str, str]:
    if not a.surname or not b.surname:
        return "", ""
    if a.surname == b.surname:
        return "exact", ""
    a_parts, b_parts = set(a.surname_parts), set(b.surname_parts)
    if a_parts & b_parts or a.surname in b.middles or b.surname in a.middles:
        return "part", "one part of a double or hyphenated surname"
    if JaroWinkler.normalized_similarity(a.surname, b.surname) >= _SURNAME_FUZZY or (
        min(len(a.surname), len(b.surname)) >= 4 and phonetic(a.surname) == phonetic(b.surname)
    ):
        return "fuzzy", "spelling differs"
    return "mismatch", ""


_AGREE = frozenset({"exact", "nickname", "fuzzy", "initial", "part"})


def _typed_alike(a: str, b: str) -> bool:
    """The same name, or one typing slip apart (a letter missed, added, changed, or two swapped)."""
    return a == b or (min(len(a), len(b)) >= 4 and OSA.distance(a, b) <= 1)


def middle_level(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str]:
    """Middle names: the first of each side compared; missing when either side has none."""
    if not a or not b:
        return "", ""
    x, y = a[0], b[0]
    if x == y and len(x) > 1:
        return "exact", ""
    if x[0] == y[0] and (len(x) == 1 or len(y) == 1):
        return "initial", "middle initial"
    if len(x) > 1 and len(y) > 1 and JaroWinkler.normalized_similarity(x, y) >= _GIVEN_FUZZY:
        return "exact", "spelling differs"
    return "mismatch", ""


def generations_differ(a: PersonName, b: PersonName) -> bool:
    """Both names carry a generational suffix and they differ (Jr. and Sr., II and III): two people."""
    return bool(a.generation and b.generation) and _GEN.get(a.generation, a.generation) != _GEN.get(
        b.generation, b.generation)


_GEN = {"ii": "jr"}


def _name_pair(a: PersonName, b: PersonName) -> list[tuple[str, str, str, str, str, str]]:
    """Candidate (given, note, surname, note, middle, note) readings of one pair of names."""
    g, g_note = given_level(a.given, b.given)
    if g and generations_differ(a, b):
        g, g_note = "mismatch", "another generation (Jr./Sr.)"
    s, s_note = surname_level(a, b)
    # A surname without the first name (a relative, a namesake) or a first name without the surname
    # says little: these "alone" levels keep the two from being counted as independent evidence.
    if g in _AGREE and s == "mismatch":
        g, g_note = "alone", "first name only"
    if s in _AGREE and g == "mismatch":
        s, s_note = "alone", "last name only"
    m, m_note = middle_level(a.middles, b.middles)
    out = [(g, g_note, s, s_note, m, m_note)]
    if a.given and b.given and len(a.given) > 1 and len(b.given) > 1:
        sg, _ = given_level(a.given, b.surname)
        gs, _ = given_level(a.surname, b.given)
        if sg in ("exact", "fuzzy") and gs in ("exact", "fuzzy"):
            note = "first and last name swapped"
            out.append(("nickname", note, "part", note, "", ""))
        elif g == s == "mismatch" and (_typed_alike(a.given, b.surname) or _typed_alike(a.surname, b.given)):
            # Only the same name or a slip of it: given-name tolerance (nicknames, prefixes) would read a
            # patronymic surname as its first name (John and Johnson, William and Williams).
            note = "a name entered in the other name field, the other name differs"
            out.append(("mismatch", "", "crossed", note, "", ""))
    return out


def compare_names(
    left: Mapping[PersonName, list[str]], right: Mapping[PersonName, list[str]], model: Model
) -> tuple[Outcome, Outcome, Outcome]:
    """The best-agreeing pair of names: given name, surname (swapped order allowed) and middle name."""
    best: tuple[float, Outcome, Outcome, Outcome] | None = None
    for a, a_refs in left.items():
        for b, b_refs in right.items():
            for g, g_note, s, s_note, m, m_note in _name_pair(a, b):
                total = sum(model.weight(c, lv) for c, lv in (("given_name", g), ("surname", s), ("middle_name", m))
                            if lv)
                if best is None or total > best[0]:
                    lr, rr = tuple(a_refs), tuple(b_refs)
                    best = (
                        total,
                        Outcome("given_name", g or "missing", lr, rr, g_note, a.given if g == "exact" else None),
                        Outcome("surname", s or "missing", lr, rr, s_note, a.surname if s == "exact" else None),
                        Outcome("middle_name", m or "missing", lr if m else (), rr if m else (), m_note),
                    )
    if best is None:
        return Outcome("given_name", "missing"), Outcome("surname", "missing"), Outcome("middle_name", "missing")
    return best[1], best[2], best[3]


def _dob_level(a: date, b: date) -> tuple[str, str]:
    if a == b:
        return "exact", ""
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return "swapped", "day and month swapped"
    if dob_digit_typo(a, b):
        return "typo", "one digit mistyped or two swapped"
    return "mismatch", ""


def _email_level(a: str, b: str) -> tuple[str, str]:
    if a == b:
        return "exact", ""
    a_local, a_domain = a.rsplit("@", 1)
    b_local, b_domain = b.rsplit("@", 1)
    if (a_domain == b_domain and min(len(a_local), len(b_local)) >= 5 and OSA.distance(a_local, b_local) <= 1
            and _letters(a_local) != _letters(b_local)):
        # Addresses that differ only in their numbers ("jsmith71", "jsmith84") belong to namesakes.
        return "fuzzy", "same provider, address differs slightly"
    la, lb = email_local(a), email_local(b)
    if la == lb and len(la) >= 6:
        return "other_domain", "same name at another provider"
    return "mismatch", ""


def _letters(text: str) -> str:
    return "".join(ch for ch in text if not ch.isdigit())


def _phone_level(a: str, b: str) -> tuple[str, str]:
    if a == b:
        return "exact", ""
    if len(a) == len(b) and OSA.distance(a, b) == 1:
        return "typo", "one digit mistyped or two swapped"
    return "mismatch", ""


def address_level(a: PostalAddress, b: PostalAddress) -> tuple[str, str]:
    if a.key == b.key and a.number:
        if a.unit == b.unit:
            return "exact", ""
        if not a.unit or not b.unit:
            return "unit_missing", "same building, apartment not given on one side"
        return "other_unit", "same building, another apartment"
    if a.zip5 and a.zip5 == b.zip5:
        if a.number and a.number == b.number and (
            JaroWinkler.normalized_similarity(a.name, b.name) >= _STREET_FUZZY
            or (a.unit == b.unit and OSA.distance(a.name, b.name) <= 1)
        ):
            return "fuzzy", "street name spelled differently"
        if a.street == b.street and a.number and b.number and OSA.distance(a.number, b.number) == 1:
            return "fuzzy", "house number mistyped"
        return "zip", "same ZIP code, another street address"
    if a.number and a.number == b.number and a.street == b.street and a.unit == b.unit and (
        (a.city and a.city == b.city) or OSA.distance(a.zip5, b.zip5) <= 1
    ):
        return "fuzzy", "ZIP code mistyped"
    if a.city and a.city == b.city and a.region == b.region:
        return "city", "same city, another address"
    return "mismatch", ""


def _best_pairwise(
    comparison: str,
    left: Mapping[Any, list[str]],
    right: Mapping[Any, list[str]],
    level_of: Any,
    model: Model,
    tf_key_of: Any = None,
) -> Outcome:
    order = LEVEL_NAMES[comparison]
    best: tuple[int, Outcome] | None = None
    for a, a_refs in left.items():
        for b, b_refs in right.items():
            level, note = level_of(a, b)
            rank = order.index(level)
            if best is None or rank < best[0]:
                tf_key = tf_key_of(a, level) if tf_key_of else None
                best = (rank, Outcome(comparison, level, tuple(a_refs), tuple(b_refs), note, tf_key))
                if rank == 0:
                    return best[1]
    return best[1] if best else Outcome(comparison, "missing")


def _address_tf_key(a: PostalAddress, level: str) -> str | None:
    if level in ("exact", "unit_missing"):
        return a.key
    if level == "zip":
        return a.zip5
    if level == "city":
        return f"{a.city}|{a.region}"
    return None


def _ssn_level(extra: Mapping[str, str]) -> Any:
    def level(a: str, b: str) -> tuple[str, str]:
        if a == b:
            return ("unissuable", "a number never issued as an SSN") if ssn_is_weak(a) else ("exact", "")
        if ssn_is_weak(a) or ssn_is_weak(b):
            return "mismatch", ""
        if extra.get(b) == a:
            return "transposed", "two adjacent digits swapped"
        return "mismatch", ""

    return level


def compare(left: Identity, right: Identity, model: Model, ssn_variants: Mapping[str, str] | None = None) -> list[
        Outcome]:
    """Every comparison of a profile (left) with a record (right). `ssn_variants` maps the hash of each
    one-transposition variant of the profile's SSN to the hash of the SSN itself."""
    given, surname, middle = compare_names(left.names, right.names, model)
    return [
        given,
        surname,
        middle,
        _best_pairwise("date_of_birth", left.dobs, right.dobs, _dob_level, model),
        _best_pairwise("ssn", left.ssns, right.ssns, _ssn_level(ssn_variants or {}), model),
        _best_pairwise("email", left.emails, right.emails, _email_level, model),
        _best_pairwise("phone", left.phones, right.phones, _phone_level, model),
        _best_pairwise("address", left.addresses, right.addresses, address_level, model, _address_tf_key),
        _best_pairwise("card", left.cards, right.cards, lambda a, b: ("exact", "") if a == b else ("mismatch", ""),
                       model),
    ]


# --------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class Evidence:
    """One line of an explanation: a comparison, how it came out, and what it weighed."""

    comparison: str
    level: str
    kind: str  # exact, variant, fuzzy, partial, mismatch, missing
    weight: float  # log2 Bayes factor; 0 when missing
    profile_refs: tuple[str, ...]
    record_refs: tuple[str, ...]
    note: str
    term_frequency: float | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A record's score against a profile."""

    log2_odds: float
    probability: float  # calibrated: what it says happens that often
    hard_link: bool
    evidence: tuple[Evidence, ...]
    #: The prior log2 odds, and what the hard-link floor added; with the evidence's weights they sum to
    #: `log2_odds` exactly (each rounded to 0.01 bit).
    prior: float = 0.0
    adjustment: float = 0.0
    #: 1 / (1 + 2^-log2_odds): the Fellegi-Sunter probability a match is selected by (the threshold).
    fs_probability: float = 0.0

    @property
    def agreeing(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.kind not in ("mismatch", "missing"))


def probability_of(log2_odds: float) -> float:
    """Probability from log2 odds, without overflow."""
    if log2_odds > 60:
        return 1.0
    if log2_odds < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-log2_odds))


def score_outcomes(outcomes: list[Outcome], model: Model, tf: Mapping[tuple[str, str], float]) -> Score:
    """Weights, total, probability and explanation for a list of outcomes."""
    prior = round(model.prior_log2_odds, 2)
    total = prior
    evidence = []
    hard = False
    for o in outcomes:
        if o.level == "missing":
            evidence.append(Evidence(o.comparison, "missing", "missing", 0.0, (), (), "not on one side"))
            continue
        table = TF_LEVELS.get((o.comparison, o.level))
        freq = tf.get((table, o.tf_key)) if table and o.tf_key else None
        weight = round(model.weight(o.comparison, o.level, freq), 2)
        total += weight
        hard = hard or (o.comparison, o.level) in HARD_LINKS
        evidence.append(Evidence(o.comparison, o.level, LEVEL_KIND[(o.comparison, o.level)], weight,
                                 o.left_refs, o.right_refs, o.note, freq))
    total = round(total, 2)
    adjustment = round(HARD_LINK_LOG2_ODDS - total, 2) if hard and total < HARD_LINK_LOG2_ODDS else 0.0
    log2_odds = round(total + adjustment, 2)
    return Score(log2_odds, model.probability(log2_odds, hard), hard, tuple(evidence), prior, adjustment,
                 probability_of(log2_odds))


def score(left: Identity, right: Identity, model: Model, tf: Mapping[tuple[str, str], float] | None = None,
          ssn_variants: Mapping[str, str] | None = None) -> Score:
    """Score a record (right) against a profile (left)."""
    return score_outcomes(compare(left, right, model, ssn_variants), model, tf or {})


def level_vector(outcomes: list[Outcome]) -> tuple[int, ...]:
    """The outcomes as level indices (-1 for missing), the input of EM."""
    return tuple(-1 if o.level == "missing" else LEVEL_NAMES[o.comparison].index(o.level) for o in outcomes)
