"""The console for daily use: records read like records, times in the viewer's zone, tables that page, sort and
filter, names instead of ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from accessutil import case, customer, employee
from hypothesis import given
from hypothesis import strategies as st

from ombud.access import broker, service
from ombud.access.models import CaseType
from ombud.staff.models import Role
from ombud.web import present


def test_values_as_people_read_them():
    assert present.money(123456, "USD") == "$1,234.56" and present.money(-5, "EUR") == "-€0.05"
    assert present.money(1200, "JPY") == "¥1,200" and present.money(99, "CHF") == "0.99 CHF"
    assert present.label("total_cents") == "Total" and present.label("support_ticket") == "Support ticket"
    assert present.label("date_of_birth") == "Date of birth" and present.label("some_new_key") == "Some new key"
    at = datetime(2026, 1, 15, 15, 30, tzinfo=UTC)
    shown = str(present.time_html(at, "America/New_York"))
    assert ">2026-01-15 10:30 EST<" in shown and 'title="2026-01-15 15:30:00 UTC"' in shown
    assert 'datetime="2026-01-15T15:30:00+00:00"' in shown
    assert ">2026-01-15 15:30 UTC<" in str(present.time_html(at, None))
    assert ">2026-01-15 15:30 UTC<" in str(present.time_html("2026-01-15T15:30:00+00:00", "Nowhere/Invalid"))
    assert present.time_html("2019", "UTC") == "2019"  # a masked date keeps its year and is not a time
    assert 'class="masked"' in str(present.shown("j•••@example.com"))
    assert present.shown("•••• 4242") == "•••• 4242"  # a card number is always shown so; not masked
    home = {"name": "Jane Doe", "line1": "1 Main St", "line2": None, "city": "Springfield", "region": "IL",
            "postal_code": "62701", "country": "US"}
    assert str(present.address(home)) == (
        '<span class="address">Jane Doe<br>1 Main St<br>Springfield, IL 62701<br>US</span>')
    masked = {**home, "line1": "•••", "postal_code": "•••"}
    assert 'class="masked"' in str(present.address(masked, one_line=True))


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_money_reads_back_as_the_same_amount(cents):
    text = present.money(cents, "USD")
    sign = -1 if text.startswith("-") else 1
    assert Decimal(text.lstrip("-").lstrip("$").replace(",", "")) * 100 * sign == cents


def test_the_brokers_view_reads_like_a_record(session, frozen, browser):
    officer, acct = employee(session, Role.privacy_officer), customer(session)
    c = case(session, acct, officer, CaseType.victim_request)
    client, csrf = browser(officer)
    page = client.post(f"/access/cases/{c.id}/read", data={"csrf_token": csrf, "classes": [
        "contact", "address", "payment", "order_history", "login_device"]}).text
    assert "Email address" in page and "Phone number" in page and "Cards on file" in page
    for key in ("total_cents", "unit_price_cents", "placed_at", "postal_code", "cardholder_name", "line1", "email",
                "payment_methods"):
        assert f">{key}<" not in page  # no raw keys as headings
    assert re.search(r"\$\d[\d,]*\.\d\d", page)  # order totals as money
    assert '<span class="address">' in page and "<br>" in page  # addresses as addresses
    assert "<time datetime=" in page and "UTC" in page


def test_masked_values_are_marked_masked(session, frozen, browser):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    client, csrf = browser(agent)
    page = client.post(f"/access/cases/{c.id}/read", data={"csrf_token": csrf, "classes": ["contact", "payment"]})
    cards = page.text.split('data-field="payment_methods"', 1)[1].split("</tr>\n", 1)[0]
    assert 'class="masked"' in cards and "•••• 4242" in cards and "badge" in page.text


def test_times_are_in_the_viewers_zone_with_utc_on_hover(session, frozen, browser):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email"])
    service.set_profile(session, officer, actor=None, timezone="America/Chicago")
    client, _ = browser(officer)
    page = client.get("/access/decisions", params={"customer_id": acct.external_id}).text
    assert ">2026-03-02 04:00 CST<" in page and 'title="2026-03-02 10:00:00 UTC"' in page


def test_decisions_page_pages_sorts_and_filters(session, frozen, browser):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    c = case(session, acct, agent)
    for n in range(30):
        broker.read(session, agent, customer_id=acct.external_id, fields=["email"],
                    purpose=f"case:{c.id}" if n % 3 else None)
    client, _ = browser(officer)
    first = client.get("/access/decisions", params={"customer_id": acct.external_id, "size": "25"}).text
    assert first.count("data-decision=") == 25 and 'data-total="30"' in first and 'rel="next"' in first
    second = client.get("/access/decisions", params={"customer_id": acct.external_id, "size": "25", "page": "2"})
    assert second.text.count("data-decision=") == 5
    denied = client.get("/access/decisions", params={"customer_id": acct.external_id, "decision": "denied"}).text
    assert set(re.findall(r'data-decision="(\w+)"', denied)) == {"denied"} and 'data-total="10"' in denied
    leaves = [int(x) for x in re.findall(r'<td class="num">(\d+)</td></tr>', client.get(
        "/access/decisions", params={"customer_id": acct.external_id, "sort": "leaf"}).text)]
    assert leaves == sorted(leaves) and len(leaves) == 30
    # Nothing undeclared reaches the query: an unknown sort or filter value is ignored, not an error.
    odd = client.get("/access/decisions", params={"sort": "1; drop table x", "decision": "maybe", "size": "9999"})
    assert odd.status_code == 200


def test_the_reach_report_pages_and_filters_instead_of_one_long_table(session, frozen, browser):
    officer = employee(session, Role.privacy_officer)
    for _ in range(40):
        employee(session)
    client, _ = browser(officer)
    page = client.get("/access/reviews").text
    assert page.count("data-reach=") == 50 and 'rel="next"' in page
    contact = client.get("/access/reviews", params={"data_class": "contact", "role": "agent", "size": "200"}).text
    rows = re.findall(r'data-reach="(\d+)-(\w+)"', contact)
    assert rows and {cls for _, cls in rows} == {"contact"}
    assert 'aria-sort="ascending"' in page  # sorted by name, and says so
    # Case types by name, not by their codes.
    assert re.search(r"the role, on [a-z, ]*support ticket[a-z, ]* cases", contact)
    assert "support_ticket" not in contact


def test_break_glass_and_all_grants_page_with_the_review_queue_first(session, frozen, browser):
    from ombud.access import breakglass, grants
    from ombud.access.models import BreakGlassReview, GrantKind

    analyst = employee(session, Role.security_analyst)
    officer = employee(session, Role.privacy_officer)
    agents = [employee(session) for _ in range(3)]
    uses = [breakglass.open_break_glass(session, employee=agents[i % 3], customer_id=customer(session).external_id,
                                        justification="customer locked out during a fraud call", classes=["contact"])
            for i in range(60)]
    for use in uses[:50]:  # the oldest fifty reviewed; the ten newest wait
        breakglass.review(session, use, reviewer=analyst, outcome=BreakGlassReview.justified, note=None)
    session.flush()
    client, _ = browser(analyst)
    page = client.get("/access/break-glass").text
    shown = [int(x) for x in re.findall(r'data-break-glass="(\d+)"', page)]
    assert len(shown) == 50 and 'rel="next"' in page
    assert shown[:10] == sorted((u.id for u in uses[50:]), reverse=True)  # waiting for a verdict first
    waiting = client.get("/access/break-glass", params={"review": "pending"}).text
    assert len(re.findall(r'data-break-glass="(\d+)"', waiting)) == 10
    people = [customer(session).external_id for _ in range(55)]
    for i, person in enumerate(people):
        grants.request_grant(session, requester=agents[i % 3], kind=GrantKind.just_in_time, data_class="contact",
                             justification="checking a disputed delivery address", customer_id=person,
                             duration_minutes=30)
    session.flush()
    officer_client, _ = browser(officer)
    listed = officer_client.get("/access/grants").text.split('id="all-heading"')[1]
    assert len(re.findall(r'data-grant="(\d+)"', listed)) == 50 and 'rel="next"' in listed
    one = officer_client.get("/access/grants", params={"all_customer_id": people[7]}).text.split('id="all-heading"')[1]
    assert len(re.findall(r'data-grant="(\d+)"', one)) == 1
