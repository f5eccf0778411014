"""A scenario with a known truth: an insider's reads (shown, masked, refused, outside the window) among others'."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from accessutil import case, customer, employee
from sqlalchemy import update

from ombud.access import broker
from ombud.incidents import service
from ombud.retail.models import Account, Address
from ombud.staff.models import Employee


@dataclass
class Scenario:
    insider: Employee
    bystander: Employee
    customers: dict[str, Account]
    #: (customer id, item) exactly as the insider saw them unmasked inside the window.
    truth: set[tuple[str, str]] = field(default_factory=set)
    window: tuple = ()


def set_state(session, account: Account, region: str, country: str = "US") -> None:
    session.execute(update(Address).where(Address.account_id == account.id).values(region=region, country=country))


def build(session, clock) -> Scenario:
    """Customers in several states; the insider reads some in the window (one masked, one refused) and one after."""
    insider, bystander = employee(session, name="Ivy Insider"), employee(session, name="Bea Bystander")
    accounts = {}
    for label, state in (("ca", "CA"), ("tx", "Texas"), ("ny", "NY"), ("wa", "WA"), ("later", "FL"),
                         ("other", "CO"), ("refused", "DE")):
        acct = customer(session)
        set_state(session, acct, state)
        accounts[label] = acct
    start = clock.current
    s = Scenario(insider, bystander, accounts)
    c = {k: case(session, a, insider) for k, a in accounts.items() if k != "refused"}
    clock.advance(timedelta(minutes=5))
    broker.read(session, insider, customer_id=accounts["ca"].external_id, purpose=f"case:{c['ca'].id}",
                fields=["email", "phone"])
    s.truth |= {(accounts["ca"].external_id, i) for i in ("name", "email", "phone")}
    clock.advance(timedelta(minutes=5))
    # Masked: cards, SSN and date of birth and the orders' IP/device are masked for an agent; orders are shown.
    broker.read(session, insider, customer_id=accounts["tx"].external_id, purpose=f"case:{c['tx'].id}",
                fields=["email", "payment_methods", "ssn_last4", "date_of_birth", "orders"])
    s.truth |= {(accounts["tx"].external_id, i) for i in ("name", "email", "orders")}
    clock.advance(timedelta(minutes=5))
    broker.read(session, insider, customer_id=accounts["ny"].external_id, purpose=f"case:{c['ny'].id}",
                fields=["addresses"])
    broker.read(session, insider, customer_id=accounts["wa"].external_id, purpose=f"case:{c['wa'].id}",
                fields=["phone"])
    s.truth |= {(accounts["ny"].external_id, i) for i in ("name", "addresses")}
    s.truth |= {(accounts["wa"].external_id, i) for i in ("name", "phone")}
    # Refused: no case for this customer, so nothing is shown.
    broker.read(session, insider, customer_id=accounts["refused"].external_id, purpose=f"case:{c['ca'].id}",
                fields=["email"])
    # Someone else's read is not the insider's.
    other_case = case(session, accounts["other"], bystander)
    broker.read(session, bystander, customer_id=accounts["other"].external_id, purpose=f"case:{other_case.id}",
                fields=["email"])
    clock.advance(timedelta(hours=1))
    end = clock.current
    clock.advance(timedelta(minutes=1))
    broker.read(session, insider, customer_id=accounts["later"].external_id, purpose=f"case:{c['later'].id}",
                fields=["email"])
    s.window = (start, end)
    session.flush()
    return s


def open_for(session, s: Scenario, clock, **kw):
    kw.setdefault("title", "Insider sold contact details")
    return service.open_incident(
        session, description="An employee sold customers' emails.", actors=[s.insider.external_id],
        window_start=s.window[0], window_end=s.window[1], discovered_at=clock.current, by=s.bystander, **kw,
    )


def alert_of(session, s, status, days_before=0):
    """An insider alert on the scenario's insider over its window, in this status."""
    from ombud.insider.models import AlertStatus, CaseStatus, InsiderAlert, InsiderCase, InsiderScan, ScanStatus

    now = s.window[1]
    scan = InsiderScan(started_at=now, finished_at=now, status=ScanStatus.finished, engine="duckdb", params={},
                       summary={})
    case = InsiderCase(employee_id=s.insider.id, status=CaseStatus.escalated, opened_at=now, updated_at=now)
    session.add_all([scan, case])
    session.flush()
    alert = InsiderAlert(case_id=case.id, scan_id=scan.id, employee_id=s.insider.id,
                         day=now.date() - timedelta(days=days_before), window_start=s.window[0],
                         window_end=s.window[1] - timedelta(seconds=1), score=3.2,
                         findings=[], explanation="Read 5 customers' contact details with no reason on record.",
                         status=AlertStatus(status), decided_at=now, created_at=now, updated_at=now)
    session.add(alert)
    session.flush()
    return alert


def signed_in(app, session, settings, who):
    """A console client signed in as `who` (no redirects followed), and its CSRF token."""
    from fastapi.testclient import TestClient

    from ombud.staff import service as staff_service

    started = staff_service.start_session(session, settings, who, ip="127.0.0.1", user_agent="pytest")
    session.commit()
    client = TestClient(app, headers={"accept": "text/html"}, follow_redirects=False)
    client.cookies.set("ombud_session", started.token)
    return client, started.record.csrf_token
