"""Households and messy records: a father and a son with one name, a spouse and a twin at one address, a
thief using the father's identity, another victim's card on the father's own account, a messy export, an
unissuable SSN, a thin profile; the verdicts are the same with and without sign-in history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.identity.index import import_callback
from ombud.identity.service import discover
from ombud.retail.importer import import_directory

HOME = "12 Oak Street,,Springfield,IL,62704"
ACCOUNTS = """account_id,status,created_at,name,email,phone,date_of_birth
SR1,active,2014-03-01T10:00:00Z,John Smith Sr.,john.sr@example.com,(217) 555-0101,1960-05-12
JR1,active,2026-06-01T10:00:00Z,John Smith,jsmith.jr@example.com,(217) 555-0177,
MARY1,active,2016-02-01T10:00:00Z,Mary Smith,mary.smith@example.com,(217) 555-0102,1962-08-30
TWIN1,active,2019-04-01T10:00:00Z,James Smith,james.smith@example.com,(217) 555-0111,1960-05-12
FRAUD1,active,2026-08-01T10:00:00Z,John Smith,johnsmith1960@example.net,(302) 555-0199,1960-05-12
MESSY1,active,2026-08-20T10:00:00Z,,smith.j.60@example.net,,1960-02-30
OTHER1,active,2015-01-01T10:00:00Z,Ann Lee,ann.lee@example.com,(302) 555-0150,1970-01-01
APPLY1,active,2026-09-05T10:00:00Z,John Smith,jsmith.credit@example.net,(302) 555-0188,
JRCARD1,active,2026-09-06T10:00:00Z,John Smith,john.smith.1988@example.com,(217) 555-0178,
"""
ADDRESSES = f"""address_id,account_id,kind,name,line1,line2,city,region,postal_code,country,created_at
SR-S,SR1,shipping,John Smith,{HOME},US,2014-03-01T10:00:00Z
SR-B,SR1,billing,John Smith,{HOME},US,2014-03-01T10:00:00Z
JR-S,JR1,shipping,John Smith,{HOME},US,2026-06-01T10:00:00Z
JR-B,JR1,billing,John Smith,{HOME},US,2026-06-01T10:00:00Z
MARY-S,MARY1,shipping,Mary Smith,{HOME},US,2016-02-01T10:00:00Z
TWIN-S,TWIN1,shipping,James Smith,{HOME},US,2019-04-01T10:00:00Z
FRAUD-B,FRAUD1,billing,John Smith,{HOME},US,2026-08-01T10:00:00Z
FRAUD-S,FRAUD1,shipping,John Smith,9 Elm Road,,Dover,DE,19901,US,2026-08-01T10:00:00Z
MESSY-B,MESSY1,billing,John Smith,12 Oak St,,Springfield,,62704,US,2026-08-20T10:00:00Z
MESSY-S,MESSY1,shipping,J Smith,9 Elm Road,,,,19901,US,2026-08-20T10:00:00Z
OTHER-S,OTHER1,shipping,Ann Lee,40 Pine Ave,,Dover,DE,19901,US,2015-01-01T10:00:00Z
APPLY-B,APPLY1,billing,John Smith,{HOME},US,2026-09-05T10:00:00Z
APPLY-S,APPLY1,shipping,John Smith,9 Elm Road,,Dover,DE,19901,US,2026-09-05T10:00:00Z
JRCARD-B,JRCARD1,billing,John Smith,{HOME},US,2026-09-06T10:00:00Z
"""
CARDS = """payment_method_id,account_id,card_number,exp_month,exp_year,cardholder_name,billing_address_id,added_at
SR-C1,SR1,4111111111111111,12,2029,John Smith,SR-B,2014-03-02T10:00:00Z
SR-C9,SR1,6011111111111117,12,2029,Ann Lee,SR-B,2026-09-01T10:00:00Z
JR-C1,JR1,5555555555554444,12,2030,John Smith,JR-B,2026-06-01T10:00:00Z
MARY-C1,MARY1,4012888888881881,12,2030,Mary Smith,,2016-02-01T10:00:00Z
OTHER-C1,OTHER1,6011111111111117,12,2029,Ann Lee,,2015-01-01T10:00:00Z
FRAUD-C1,FRAUD1,378282246310005,12,2029,John Smith,FRAUD-B,2026-08-01T10:05:00Z
"""
ORDERS = """order_id,account_id,placed_at,status,total,payment_method_id,ship_to_address_id
O-SR1,SR1,2024-05-01T10:00:00Z,delivered,10.00,SR-C1,SR-S
O-SR2,SR1,2026-09-01T10:10:00Z,delivered,99.00,SR-C9,SR-S
O-JR1,JR1,2026-07-01T10:00:00Z,delivered,10.00,JR-C1,JR-S
O-MARY,MARY1,2025-01-01T10:00:00Z,delivered,10.00,MARY-C1,MARY-S
O-F1,FRAUD1,2026-08-02T10:00:00Z,shipped,500.00,FRAUD-C1,FRAUD-S
"""
APPLICATIONS = """application_id,account_id,product,applied_at,applicant_name,date_of_birth,ssn,line1,city,region,\
postal_code,decision
CA-WEAK,,store_card,2026-09-10T10:00:00Z,Peter Placeholder,1990-01-01,666-12-3456,5 Main St,Salem,OR,97301,declined
CA-APPLY,APPLY1,financing,2026-09-05T10:05:00Z,John Smith,1960-02-30,000-12-3456,9 Elm Road,Dover,DE,19901,declined
CA-JR,JRCARD1,store_card,2026-09-06T10:05:00Z,John Smith,1988-04-04,912-55-1234,12 Oak Street,Springfield,IL,62704,\
approved
"""
LOGINS = """login_id,account_id,at,ip,device,success
L1,SR1,2014-03-01T10:00:00Z,203.0.113.1,laptop #1,true
L2,SR1,2026-09-20T10:00:00Z,203.0.113.1,laptop #1,true
L3,JR1,2026-06-01T10:00:00Z,203.0.113.7,phone #7,true
L4,JR1,2026-09-20T10:00:00Z,203.0.113.7,phone #7,true
L5,FRAUD1,2026-08-01T10:00:00Z,198.51.100.9,thief #9,true
L6,MARY1,2016-02-01T10:00:00Z,203.0.113.2,tablet #2,true
L7,MARY1,2026-09-01T10:00:00Z,203.0.113.2,tablet #2,true
"""
SR_PROFILE = {
    "names": ["John Smith Sr."], "emails": ["john.sr@example.com"], "phones": ["217-555-0101"],
    "addresses": [{"line1": "12 Oak Street", "city": "Springfield", "region": "IL", "postal_code": "62704"}],
    "date_of_birth": "1960-05-12", "card_numbers": ["4111 1111 1111 1111"], "ssn": "912-34-5678",
}


def _write(directory: Path, logins: bool) -> Path:
    directory.mkdir()
    files = {"accounts": ACCOUNTS, "addresses": ADDRESSES, "payment_methods": CARDS, "orders": ORDERS,
             "credit_applications": APPLICATIONS}
    if logins:
        files["logins"] = LOGINS
    for kind, text in files.items():
        (directory / f"{kind}.csv").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def household(ctx, tmp_path):
    report = import_directory(ctx, _write(tmp_path / "retailer", logins=False), on_batch=[import_callback(ctx.keys)])
    assert report.error_count == 0
    # The messy rows landed, each problem named as a warning.
    assert {(w.file, w.field) for w in report.field_warnings} >= {
        ("accounts.csv", "name"), ("accounts.csv", "date_of_birth"), ("addresses.csv", "region"),
        ("addresses.csv", "city"), ("credit_applications.csv", "ssn")}
    return ctx


def _verdicts(ctx, profile, threshold=0.5):
    with ctx.sessions() as session:
        result = discover(session, ctx.keys, profile, threshold=threshold)
    return result, {m.account_id or m.application_id: m.verdict for m in result.matches}


def test_household_members_are_not_called_fraud_and_the_thief_is(household):
    result, verdicts = _verdicts(household, SR_PROFILE)
    assert verdicts["SR1"] == "own_account"  # another victim's card on it later does not make it fraud
    assert verdicts["FRAUD1"] == "suspected_fraud"  # name, date of birth and address: the thief's new account
    assert verdicts.get("JR1") in (None, "possible_namesake")  # his son: same name and address, his own details
    assert verdicts.get("MARY1") in (None, "possible_namesake")  # his wife
    assert verdicts.get("TWIN1") in (None, "possible_namesake")  # his twin: same birth date, another first name
    assert "OTHER1" not in verdicts
    own = next(m for m in result.matches if m.account_id == "SR1")
    assert any("card added" in s and "not one of yours" in s for s in own.signals)


def test_an_account_that_only_applied_for_credit_as_the_person_is_fraud(household):
    # "John Smith" is common in this store: name and address alone score low, so a reviewer's low threshold.
    result, verdicts = _verdicts(household, SR_PROFILE, threshold=0.001)
    # Opened under his name and address, shipping elsewhere, no orders: it exists to apply for credit, with an
    # unreadable birth date and a made-up SSN. Nothing on it says it is somebody else.
    assert verdicts["APPLY1"] == "suspected_fraud"
    applied = next(m for m in result.matches if m.account_id == "APPLY1")
    assert any(s.startswith("credit applied for 2026-09-05 under your name") for s in applied.signals)
    assert [a.application_id for a in applied.applications] == ["CA-APPLY"]
    # His son's store-card account, no orders either: the application gives the son's own birth date and SSN.
    assert verdicts.get("JRCARD1") in (None, "possible_namesake")


def test_a_messy_record_is_still_found(household):
    result, _ = _verdicts(household, SR_PROFILE)
    # No name, an impossible birth date, an address without its region: the row landed (it used to be rejected
    # whole) and its address still matches the person's.
    messy = next(m for m in result.matches + result.below_threshold if m.account_id == "MESSY1")
    assert next(e for e in messy.explanation if e.comparison == "address").level in ("exact", "fuzzy")


def test_the_victim_of_the_stolen_card_sees_the_other_account_as_fraud(household):
    _result, verdicts = _verdicts(household, {"names": ["Ann Lee"], "emails": ["ann.lee@example.com"],
                                              "card_numbers": ["6011111111111117"]})
    assert verdicts["OTHER1"] == "own_account"
    assert verdicts["SR1"] == "suspected_fraud"  # her card, on his account: per identifier, the card is hers


def test_verdicts_are_the_same_with_and_without_sign_ins(household, tmp_path):
    _before, without = _verdicts(household, SR_PROFILE)
    (tmp_path / "logins").mkdir()
    (tmp_path / "logins" / "logins.csv").write_text(LOGINS, encoding="utf-8")
    import_directory(household, tmp_path / "logins", on_batch=[import_callback(household.keys)])
    _after, with_logins = _verdicts(household, SR_PROFILE)
    assert with_logins == without


def test_a_thin_profile_gets_no_accusation(household):
    result, verdicts = _verdicts(household, {"emails": ["john.sr@example.com"]})
    assert verdicts == {"SR1": "not_enough_identifiers"}
    assert not result.enough_identifiers and "not enough identifiers" in result.notes[0]


def test_an_unissuable_ssn_is_weak_on_both_sides_and_never_refused(household):
    result, _ = _verdicts(household, {"names": ["Peter Placeholder"], "ssn": "666-12-3456",
                                             "date_of_birth": "1990-01-01"})
    assert any("not one the SSA issues" in n for n in result.notes)
    match = next(m for m in result.matches + result.below_threshold if m.application_id == "CA-WEAK")
    assert not match.hard_link
    assert next(e for e in match.explanation if e.comparison == "ssn").level == "unissuable"


def test_the_explanation_sums_to_the_total_and_probabilities_are_calibrated(household):
    result, _ = _verdicts(household, SR_PROFILE)
    for m in result.matches + result.below_threshold:
        assert abs(sum(e.weight for e in m.explanation) - m.log2_odds) < 0.011
        assert m.explanation[0].comparison == "prior"
        assert 0 < m.probability < 1  # never a certainty
    assert len({round(m.probability, 4) for m in result.matches}) > 1


def test_batch_lines_of_refused_profiles_carry_their_own_id(household, tmp_path, monkeypatch):
    from ombud.cli import identity as identity_cli

    monkeypatch.setattr(household, "close", lambda: None)
    monkeypatch.setattr(identity_cli, "context", lambda: household)
    lines = [{"victim_id": "V1", "profile": SR_PROFILE},
             {"victim_id": "V2", "profile": {"names": ["Jo"], "emails": ["not an email"]}},
             {"victim_id": "V3", "profile": {"names": ["Jo Doe"], "ssn": "000-00-0000"}}]
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(app, ["discover", "--profiles", str(profiles), "--out", str(out)])
    assert result.exit_code == 1, result.output
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [w["victim_id"] for w in written] == ["V1", "V2", "V3"]
    assert written[1]["field"] == "emails[0]" and "result" in written[2]  # an unissuable SSN is searched


# A young account of Rosa's that sent a present early on, and a thief's account under her details (the same
# breach gave the thief her card and her shopping mailbox) that filled in her address at sign-up and then
# shipped to a drop.
ROSA_HOME = "40 Birch Lane,,Portland,OR,97201"
ROSA = {
    "accounts": """account_id,status,created_at,name,email,phone,date_of_birth
