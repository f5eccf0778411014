"""Identity fixtures: hand-made retail rows, and a small synthetic retailer generated once per run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ombud.crypto import card_fingerprint, keyed_hash
from ombud.retail.models import (
    Account,
    AccountStatus,
    Address,
    AddressKind,
    CreditApplication,
    CreditDecision,
    CreditProduct,
    Login,
    PaymentMethod,
)
from ombud.synth import generate

_ids = itertools.count(1)
T0 = datetime(2020, 1, 1, tzinfo=UTC)


class Retail:
    """Builds retail rows the way the importer stores them (fingerprints and keyed hashes)."""

    def __init__(self, session, keys) -> None:
        self.session = session
        self.keys = keys

    def account(self, name, email=None, phone=None, dob=None, at=T0):
        n = next(_ids)
        a = Account(external_id=f"A{n:06d}", status=AccountStatus.active, created_at=at, updated_at=at, name=name,
                    email=email, phone=phone, date_of_birth=dob)
        self.session.add(a)
        self.session.flush()
        return a

    def address(self, account, line1, line2=None, city="Springfield", region="IL", postal="62704",
                kind=AddressKind.billing, at=T0):
        a = Address(external_id=f"AD{next(_ids):06d}", account_id=account.id, kind=kind, line1=line1, line2=line2,
                    city=city, region=region, postal_code=postal, country="US", created_at=at)
        self.session.add(a)
        self.session.flush()
        return a

    def card(self, account, number, holder=None, billing=None, at=T0):
        p = PaymentMethod(external_id=f"PM{next(_ids):06d}", account_id=account.id,
                          card_fingerprint=card_fingerprint(self.keys.card_fingerprint_key, number),
                          last4=number[-4:], brand="visa", exp_month=1, exp_year=2030, cardholder_name=holder,
                          billing_address_id=billing.id if billing else None, added_at=at)
        self.session.add(p)
        self.session.flush()
        return p

    def application(self, account, name, ssn=None, dob=None, line1="1 Elm St", postal="62704", at=T0):
        c = CreditApplication(
            external_id=f"CA{next(_ids):06d}", account_id=account.id if account else None,
            product=CreditProduct.store_card, applied_at=at, applicant_name=name, date_of_birth=dob,
            ssn_hash=keyed_hash(self.keys.identifier_hash_key, "ssn", ssn.replace("-", "")) if ssn else None,
            ssn_last4=ssn[-4:] if ssn else None, line1=line1, city="Springfield", region="IL", postal_code=postal,
            country="US", decision=CreditDecision.approved)
        self.session.add(c)
        self.session.flush()
        return c

    def logins(self, account, device, start, days, every=30):
        for offset in range(0, days, every):
            self.session.add(Login(external_id=f"L{next(_ids):07d}", account_id=account.id,
                                   at=start + timedelta(days=offset), device=device, success=True))
        self.session.flush()


@pytest.fixture
def retail(session, ctx):
    return Retail(session, ctx.keys)


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    """A small synthetic retailer with many victims (every case and look-alike kind appears)."""
    path = tmp_path_factory.mktemp("identity-synth") / "retailer"
    generate(path, accounts=1000, seed=5, victim_rate=0.08)
    return path
