"""The ground truth agrees with the files: every id exists where it should, and profiles are the victim's own."""

from __future__ import annotations

import re
from collections import Counter

PROFILE_KEYS = {"names", "emails", "phones", "addresses", "date_of_birth", "ssn", "card_numbers"}
ADDRESS_KEYS = {"line1", "line2", "city", "region", "postal_code", "country"}
CASE_KINDS = {"new_account", "credit_application", "card_added", "account_takeover"}


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")[-10:]


def test_victim_lines_have_the_documented_shape(synth):
    victims = synth.victims()
    assert victims
    for victim in victims:
        assert {"victim_id", "profile", "own_account_ids", "fraudulent_account_ids", "cases",
                "lookalike_account_ids"} <= set(victim)
        profile = victim["profile"]
        assert set(profile) == PROFILE_KEYS
        assert profile["names"] and profile["addresses"] and profile["card_numbers"]
        for address in profile["addresses"]:
            assert set(address) == ADDRESS_KEYS
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", profile["date_of_birth"])
        assert re.fullmatch(r"9\d\d-\d\d-\d{4}", profile["ssn"])
        for case in victim["cases"]:
            assert case["kind"] in CASE_KINDS
            assert set(case) >= {"kind", "account_id", "application_ids", "payment_method_ids", "order_ids",
                                 "variations"}
    assert len({v["victim_id"] for v in victims}) == len(victims)
    assert len({v["profile"]["ssn"] for v in victims}) == len(victims)


def test_every_id_in_the_truth_exists_on_the_right_account(synth):
    accounts = synth.by_id("accounts", "account_id")
    tables = {
        "payment_method_ids": synth.by_id("payment_methods", "payment_method_id"),
        "order_ids": synth.by_id("orders", "order_id"),
        "address_ids": synth.by_id("addresses", "address_id"),
        "login_ids": synth.by_id("logins", "login_id"),
        "note_ids": synth.by_id("support_notes", "note_id"),
    }
    applications = synth.by_id("credit_applications", "application_id")
    for victim in synth.victims():
        for account_id in victim["own_account_ids"] + victim["fraudulent_account_ids"] + \
                victim["lookalike_account_ids"]:
            assert account_id in accounts
        case_accounts = {c["account_id"] for c in victim["cases"] if c["account_id"]}
        assert case_accounts == set(victim["fraudulent_account_ids"])
        for case in victim["cases"]:
            for field, table in tables.items():
                for row_id in case.get(field, []):
                    assert table[row_id]["account_id"] == case["account_id"], (field, row_id)
            for application_id in case["application_ids"]:
                assert applications[application_id]["account_id"] == (case["account_id"] or "")
            if case["kind"] != "credit_application":
                assert case["account_id"]


def test_lookalikes_and_own_accounts_are_kept_apart_from_fraud(synth):
    all_fraud, all_lookalikes = set(), set()
    for victim in synth.victims():
        fraud, own = set(victim["fraudulent_account_ids"]), set(victim["own_account_ids"])
        lookalikes = set(victim["lookalike_account_ids"])
        assert not fraud & lookalikes
        assert not own & lookalikes
        takeovers = {c["account_id"] for c in victim["cases"] if c["kind"] == "account_takeover"}
        assert fraud & own == takeovers  # a victim's own account is fraudulent only when taken over
        all_fraud |= fraud
        all_lookalikes |= lookalikes
    assert not all_fraud & all_lookalikes