ROSA1,active,2015-05-01T10:00:00Z,Rosa Diaz,rosa.diaz@example.com,(503) 555-0141,1985-03-03
GIFT1,active,2026-09-01T10:00:00Z,Rosa Diaz,rosa.d@example.org,(503) 555-0141,
DROP1,active,2026-09-15T10:00:00Z,Rosa Diaz,rosa.shopping@example.net,(503) 555-0141,
""",
    "addresses": f"""address_id,account_id,kind,name,line1,line2,city,region,postal_code,country,created_at
ROSA-S,ROSA1,shipping,Rosa Diaz,{ROSA_HOME},US,2015-05-01T10:00:00Z
ROSA-B,ROSA1,billing,Rosa Diaz,{ROSA_HOME},US,2015-05-01T10:00:00Z
GIFT-S,GIFT1,shipping,Rosa Diaz,{ROSA_HOME},US,2026-09-01T10:00:00Z
GIFT-B,GIFT1,billing,Rosa Diaz,{ROSA_HOME},US,2026-09-01T10:00:00Z
GIFT-G,GIFT1,shipping,Tom Baker,77 Cedar Court,,Eugene,OR,97401,US,2026-09-20T10:00:00Z
DROP-S,DROP1,shipping,Rosa Diaz,{ROSA_HOME},US,2026-09-15T10:00:00Z
DROP-B,DROP1,billing,Rosa Diaz,{ROSA_HOME},US,2026-09-15T10:00:00Z
DROP-D,DROP1,shipping,Rosa Diaz,9 Elm Road,,Dover,DE,19901,US,2026-09-16T10:00:00Z
""",
    "payment_methods": """payment_method_id,account_id,card_number,exp_month,exp_year,cardholder_name,\
