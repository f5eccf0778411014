"""The pure pieces: variations of identifiers, unique identifiers, check digits (property-based)."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

from ombud.crypto import luhn_valid
from ombud.synth.data import NICKNAMES
from ombud.synth.ids import TEST_BINS, CardMaker, Permuter, SsnMaker, luhn_check_digit
from ombud.synth.pools import Rng, Town
from ombud.synth.variants import (
    ADDRESS_VARIATIONS,
    Addr,
    AddrStyle,
    canonical,
    dob_day_month_swapped,
    dob_transposed,
    email_variant,
    name_text,
    phone_text,
    render,
    transpose_digits,
    typo,
    vary_address,
)

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=14)
seeds = st.integers(min_value=0, max_value=2**32)
TOWN = Town("Lake Anna", "NY", ("12345",), (212,))


@given(words, seeds)
def test_a_typo_is_one_slip_away(word, seed):
    slipped = typo(word, Rng(seed))
    assert slipped != word
    assert DamerauLevenshtein.distance(word, slipped) == 1
    assert slipped[0] == word[0]


@given(st.text(alphabet="0123456789", min_size=2, max_size=12), seeds)
def test_transposing_swaps_two_neighbouring_digits(text, seed):
    swapped = transpose_digits(text, Rng(seed))
    if len(set(text)) == 1:
        assert swapped is None
        return
    assert swapped is not None and swapped != text and sorted(swapped) == sorted(text)
    changed = [i for i, (a, b) in enumerate(zip(text, swapped, strict=True)) if a != b]
    assert len(changed) == 2 and changed[1] == changed[0] + 1


@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)), seeds)
def test_varied_dates_of_birth_are_real_other_dates(dob, seed):
    moved = dob_transposed(dob, Rng(seed))
    if moved is not None:
        assert moved != dob and sorted(moved.strftime("%Y%m%d")) == sorted(dob.strftime("%Y%m%d"))
    swapped = dob_day_month_swapped(dob)
    if swapped is not None:
        assert (swapped.month, swapped.day) == (dob.day, dob.month)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(0, 20))
def test_every_phone_form_carries_the_same_number(number, style):
    assert re.sub(r"\D", "", phone_text(number, style))[-10:] == number


@given(words, words, seeds)
def test_email_variants(local_a, local_b, seed):
    rng = Rng(seed)
    email = f"{local_a}.{local_b}@gmail.example.com"
    dotted = email_variant(email, "dots", rng, "outlook.example.com")
    if dotted is not None:
        assert dotted != email and dotted.replace(".", "").split("@")[0] == email.replace(".", "").split("@")[0]
    tagged = email_variant(email, "plus_tag", rng, "x")
    assert tagged is not None and tagged.split("+")[0] == email.split("@")[0]
    assert email_variant(email, "other_provider", rng, "outlook.example.com") == \
        f"{local_a}.{local_b}@outlook.example.com"
    assert email_variant(f"{local_a}@yahoo.example.com", "dots", rng, "x") is None  # dots matter there


@given(seeds, st.sampled_from(ADDRESS_VARIATIONS))
def test_address_variations_change_the_text_but_not_the_place(seed, how):
    rng = Rng(seed)
    addr = Addr("12", "North", "Oak", "Street", "4B", TOWN, "12345")
    varied = vary_address(addr, AddrStyle(), how, rng)
    assert varied is not None
    line1, line2, city, region, postal = render(*varied)
    plain = canonical(addr)
    assert (line1, line2, city, postal) != (plain["line1"], plain["line2"], plain["city"], plain["postal_code"])
    assert region == "NY"
    if how == "apartment_form":
        assert line2.upper().endswith("4B") and line2 != plain["line2"]
    if how == "unit_in_line1":
        assert line1.endswith("4B") and line2 == ""
    if how == "street_abbrev":
        assert line1 == "12 N Oak St"


def test_names_as_typed():
    rng = Rng(1)
    assert name_text("Robert", "James", "Doe", "nickname", rng).split()[0] in NICKNAMES["Robert"]
    assert name_text("Robert", "James", "Doe", "middle_initial", rng) == "Robert J. Doe"
    assert name_text("Robert", None, "Doe", "middle_initial", rng) is None
    assert name_text("Zebulon", None, "Doe", "nickname", rng) is None
    assert name_text("Robert", None, "Doe", "initial", rng).startswith("R")


@settings(max_examples=25)
@given(st.integers(min_value=2, max_value=3000), seeds)
def test_permuter_is_a_bijection(modulus, seed):
    perm = Permuter(modulus, 12345, seed)
    assert sorted(perm(i) for i in range(modulus)) == list(range(modulus))


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_check_digit_passes_luhn(body):
    assert luhn_valid(body + luhn_check_digit(body))


def test_cards_and_ssns_are_unique_and_on_safe_ranges():
    cards = CardMaker(seed=7)
    numbers = [cards.next(brand, i) for i in range(3000) for brand in ("visa", "amex")]
    assert len(set(numbers)) == len(numbers)
    bins = {b for group in TEST_BINS.values() for b in group}
    assert all(luhn_valid(n) and n[:6] in bins for n in numbers)
    ssns = SsnMaker(seed=7)
    values = [ssns.next() for _ in range(20000)]
    assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"9\d\d-(0[1-9]|[1-9]\d)-\d{4}", s) and not s.endswith("0000") for s in values)
