"""The demo's broker walk-through: an allowed, a masked and a refused read, each on the record."""

from __future__ import annotations

import io

from accessutil import customer, events
from rich.console import Console

from ombud.access.demo import run_demo
from ombud.access.models import Decision


def test_run_demo_shows_allowed_masked_and_refused_reads(session, ctx, frozen):
    customer(session)
    customer(session)
    session.commit()
    out = io.StringIO()
    result = run_demo(ctx, Console(file=out, width=200))
    assert [v.decision for v in result.views.values()] == [Decision.allowed, Decision.masked, Decision.denied]
    text = out.getvalue()
    assert "refused" in text and "masked" in text and "•••• 4242" in text
    leaves = events(session, "access.read")
    assert [e.index for e in leaves[-3:]] == [v.audit_index for v in result.views.values()]
    again = run_demo(ctx, Console(file=io.StringIO()))
    assert again.case_id == result.case_id, "a rerun reuses the demo case"


def test_run_demo_makes_its_own_agent_when_the_demo_staff_are_missing(session, ctx, frozen):
    result = run_demo(ctx, Console(file=io.StringIO()))
    assert [v.decision for v in result.views.values()] == [Decision.allowed, Decision.masked, Decision.denied]