billing_address_id,added_at
ROSA-C,ROSA1,4111111111111111,12,2029,Rosa Diaz,ROSA-B,2015-05-02T10:00:00Z
GIFT-C,GIFT1,4111111111111111,12,2029,Rosa Diaz,GIFT-B,2026-09-01T10:05:00Z
DROP-C,DROP1,4111111111111111,12,2029,Rosa Diaz,DROP-B,2026-09-15T10:05:00Z
""",
    "orders": """order_id,account_id,placed_at,status,total,payment_method_id,ship_to_address_id
O-R1,ROSA1,2025-01-01T10:00:00Z,delivered,20.00,ROSA-C,ROSA-S
O-G1,GIFT1,2026-09-05T10:00:00Z,delivered,15.00,GIFT-C,GIFT-S
O-G2,GIFT1,2026-09-21T10:00:00Z,delivered,35.00,GIFT-C,GIFT-G
O-D1,DROP1,2026-09-16T10:10:00Z,shipped,480.00,DROP-C,DROP-D
O-D2,DROP1,2026-09-16T11:00:00Z,shipped,650.00,DROP-C,DROP-D
""",
}
ROSA_LOGINS = """login_id,account_id,at,ip,device,success
R1,ROSA1,2015-05-01T10:00:00Z,203.0.113.4,laptop #4,true
R2,ROSA1,2026-09-01T10:00:00Z,203.0.113.4,laptop #4,true
R3,GIFT1,2026-09-01T10:00:00Z,203.0.113.4,phone #5,true
R4,GIFT1,2026-09-20T10:00:00Z,203.0.113.4,phone #5,true
R5,DROP1,2026-09-15T10:00:00Z,198.51.100.9,thief #9,true
"""
ROSA_PROFILE = {
    "names": ["Rosa Diaz"], "emails": ["rosa.diaz@example.com", "rosa.d@example.org", "rosa.shopping@example.net"],
    "phones": ["503-555-0141"], "date_of_birth": "1985-03-03", "card_numbers": ["4111 1111 1111 1111"],
    "addresses": [{"line1": "40 Birch Lane", "city": "Portland", "region": "OR", "postal_code": "97201"}],
}


@pytest.mark.parametrize("logins", [False, True])
def test_a_gift_from_a_young_account_is_the_persons_and_a_drop_is_not(ctx, tmp_path, logins):
    folder = tmp_path / "rosa"
    folder.mkdir()
    for kind, text in {**ROSA, **({"logins": ROSA_LOGINS} if logins else {})}.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
    assert import_directory(ctx, folder, on_batch=[import_callback(ctx.keys)]).error_count == 0
    result, verdicts = _verdicts(ctx, ROSA_PROFILE)
    assert verdicts["ROSA1"] == "own_account"
    # Her address first, then one present sent elsewhere: her own account.
    assert verdicts["GIFT1"] == "own_account"
    gift = next(m for m in result.matches if m.account_id == "GIFT1")
    assert any("read as a gift" in s for s in gift.signals)
    # Everything typed is hers, but every order went to the drop added the day after sign-up.
    assert verdicts["DROP1"] == "suspected_fraud"
    drop = next(m for m in result.matches if m.account_id == "DROP1")
    assert {o.order_id for o in drop.orders} == {"O-D1", "O-D2"}
