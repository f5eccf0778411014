"""Masking rules: a masked value keeps its shape and never contains the part it hides."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from ombud.access import masking
from ombud.access.classes import FIELDS, DataClass
from ombud.access.masking import MASKERS

_local = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="._+-"),
                 min_size=2, max_size=30)
_domain = st.from_regex(r"[a-z]{2,12}\.(com|org|example)", fullmatch=True)


@given(_local, _domain)
def test_email_keeps_first_character_and_domain_only(local, domain):
    masked = masking.mask_email(f"{local}@{domain}")
    assert masked == f"{local[0]}***@{domain}"
    # Of the local part only its first character is left: the rest is three asterisks whatever it was.
    assert masked.split("@")[0][1:] == "***"


def test_email_example_from_the_issue():
    assert masking.mask_email("jane.doe@example.com") == "j***@example.com"


@given(st.lists(st.integers(0, 9), min_size=7, max_size=15), st.sampled_from(["", "+", "(", " "]))
def test_phone_shows_only_its_last_four_digits(digits, prefix):
    text = prefix + "".join(map(str, digits[:3])) + "-" + "".join(map(str, digits[3:]))
    masked = masking.mask_phone(text)
    assert masked == "***-***-" + "".join(map(str, digits))[-4:]
    assert re.sub(r"\D", "", masked) == "".join(map(str, digits))[-4:]


@given(st.lists(st.from_regex(r"[A-Z][a-z]{2,12}", fullmatch=True), min_size=1, max_size=4))
def test_names_become_initials(words):
    name = " ".join(words)
    masked = masking.mask_name(name)
    assert masked == " ".join(w[0] + "." for w in words)
    for word in words:
        assert word not in masked


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_keep_the_year_only(value):
    masked = masking.year_only(value)
    assert masked == f"{value.year:04d}"
    assert masking.year_only(value.isoformat()) == masked
    moment = datetime(value.year, value.month, value.day, 13, 5, tzinfo=UTC)
    assert masking.year_only(moment) == masked


@given(st.from_regex(r"\d{3}-\d{2}-\d{4}", fullmatch=True))
def test_ssn_shows_last_four_at_most_and_nothing_when_masked(ssn):
    assert masking.show_ssn_last4(ssn) == "***-**-" + ssn[-4:]
    assert not re.search(r"\d", masking.mask_ssn_last4(ssn[-4:]))


@given(st.from_regex(r"[1-9][0-9]{1,2} [A-Z][a-z]{3,10} (Street|Road|Avenue)", fullmatch=True),
       st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_address_keeps_city_and_state_only(line1, postal):
    address = {"kind": "shipping", "name": "Jane Doe", "line1": line1, "line2": "Apt 7", "city": "Springfield",
               "region": "IL", "postal_code": postal, "country": "US"}
    masked = masking.mask_address(address)
    assert set(masked) == set(address)
    assert (masked["city"], masked["region"], masked["country"]) == ("Springfield", "IL", "US")
    text = repr(masked)
    assert line1 not in text and postal not in text and "Apt 7" not in text and "Jane" not in text


@given(st.integers(1, 12), st.integers(2024, 2040))
def test_card_keeps_brand_and_last_four_hides_expiry_and_holder(month, year):
    card = {"brand": "visa", "number": "•••• 4242", "last4": "4242", "expiry": f"{month:02d}/{year}",
            "cardholder_name": "Jane Doe", "added_at": "2025-01-02T00:00:00+00:00", "removed_at": None}
    masked = masking.mask_card(card)
    assert masked["number"] == "•••• 4242" and masked["brand"] == "visa"
    assert str(year) not in masked["expiry"] and masked["cardholder_name"] == "J. D."


@given(st.ip_addresses(v=4))
def test_ip_keeps_its_first_octet_only(ip):
    masked = masking.mask_ip(str(ip))
    first, *_rest = str(ip).split(".")
    assert masked == f"{first}.•.•.•"


def test_order_login_and_note_rules_hide_their_contents():
    order = {"id": "O1", "placed_at": "2026-02-10T10:00:00+00:00", "status": "delivered", "currency": "USD",
             "total_cents": 4599, "items": [{"sku": "S", "description": "Garden hose", "quantity": 1,
                                             "unit_price_cents": 4599}], "ship_to": "A1", "ip": "1.2.3.4",
             "device": "iPhone"}
    masked = masking.mask_order(order)
    assert masked["placed_at"] == "2026" and "Garden hose" not in repr(masked) and "4599" not in repr(masked)
    note = masking.mask_note({"created_at": "2026-01-01T00:00:00", "channel": "phone", "author": "Alex Agent",
                              "body": "Called about the parcel"})
    assert note["body"] == masking.HIDDEN and note["author"] == "A. A." and note["channel"] == "phone"
    login = masking.mask_login({"at": "2026-01-01T00:00:00", "ip": "203.0.113.5", "device": "Chrome",
                                "success": True})
    assert login == {"at": "2026", "ip": "203.•.•.•", "device": masking.HIDDEN, "success": True}


def test_none_stays_none():
    for rules in MASKERS.values():
        for rule in rules.values():
            assert rule(None) is None


def test_registry_has_a_rule_for_every_field_and_part():
    for spec in FIELDS.values():
        if spec.kind != "record":
            assert spec.kind in MASKERS[spec.data_class], spec.name
        for cls, kind in spec.parts.values():
            assert kind in MASKERS[cls], (spec.name, cls, kind)
    assert set(MASKERS) == set(DataClass)
