"""The read helpers other domains use to reach an account's records."""

from __future__ import annotations

import pytest

from ombud.errors import NotFound
from ombud.retail import service
from ombud.retail.importer import import_directory


def test_an_accounts_records_in_order(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    a1 = service.require_account_by_external_id(session, "A1")
    assert service.get_account(session, a1.id) is a1
    cards = service.list_payment_methods(session, a1.id)
    assert [c.external_id for c in cards] == ["PM1", "PM4"]
    a3 = service.require_account_by_external_id(session, "A3")
    assert [c.external_id for c in service.list_payment_methods(session, a3.id)] == ["PM3"]
    assert service.list_payment_methods(session, a3.id, include_removed=False) == []
    assert [a.external_id for a in service.list_credit_applications(session, a1.id)] == ["CA1"]
    assert [login.external_id for login in service.list_logins(session, a1.id, limit=1)] == ["L2"]
    order = service.get_order_by_external_id(session, "O1")
    assert order is not None and order.account_id == a1.id
    assert service.list_order_lines(session, []) == {}


def test_unknown_accounts(session):
    assert service.get_account_by_external_id(session, "nobody") is None
    assert service.get_order_by_external_id(session, "nothing") is None
    with pytest.raises(NotFound):
        service.require_account_by_external_id(session, "nobody")
    with pytest.raises(NotFound):
        service.get_account(session, 987654)
