"""Normalisers: known equivalences, and properties that hold for any input (hypothesis)."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.crypto import card_fingerprint
from ombud.identity.address import normalize_address, normalize_postal_code, normalize_street
from ombud.identity.normalize import (
    DateOfBirthError,
    SSNError,
    card_fingerprint_of,
    dob_digit_typo,
    fold,
    given_forms,
    normalize_email,
    normalize_phone,
    normalize_ssn,
    parse_date_of_birth,
    parse_name,
    ssn_hash,
    ssn_is_weak,
    ssn_issuable,
    ssn_transpositions,
    swapped_day_month,
)

words = st.text(alphabet=string.ascii_letters, min_size=2, max_size=12)
#: Name words that are not titles, suffixes or surname particles (those have rules of their own).
_RESERVED = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "madam", "dame", "fr", "sra", "srta", "jr",
             "sr", "ii", "iii", "iv", "v", "md", "phd", "esq", "dds", "jnr", "snr", "de", "del", "della", "der",
             "den", "di", "da", "das", "dos", "du", "la", "le", "van", "von", "vander", "st", "ste", "mac", "mc",
             "bin", "ibn", "al", "el", "vom", "zu", "zum", "zur", "ter", "ten"}
name_words = words.filter(lambda w: w.lower() not in _RESERVED)
spacing = st.sampled_from([" ", "  ", "\t", " \n "])


# ------------------------------------------------------------------------------------------ text


@given(st.text(max_size=60))
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@given(st.lists(words, min_size=1, max_size=4), spacing, st.sampled_from([str.upper, str.lower, str.title]))
def test_fold_ignores_case_spacing_and_punctuation(parts, gap, case):
    plain = " ".join(parts)
    noisy = gap.join(case(p) + "," for p in parts) + "."
    assert fold(noisy) == fold(plain)


def test_fold_removes_accents_and_special_letters():
    assert fold("José Müller-Ødegård") == "jose muller odegard"
    assert fold("Straße") == "strasse"
    assert fold("O’Brien") == fold("O'Brien") == "obrien"


# ----------------------------------------------------------------------------------------- names


@given(name_words, name_words, spacing, st.sampled_from([str.upper, str.lower, str.title]))
def test_names_ignore_case_spacing_and_punctuation(first, last, gap, case):
    assert parse_name(f"{case(first)}{gap}{case(last)}.") == parse_name(f"{first} {last}")


@given(name_words, name_words)
def test_last_comma_first_is_first_last(first, last):
    assert parse_name(f"{last}, {first}") == parse_name(f"{first} {last}")


@pytest.mark.parametrize(
    ("text", "given_name", "middles", "surname", "parts"),
    [
        ("Dr. Jane Q. Doe Jr.", "jane", ("q",), "doe", ("doe",)),
        ("DOE, JANE", "jane", (), "doe", ("doe",)),
        ("José García-López", "jose", (), "garcialopez", ("garcia", "lopez")),
        ("Ludwig van der Berg", "ludwig", (), "vanderberg", ("vanderberg", "berg")),
        ("Ngọc Vân Nguyễn", "ngoc", ("van",), "nguyen", ("nguyen",)),
        ("Hùng Văn Lê", "hung", ("van",), "le", ("le",)),
        ("Lan Thị Phạm", "lan", ("thi",), "pham", ("pham",)),
        ("Ngoc Van Nguyen", "ngoc", (), "vannguyen", ("vannguyen", "nguyen")),
        ("Ana de la Cruz", "ana", (), "delacruz", ("delacruz", "cruz")),
        ("Van Morrison", "van", (), "morrison", ("morrison",)),
        ("Maria Garcia Lopez", "maria", ("garcia",), "lopez", ("lopez",)),
        ("J. Smith", "j", (), "smith", ("smith",)),
    ],
)
def test_name_parsing(text, given_name, middles, surname, parts):
    name = parse_name(text)
    assert (name.given, name.middles, name.surname, name.surname_parts) == (given_name, middles, surname, parts)


#: Vietnamese middle names and surnames that fold to a Dutch, German or French particle, and other accented words.
_ACCENTED_LOOKALIKES = st.sampled_from(["Văn", "Vân", "Vạn", "Lê", "Đa", "Dã", "Đế", "Thị", "Đức"])
_PARTICLE_RUNS = st.sampled_from(["van", "van der", "von", "de", "de la", "del", "di", "da", "dos", "du", "le", "ter",
                                  "zu", "mac", "al", "bin"])


@given(name_words, _ACCENTED_LOOKALIKES, name_words)
def test_an_accented_middle_name_is_never_a_surname_particle(first, middle, last):
    name = parse_name(f"{first} {middle} {last}")
    assert (name.given, name.middles, name.surname) == (fold(first), (fold(middle),), fold(last))
    # The person's own account without the middle name carries the same surname.
    assert name.surname == parse_name(f"{first} {last}").surname


@given(name_words, _PARTICLE_RUNS, name_words, st.sampled_from([str.title, str.lower, str.upper]))
def test_a_surname_with_particles_still_agrees_without_them(first, particles, last, case):
    from ombud.identity.scoring import surname_level

    full = parse_name(case(f"{first} {particles} {last}"))
    assert full.surname == particles.replace(" ", "") + fold(last)
    assert fold(last) in full.surname_parts
    # Dropped particles ("Maria Cruz" for "Maria de la Cruz"), or a middle name written without its accents
    # ("Ngoc Van Nguyen"): the surname still agrees in part, never as a different person's.
    level, _ = surname_level(full, parse_name(f"{first} {last}"))
    assert level in ("exact", "part")


def test_empty_names_are_none():
    assert parse_name("") is None
    assert parse_name("  ") is None
    assert parse_name(None) is None


@pytest.mark.parametrize(("nick", "full"), [("bill", "william"), ("bob", "robert"), ("liz", "elizabeth"),
                                            ("peggy", "margaret"), ("liam", "william"), ("katie", "katherine")])
def test_nicknames_share_a_canonical_given_name(nick, full):
    assert given_forms(nick) & given_forms(full)


def test_unrelated_given_names_do_not():
    assert not given_forms("john") & given_forms("mary")


# ---------------------------------------------------------------------------------------- emails


@given(st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10),
       st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6))
def test_gmail_ignores_dots_and_tags(local, tag):
    dotted = ".".join(local)
    assert normalize_email(f"{dotted}+{tag}@GMail.com") == normalize_email(f"{local}@gmail.com") == f"{local}@gmail.com"


@given(st.text(alphabet=string.ascii_lowercase + ".", min_size=1, max_size=12).filter(
    lambda s: s.strip(".") == s and ".." not in s))
def test_email_normalising_is_idempotent(local):
    once = normalize_email(f"{local}@example.com")
    assert once is None or normalize_email(once) == once


def test_email_provider_rules():
    assert normalize_email("Jane.Doe+shop@Outlook.com") == "jane.doe@outlook.com"  # tags dropped, dots kept
    assert normalize_email("jane.doe+shop@yahoo.com") == "jane.doe+shop@yahoo.com"  # no plus addressing
    assert normalize_email("j.doe@googlemail.com") == "jdoe@gmail.com"
    assert normalize_email("jane+x@example.com") == "jane@example.com"  # unlisted: tags dropped
    assert normalize_email("not an email") is None
    assert normalize_email("") is None


# ---------------------------------------------------------------------------------------- phones


@given(st.sampled_from("23456789"), st.text(alphabet=string.digits, min_size=9, max_size=9),
       st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "1-{a}-{b}-{c}",
                        "{a}{b}{c}"]))
def test_us_phone_formats_agree(first, rest, form):
    digits = first + rest
    text = form.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    assert normalize_phone(text) == f"+1{digits}"


def test_phones_match_the_library_and_refuse_non_numbers():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("(202) 555-0143 ext. 12") == "+12025550143"
    assert normalize_phone("555-0143") is None  # a local number without its area code
    assert normalize_phone("call me") is None


# ------------------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    "line",
    ["123 North Main Street, Apartment 4-B", "123 n main st #4b", "123 N. Main St. Unit 4B", "123 NORTH MAIN ST APT 4B",
     "123 North Main Street Suite 4B"],
)
def test_street_forms_agree(line):
    assert normalize_street(line) == normalize_street("123 N Main St", "Apt 4B")


def test_street_details():
    assert normalize_street("4500 West Fifth Avenue").street == "w 5th ave"
    assert normalize_street("0487 Elm Road").number == "487"
    assert normalize_street("PO Box 123").street == "po box 123"
    assert normalize_street("100 Avenue of the Americas").street == "ave of the americas"


def test_unit_may_sit_on_either_line():
    a = normalize_address("12 Oak Street Apt 4B", None, "Springfield", "Illinois", "62704-1234")
    b = normalize_address("12 Oak St", "#4B", "SPRINGFIELD", "IL", "62704")
    assert a == b
    assert a.region == "IL" and a.zip5 == "62704" and a.unit == "4b"


@given(st.integers(1, 99999), st.sampled_from(["Oak", "Maple", "Lincoln", "Washington"]),
       st.sampled_from([("Street", "St"), ("Avenue", "Ave"), ("Boulevard", "Blvd"), ("Road", "Rd"), ("Lane", "Ln")]),
       st.sampled_from(["", "Apt 3", "Unit 3", "#3", "Apartment 3"]))
def test_street_type_and_unit_spellings_agree(number, name, types, unit):
    long_form, short_form = types
    a = normalize_street(f"{number} {name} {long_form}", unit)
    b = normalize_street(f"{number} {name.upper()} {short_form}.", unit.replace("Apartment", "Apt"))
    assert a == b
    assert normalize_street(a.number + " " + a.street, a.unit) == a  # idempotent on its own output


@given(st.text(alphabet=string.digits, min_size=5, max_size=5), st.text(alphabet=string.digits, min_size=4,
                                                                        max_size=4))
def test_zip_plus_four_is_zip5(zip5, plus4):
    assert normalize_postal_code(f"{zip5}-{plus4}") == normalize_postal_code(zip5) == zip5
    assert normalize_postal_code(f"{zip5}{plus4}") == zip5


# ---------------------------------------------------------------------------------- dates of birth


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
def test_date_formats_agree(d):
    forms = [d.isoformat(), d.strftime("%m/%d/%Y"), d.strftime("%Y%m%d"), d.strftime("%d %B %Y"),
             d.strftime("%B %d, %Y")]
    assert {parse_date_of_birth(f) for f in forms} == {d}


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
def test_day_month_swap_is_an_involution(d):
    swapped = swapped_day_month(d)
    if swapped is not None:
        assert swapped != d
        assert swapped_day_month(swapped) == d


def test_digit_typos():
    assert dob_digit_typo(date(1984, 7, 19), date(1984, 7, 18))
    assert dob_digit_typo(date(1984, 7, 19), date(1948, 7, 19))  # transposed
    assert not dob_digit_typo(date(1984, 7, 19), date(1990, 1, 1))


def test_bad_dates_raise():
    with pytest.raises(DateOfBirthError):
        parse_date_of_birth("31/31/1990")
    with pytest.raises(DateOfBirthError):
        parse_date_of_birth("yesterday")
    assert parse_date_of_birth("") is None


# ---------------------------------------------------------------------------------- SSNs and cards


@given(st.text(alphabet="12345678", min_size=9, max_size=9).filter(lambda d: not d.startswith("666")))
def test_ssn_forms_agree(digits):
    dashed = f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    spaced = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    assert normalize_ssn(dashed) == normalize_ssn(spaced) == normalize_ssn(digits) == digits
    for variant in ssn_transpositions(digits):
        assert sorted(variant) == sorted(digits) and variant != digits


def test_bad_ssns_raise():
    for text in ("12-345-6789", "123-45-678", "abc-de-fghi"):
        with pytest.raises(SSNError):
            normalize_ssn(text)


def test_unissuable_ssns_are_kept_and_marked_weak():
    key = b"k" * 32
    for text in ("000-12-3456", "666-12-3456", "123-00-4567", "123-45-0000"):
        digits = normalize_ssn(text)
        assert digits and not ssn_issuable(digits)
        assert ssn_is_weak(ssn_hash(key, digits))
    assert not ssn_is_weak(ssn_hash(key, "123456789")) and ssn_issuable("912345678")


def test_a_generation_apart_is_not_a_birth_date_typo():
    assert not dob_digit_typo(date(1960, 5, 12), date(1980, 5, 12))  # a father and a son
    assert not dob_digit_typo(date(1960, 5, 12), date(1860, 5, 12))
    assert dob_digit_typo(date(1964, 5, 12), date(1946, 5, 12))  # two digits swapped: a slip


def test_generational_suffixes_are_kept_apart_from_the_name():
    assert parse_name("John A. Smith Jr.").generation == "jr"
    assert parse_name("SMITH, JOHN SR").generation == "sr"
    assert parse_name("John Smith III").surname == "smith"
    assert parse_name("John Smith").generation == ""


def test_card_fingerprint_is_the_imports():
    key = b"k" * 32
    fingerprint, last4 = card_fingerprint_of(key, "4111 1111 1111 1111")
    assert fingerprint == card_fingerprint(key, "4111111111111111")
    assert last4 == "1111"
