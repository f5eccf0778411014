"""The incidents demo step runs on a store with nothing in it but staff, end to end."""

from __future__ import annotations

from rich.console import Console

from ombud.incidents.demo import run_demo


def test_the_demo_walks_from_reads_to_the_customers_page(ctx, session):
    session.commit()
    console = Console(record=True, width=200)
    run_demo(ctx, console)
    out = console.export_text()
    assert "scope v1" in out and "approved by a privacy officer" in out
    assert "HTTP 200" in out and "incident shown: True" in out
    assert list((ctx.settings.data_dir / "mail").glob("*.eml"))
