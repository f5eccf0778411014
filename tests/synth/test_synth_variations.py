"""Every kind of case, variation and look-alike occurs, and each tag describes what is really in the rows."""

from __future__ import annotations

import re

from ombud.synth.data import NICKNAMES

REQUIRED_TAGS = {
    "nickname", "initial", "middle_initial", "typo:name", "name_order", "case:name", "former_name",
    "transposed:dob", "day_month_swap:dob", "format:phone", "transposed:phone", "format:ssn", "transposed:ssn",
    "street_abbrev", "apartment_form", "unit_in_line1", "zip_plus4", "transposed:zip", "typo:street",
    "case:address", "former_address", "email:dots", "email:plus_tag", "email:other_provider", "typo:email",
    "new_device", "email_changed", "phone_changed", "new_shipping_address",
}


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def test_every_kind_and_variation_occurs(synth):
    summary = synth.summary()
    assert set(summary["cases"]) == {"new_account", "credit_application", "card_added", "account_takeover"}
    assert set(summary["lookalikes"]) == {"same_name", "same_name_same_city", "same_name_dob_other_state",
                                          "family", "roommate"}
    assert set(summary["variations"]) >= REQUIRED_TAGS, REQUIRED_TAGS - set(summary["variations"])


def case_values(synth, case):
    """What the thief typed in one case: names, dates of birth, phones, emails, addresses."""
    accounts = synth.by_id("accounts", "account_id")
    addresses = synth.by_id("addresses", "address_id")
    cards = synth.by_id("payment_methods", "payment_method_id")
    applications = synth.by_id("credit_applications", "application_id")
    rows = [applications[a] for a in case["application_ids"]]
    account = accounts.get(case["account_id"] or "")
    if account and case["kind"] in ("new_account", "credit_application"):
        rows.append({**account, "applicant_name": account["name"]})
    names = [r["applicant_name"] for r in rows] + [cards[p]["cardholder_name"] for p in case["payment_method_ids"]]
    places = [addresses[a] for a in case["address_ids"]] + rows
    return {
        "names": [n for n in names if n],
        "dobs": [r["date_of_birth"] for r in rows if r.get("date_of_birth")],
        "phones": [r["phone"] for r in rows if r.get("phone")],
        "emails": [r["email"] for r in rows if r.get("email")],
        "places": [p for p in places if p.get("line1")],
        "ssns": [r["ssn"] for r in rows if r.get("ssn")],
    }


def tag_holds(tag: str, profile: dict, seen: dict) -> bool | None:
    """Whether the rows show what the tag says (None: a tag this test does not check)."""
    first, *_, last = profile["names"][0].split()
    dob, phone = profile["date_of_birth"], digits(profile["phones"][0])
    zips = [a["postal_code"] for a in profile["addresses"]]
    units = [a["line2"].split()[-1].lstrip("#").upper() for a in profile["addresses"] if a["line2"]]
    names, places, emails = seen["names"], seen["places"], seen["emails"]
    if tag == "nickname":
        return any(n.split()[0] in NICKNAMES.get(first, ()) for n in names)
    if tag == "initial":
        return any(re.match(rf"{first[0]}\.? {last}$", n) for n in names)
    if tag == "name_order":
        return any(n.startswith(last) for n in names)
    if tag == "former_name":
        return any(profile["names"][1].split()[-1] in n for n in names)
    if tag == "transposed:dob":
        return any(d != dob and sorted(d) == sorted(dob) for d in seen["dobs"])
    if tag == "day_month_swap:dob":
        return any(d[:4] == dob[:4] and d[5:7] == dob[8:] and d[8:] == dob[5:7] for d in seen["dobs"])
    if tag == "format:phone":
        return any(digits(p)[-10:] == phone for p in seen["phones"])
    if tag == "transposed:phone":
        return any(digits(p)[-10:] != phone and sorted(digits(p)[-10:]) == sorted(phone) for p in seen["phones"])
    if tag == "format:ssn":
        return profile["ssn"].replace("-", "") in seen["ssns"]
    if tag == "zip_plus4":
        return any(re.fullmatch(rf"({'|'.join(zips)})-\d{{4}}", p["postal_code"]) for p in places)
    if tag == "transposed:zip":
        return any(p["postal_code"] not in zips and any(sorted(p["postal_code"]) == sorted(z) for z in zips)
                   for p in places)
    if tag == "apartment_form":
        return any(p["line2"] and p["line2"] not in [a["line2"] for a in profile["addresses"]]
                   and p["line2"].upper().split()[-1].lstrip("#") in units for p in places)
    if tag == "former_address":
        return any(p["line1"] in [a["line1"] for a in profile["addresses"][1:]] for p in places)
    if tag == "email:plus_tag":
        return any(re.sub(r"\+[^@]*", "", e) in profile["emails"] for e in emails if "+" in e)
    if tag == "email:dots":
        plain = [p.replace(".", "") for p in profile["emails"]]
        return any(e not in profile["emails"] and e.replace(".", "") in plain for e in emails)
    return None


def test_tags_describe_the_rows(synth):
    checked = set()
    for victim in synth.victims():
        for case in victim["cases"]:
            seen = case_values(synth, case)
            for tag in case["variations"]:
                holds = tag_holds(tag, victim["profile"], seen)
                if holds is not None:
                    assert holds, (tag, case, seen, victim["profile"])
                    checked.add(tag)
    assert len(checked) >= 14


def test_lookalikes_resemble_the_victim_but_are_other_people(synth):
    accounts = synth.by_id("accounts", "account_id")
    postal_by_account: dict[str, set[str]] = {}
    for row in synth.rows("addresses"):
        postal_by_account.setdefault(row["account_id"], set()).add(row["postal_code"][:5])
    for victim in synth.victims():
        profile = victim["profile"]
        last = profile["names"][0].split()[-1].lower()
        home_zip = profile["addresses"][0]["postal_code"][:5]
        for lookalike in victim["lookalikes"]:
            for account_id in lookalike["account_ids"]:
                account = accounts[account_id]
                assert account["email"] not in profile["emails"]
                if lookalike["kind"].startswith("same_name") or lookalike["kind"] == "family":
                    assert last in account["name"].lower()
                if lookalike["kind"] == "same_name_dob_other_state" and account["date_of_birth"]:
                    assert account["date_of_birth"] == profile["date_of_birth"]
                if lookalike["kind"] in ("family", "roommate"):
                    assert home_zip in postal_by_account[account_id]
