"""Scoring, explanations, blocking keys and EM: pure, no database."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.identity import em
from ombud.identity.address import normalize_address
from ombud.identity.blocking import KeyHasher, KeyKind, block_cap, query_keys, record_keys
from ombud.identity.explain import evidence_text
from ombud.identity.normalize import parse_name
from ombud.identity.record import Identity
from ombud.identity.scoring import LEVEL_NAMES, Model, score

MODEL = Model.default(n_records=1_000_000)
HASHER = KeyHasher(b"h" * 32)


def ident(name=None, email=None, phone=None, address=None, dob=None, card=None, ssn=None, ref="A"):
    out = Identity()
    if name:
        out.add("names", parse_name(name), ref)
    if email:
        out.add("emails", email, ref)
    if phone:
        out.add("phones", phone, ref)
    if address:
        out.add("addresses", normalize_address(*address), ref)
    if dob:
        out.add("dobs", dob, ref)
    if card:
        out.add_card(card, "4242", ref)
    if ssn:
        out.add("ssns", ssn, ref)
    return out


JANE = ident("Jane Q Doe", "jane.doe@example.com", "+12025550143",
             ("12 Oak St", "Apt 4B", "Springfield", "IL", "62704"), date(1984, 7, 19), "fp-jane", "ssn-jane",
             ref="profile")


def by(result, comparison):
    return next(e for e in result.evidence if e.comparison == comparison)


def test_an_identical_record_scores_near_certainty_and_every_comparison_agrees():
    result = score(JANE, JANE, MODEL)
    assert result.fs_probability > 0.9999 and result.probability > 0.999
    assert all(e.kind == "exact" for e in result.evidence if e.comparison != "middle_name")
    assert by(result, "middle_name").level == "initial"  # "Q" and "Q": only an initial to compare


def test_a_card_alone_is_a_hard_link_whatever_the_name():
    thief = ident("Mallory Smith", "mallory@example.net", address=("9 Elm Rd", None, "Dover", "DE", "19901"),
                  card="fp-jane")
    result = score(JANE, thief, MODEL)
    assert result.hard_link and result.probability > 0.999
    assert by(result, "card").level == "exact"
    assert by(result, "given_name").kind == "mismatch"


def test_common_names_count_for_less_than_rare_ones():
    other = ident("Jane Doe")
    common = score(JANE, other, MODEL, tf={("given", "jane"): 0.01, ("surname", "doe"): 0.01})
    rare = score(JANE, other, MODEL, tf={("given", "jane"): 1e-5, ("surname", "doe"): 1e-5})
    assert rare.log2_odds > common.log2_odds + 10
    assert by(common, "surname").term_frequency == 0.01


def test_name_variants_are_recognised():
    assert by(score(JANE, ident("Janie Doe"), MODEL), "given_name").level in ("nickname", "fuzzy")
    assert by(score(ident("William Doe"), ident("Bill Doe"), MODEL), "given_name").level == "nickname"
    assert by(score(JANE, ident("J. Doe"), MODEL), "given_name").level == "initial"
    assert by(score(JANE, ident("Jane Dooe"), MODEL), "surname").level == "fuzzy"
    swapped = score(JANE, ident("Doe Jane"), MODEL)
    assert "swapped" in by(swapped, "given_name").note
    assert by(score(JANE, ident("Jane Quinn Doe"), MODEL), "middle_name").level == "initial"
    assert by(score(ident("Jane Quinn Doe"), ident("Jane Rose Doe"), MODEL), "middle_name").level == "mismatch"


def test_names_entered_in_the_wrong_fields_with_one_of_them_changed_are_read_as_crossed():
    home = ("23 Woollum St", None, "Surrey Hills", "VIC", "3127")
    person = ident("Flynn Weller", address=home, dob=date(1970, 1, 6))
    crossed = score(person, ident("Weller Ebony", address=home, dob=date(1970, 1, 6)), MODEL)
    assert by(crossed, "surname").level == "crossed" and by(crossed, "surname").kind == "variant"
    assert by(crossed, "given_name").level == "mismatch"
    assert by(score(person, ident("Zachary Flynn"), MODEL), "surname").level == "crossed"
    assert by(score(person, ident("Welller Ebony"), MODEL), "surname").level == "crossed"  # and a slip
    # A surname made from a first name is not that first name: no crossed reading.
    assert by(score(ident("John Miller"), ident("Johnson Paul"), MODEL), "surname").level == "mismatch"
    # Crossed names weigh more than two different names, less than the person's own name; the people the
    # person lives with share the surname in its field and are never crossed.
    plain = score(person, ident("Ebony Moody", address=home, dob=date(1970, 1, 6)), MODEL)
    own = score(person, ident("Flynn Weller", address=home, dob=date(1970, 1, 6)), MODEL)
    assert plain.log2_odds < crossed.log2_odds < own.log2_odds
    spouse = score(person, ident("Ebony Weller", address=home, dob=date(1970, 1, 6)), MODEL)
    assert by(spouse, "surname").level == "alone"
    assert "other name field" in evidence_text(by(crossed, "surname"))


def test_a_relative_at_the_same_address_is_not_a_match():
    relative = ident("John Doe", "john.doe@example.com",
                     address=("12 Oak Street", "#4B", "Springfield", "IL", "62704"), dob=date(1982, 3, 1))
    result = score(JANE, relative, MODEL)
    assert by(result, "address").level == "exact"
    assert by(result, "surname").level == "alone"
    assert result.probability < 0.5


def test_slips_in_identifiers_are_fuzzy_or_variant_not_mismatch():
    record = ident("Jane Doe", "jane.dae@example.com", "+12025550134",
                   ("12 Oak St", "Apt 4B", "Springfield", "IL", "62740"), date(1984, 7, 91 - 72))
    result = score(JANE, record, MODEL)
    assert by(result, "email").level == "fuzzy"
    assert by(result, "phone").level == "typo"
    assert by(result, "address").level == "fuzzy"
    swapped_dob = score(ident(dob=date(1984, 7, 5)), ident(dob=date(1984, 5, 7)), MODEL)
    assert by(swapped_dob, "date_of_birth").level == "swapped"


def test_ssn_transpositions_are_found_through_their_hashes():
    record = ident("Jane Doe", ssn="ssn-variant")
    result = score(JANE, record, MODEL, ssn_variants={"ssn-variant": "ssn-jane"})
    assert by(result, "ssn").level == "transposed" and not result.hard_link


def test_missing_identifiers_weigh_nothing():
    result = score(JANE, ident("Jane Doe"), MODEL)
    assert by(result, "card").kind == "missing" and by(result, "card").weight == 0


def test_explanations_quote_only_the_profile_side():
    thief = ident("Mallory Smith", "mallory@example.net", card="fp-jane", ref="p7")
    result = score(JANE, thief, MODEL)
    texts = [evidence_text(e, {"profile": "4242"}) for e in result.evidence]
    joined = " ".join(texts)
    assert "Mallory" not in joined and "mallory" not in joined and "Smith" not in joined
    assert any("Card ending 4242" in t and "exact" in t for t in texts)
    assert any("First name: does not match yours" in t for t in texts)


def test_model_round_trips_through_json():
    model = Model.default(5000)
    model.params["card"]["exact"] = (0.7, 1e-9)
    again = Model.from_json(model.to_json())
    assert again.params == model.params and again.n_records == 5000


# --------------------------------------------------------------------------------------- blocking


@settings(max_examples=30)
@given(st.sampled_from(["Jane Doe", "Bill Smith", "Ann-Marie Garcia-Lopez", "Zoë Ødegård"]),
       st.dates(min_value=date(1930, 1, 1), max_value=date(2005, 12, 31)))
def test_a_record_is_found_by_its_own_profile(name, dob):
    record = ident(name, address=("1 Main St", None, "Town", "NY", "10001"), dob=dob)
    assert set(query_keys(record, HASHER)) >= {k for k, _ in record_keys(record, HASHER)}


def test_query_keys_cover_slips():
    profile = ident("Jane Doe", dob=date(1984, 7, 9))
    for record in (ident("Doe Jane", dob=date(1984, 7, 9)),  # names swapped
                   ident("Jane Doe", dob=date(1984, 9, 7))):  # day and month swapped
        assert {k for k, _ in record_keys(record, HASHER)} & set(query_keys(profile, HASHER))


def test_query_keys_reach_records_with_a_mistyped_zip_or_another_surname():
    profile = ident("Jane Morrison", address=("12 Oak St", None, "Springfield", "IL", "62704"),
                    dob=date(1984, 7, 19))
    found = set(query_keys(profile, HASHER))
    for record in (
        ident("Jane Morrison", address=("12 Oak St", None, None, None, "62740")),  # ZIP digits transposed
        ident("Jane Whitaker", address=("9 Pine Ave", None, "Springfield", "IL", "62704")),  # a married name
        ident("J. Morrion", dob=date(1984, 7, 19)),  # an initial, and a surname misspelt out of its sound
    ):
        assert {k for k, _ in record_keys(record, HASHER)} & found, record


def test_query_keys_reach_a_first_name_typed_into_the_surname_field_and_misspelt():
    profile = ident("Sophie Pascoe", dob=date(1984, 7, 19))
    record = ident("Emma Sohpie", dob=date(1984, 7, 19))  # another first name, "Sophie" mistyped as the surname
    assert {k for k, _ in record_keys(record, HASHER)} & set(query_keys(profile, HASHER))
    assert by(score(profile, record, MODEL), "surname").level == "crossed"


def test_fallback_keys_count_only_while_their_blocks_are_small():
    # A placeholder birth date shared by hundreds, or a big ZIP code's "John": a fallback made of one part of a
    # name is skipped long before a full name's or an identifier's block would be.
    assert block_cap(KeyKind.dob_initial) < block_cap(KeyKind.dob_surname) < block_cap(KeyKind.email)
    assert block_cap(KeyKind.given_zip) == block_cap(KeyKind.dob_initial)


def test_a_rare_level_is_never_stronger_evidence_than_exact_agreement():
    m = [[0.86, 0.002, 0.138]]
    u = [[5.5e-4, 1e-9, 0.9994]]
    capped = em.cap_unestimated(m, u, [[True, False, True]])
    assert capped[0][1] > u[0][1]
    assert abs(m[0][1] / capped[0][1] - m[0][0] / u[0][0]) < 1e-6 * m[0][0] / u[0][0]
    assert capped[0][0] == u[0][0] and capped[0][2] == u[0][2]
    # An estimated u, or one already weaker than exact, is left as it is.
    assert em.cap_unestimated(m, u, [[True, True, True]]) == u
    assert em.cap_unestimated(m, [[1e-10, 1e-9, 0.99]], [[False, False, True]]) == [[1e-10, 1e-9, 0.99]]


def test_keys_are_keyed():
    record = ident("Jane Doe", dob=date(1984, 7, 19))
    assert record_keys(record, HASHER) != record_keys(record, KeyHasher(b"x" * 32))


# --------------------------------------------------------------------------------------------- EM


def _simulate(n_match, n_non, rng):
    m = [[0.9, 0.1], [0.8, 0.2], [0.85, 0.15]]
    u = [[0.05, 0.95], [0.1, 0.9], [0.02, 0.98]]
    patterns = Counter()
    for probs, n in ((m, n_match), (u, n_non)):
        for _ in range(n):
            patterns[tuple(0 if rng.random() < row[0] else 1 for row in probs)] += 1
    return patterns, m, u


def test_em_recovers_m_and_lambda_from_unlabelled_pairs():
    patterns, true_m, u = _simulate(2000, 8000, random.Random(1))
    result = em.run_em(patterns, [[0.5, 0.5]] * 3, u, 0.5)
    assert result.converged
    assert abs(result.lambda_ - 0.2) < 0.02
    for estimated, truth in zip(result.m, true_m, strict=True):
        assert abs(estimated[0] - truth[0]) < 0.03


def test_em_sessions_leave_blocked_comparisons_alone():
    patterns, _, u = _simulate(1000, 3000, random.Random(2))
    prior = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    result = em.run_em(patterns, prior, u, 0.3, fixed={1})
    assert result.m[1] == [0.5, 0.5]
    combined = em.combine_sessions([(result, {1})], [[0.6, 0.4]] * 3)
    assert combined[1] == [0.6, 0.4] and combined[0][0] > 0.8


def test_u_from_random_pairs_is_smoothed():
    u = em.estimate_u(Counter({(0,): 1, (1,): 99}), [2])
    assert 0 < u[0][0] < 0.02 and abs(sum(u[0]) - 1) < 1e-9


def test_level_names_are_ordered_strongest_first():
    for levels in LEVEL_NAMES.values():
        assert levels[0] == "exact" and levels[-1] == "mismatch"