def test_each_kind_of_case_looks_like_what_it_is(synth):
    accounts = synth.by_id("accounts", "account_id")
    cards = synth.by_id("payment_methods", "payment_method_id")
    applications = synth.by_id("credit_applications", "application_id")
    for victim in synth.victims():
        profile = victim["profile"]
        own_created = min(accounts[a]["created_at"] for a in victim["own_account_ids"])
        for case in victim["cases"]:
            kind, account = case["kind"], accounts.get(case["account_id"] or "")
            used = case.get("identifiers_used", [])
            if kind in ("new_account", "card_added"):
                assert case["account_id"] not in victim["own_account_ids"]
                assert case["order_ids"] or kind == "new_account"
            if kind == "new_account":
                assert account["created_at"] > own_created  # the victim's own account is the long-standing one
                on_card = {cards[p]["card_number"] for p in case["payment_method_ids"]}
                assert bool(on_card & set(profile["card_numbers"])) == ("card" in used)
            if kind == "card_added":
                on_card = {cards[p]["card_number"] for p in case["payment_method_ids"]}
                assert on_card <= set(profile["card_numbers"])
                assert account["name"] not in profile["names"]  # the thief's own, differently named account
            if kind == "credit_application":
                (application_id,) = case["application_ids"]
                application = applications[application_id]
                if not any(v.endswith(":ssn") for v in case["variations"]):
                    assert application["ssn"] == profile["ssn"]
                if not any(v.endswith(":dob") for v in case["variations"]):
                    assert application["date_of_birth"] == profile["date_of_birth"]
            if kind == "account_takeover":
                assert case["account_id"] in victim["own_account_ids"]
                assert account["email"] not in profile["emails"]  # the thief changed it
                assert {"new_device", "email_changed", "new_shipping_address"} <= set(case["variations"])


def test_profiles_hold_the_victims_own_identifiers_never_the_thiefs(synth):
    accounts = synth.by_id("accounts", "account_id")
    cards_by_account: dict[str, set[str]] = {}
    for row in synth.rows("payment_methods"):
        cards_by_account.setdefault(row["account_id"], set()).add(row["card_number"])
    for victim in synth.victims():
        profile = victim["profile"]
        own = victim["own_account_ids"]
        taken = {c["account_id"] for c in victim["cases"] if c["kind"] == "account_takeover"}
        own_cards = set().union(*(cards_by_account.get(a, set()) for a in own))
        assert own_cards & set(profile["card_numbers"])
        for account_id in own:
            if account_id not in taken:
                assert accounts[account_id]["email"] in profile["emails"]
        phones = {digits(p) for p in profile["phones"]}
        for case in victim["cases"]:
            account = accounts.get(case["account_id"] or "")
            if account is None or case["account_id"] in own:
                continue
            assert account["email"] not in profile["emails"]
            if "phone" not in case.get("identifiers_used", []) and account["phone"]:
                assert digits(account["phone"]) not in phones


def test_summary_agrees_with_the_files(synth):
    summary = synth.summary()
    victims = synth.victims()
    assert summary["victims"] == len(victims)
    assert summary["accounts"] == len(synth.rows("accounts")) == synth.params["accounts"]
    for kind, count in summary["rows"].items():
        assert count == len(synth.rows(kind)), kind
    cases = Counter(c["kind"] for v in victims for c in v["cases"])
    variations = Counter(tag for v in victims for c in v["cases"] for tag in c["variations"])
    assert summary["cases"] == dict(cases)
    assert summary["variations"] == dict(variations)
    assert summary["fraudulent_accounts"] == len({a for v in victims for a in v["fraudulent_account_ids"]})
    assert summary["seed"] == synth.params["seed"]


def test_one_mailbox_one_person(synth):
    """No two people share a mailbox (under the providers' dot and +tag rules) unless a thief got into one."""
    from ombud.synth.variants import mailbox

    owners: dict[str, set[str]] = {}
    for row in synth.rows("accounts"):
        if row["email"]:
            owners.setdefault(mailbox(row["email"]), set()).add(row["account_id"])
    shared = {key: ids for key, ids in owners.items() if len(ids) > 1}
    explained = set()
    for victim in synth.victims():
        for case in victim["cases"]:
            if {"email:dots", "email:plus_tag"} & set(case["variations"]):
                explained.add(case["account_id"])
    for ids in shared.values():
        assert len(ids - explained) <= 1, ids
