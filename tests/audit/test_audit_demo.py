"""The audit part of `ombud demo`: appends, signs, verifies and proves, quickly."""

from __future__ import annotations

import io
import time

from rich.console import Console

from ombud.audit import checkpoint as checkpoints
from ombud.audit import service
from ombud.audit.demo import run_demo
from ombud.staff import service as staff_service


def test_the_demo_signs_verifies_and_proves_the_events_the_demo_made(session, ctx):
    # An event written by the step that did the thing (here: adding a staff account), about someone who exists.
    staff_service.create_employee(session, name="Dana Demo", email="dana.demo@example.com", team="support",
                                  role="agent", region="us")
    session.commit()
    before = service.log_size(session)
    out = io.StringIO()
    started = time.perf_counter()
    run_demo(ctx, Console(file=out, width=200))
    assert time.perf_counter() - started < 5
    text = out.getvalue()
    assert "full verification: OK" in text and "verifies against the checkpoint │ yes" in text
    assert "\u2014 " + ctx.settings.audit_key_name in text  # the signed note's signature line
    assert service.log_size(session) == before  # nothing invented: no events about people who do not exist
    assert checkpoints.latest_checkpoint(session).tree_size == before
