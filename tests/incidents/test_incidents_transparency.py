"""The customer's signed link: the page and API show accesses without names; bad links get a bare 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accessutil import T0, case, customer, employee
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.access import broker
from ombud.app import create_app
from ombud.incidents import links

KEY = bytes(range(32))


def test_a_signed_link_names_its_customer():
    token = links.sign(KEY, "C000123", minutes=10, now=T0)
    assert links.verify(KEY, token, now=T0 + timedelta(minutes=9)) == "C000123"


@pytest.mark.parametrize("when", [timedelta(minutes=10), timedelta(hours=1)])
def test_an_expired_link_is_refused(when):
    token = links.sign(KEY, "C000123", minutes=10, now=T0)
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, token, now=T0 + when)


def test_a_link_living_longer_than_fifteen_minutes_is_refused():
    token = links.sign(KEY, "C000123", minutes=16, now=T0)
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, token, now=T0)
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, links.sign(KEY, "C000123", minutes=10, now=T0), max_minutes=5, now=T0)


def test_another_key_or_customer_is_refused():
    token = links.sign(KEY, "C000123", now=T0)
    with pytest.raises(links.LinkRefused):
        links.verify(bytes(32), token, now=T0)
    parts = token.split(".")
    parts[1] = links.sign(KEY, "C000124", now=T0).split(".")[1]
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, ".".join(parts), now=T0)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200), st.characters(codec="ascii"))
def test_any_tampered_character_is_refused(position, replacement):
    token = links.sign(KEY, "C000123", now=T0)
    position %= len(token)
    if token[position] == replacement:
        return
    tampered = token[:position] + replacement + token[position + 1:]
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, tampered, now=T0)


@pytest.fixture
def public(ctx):
    return TestClient(create_app(ctx=ctx), headers={"accept": "text/html"})


def test_the_page_and_api_show_accesses_never_names(session, frozen, public, ctx):
    agent = employee(session, name="Zed Snooper", team="support-east", region="us")
    acct = customer(session)
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email"])
    broker.read(session, agent, customer_id=acct.external_id, purpose="", fields=["email"])  # refused: not shown
    session.commit()
    token = links.sign(links.link_key(ctx.settings), acct.external_id)
    page = public.get("/my-data", params={"token": token})
    assert page.status_code == 200
    assert "support-east" in page.text and "a customer-service request" in page.text
    assert "Zed Snooper" not in page.text and agent.external_id not in page.text
    assert "<script" not in page.text and page.headers["referrer-policy"] == "no-referrer"
    data = public.get("/api/public/my-data", params={"token": token}).json()
    assert len(data["accesses"]) == 1 and data["accesses"][0]["team"] == "support-east"
    assert "Zed" not in str(data) and data["incidents"] == []


@pytest.mark.parametrize("bad", ["", "v1.x.1.y", "garbage", None])
def test_a_bad_link_gets_a_403_that_reveals_nothing(session, frozen, public, ctx, bad):
    acct = customer(session)
    session.commit()
    if bad is None:  # expired
        bad = links.sign(links.link_key(ctx.settings), acct.external_id, minutes=1, now=T0 - timedelta(minutes=5))
    page = public.get("/my-data", params={"token": bad})
    assert page.status_code == 403 and "This link is not valid" in page.text
    assert acct.external_id not in page.text and "expired" not in page.text.lower()
    api = public.get("/api/public/my-data", params={"token": bad})
    assert api.status_code == 403 and api.json() == {"detail": "this link is not valid"}
