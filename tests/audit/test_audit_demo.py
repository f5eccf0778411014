"""The audit part of `ombud demo`: appends, signs, verifies and proves, quickly."""

from __future__ import annotations

import io
import time

from rich.console import Console

from ombud.audit import checkpoint as checkpoints
from ombud.audit import service
from ombud.audit.demo import run_demo


def test_the_demo_appends_signs_verifies_and_proves(session, ctx):
    out = io.StringIO()
    started = time.perf_counter()
    run_demo(ctx, Console(file=out, width=200))
    assert time.perf_counter() - started < 5
    text = out.getvalue()
    assert "full verification: OK" in text and "verifies against the checkpoint │ yes" in text
    assert "\u2014 " + ctx.settings.audit_key_name in text  # the signed note's signature line
    assert service.log_size(session) == 4
    assert checkpoints.latest_checkpoint(session).tree_size == 4
    assert "claimant@example.com" not in "".join(r.detail.get("claimant", "") for r in service.list_events(session))
