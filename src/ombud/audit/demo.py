"""A short tour of the audit log for `ombud demo`: append, checkpoint, verify, prove."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service, tree
from ombud.audit.events import AuditEvent, pinned
from ombud.audit.schemas import b64
from ombud.audit.verify import verify_log
from ombud.context import Context
from ombud.db import transaction


def demo_events(identifier_key: bytes) -> list[AuditEvent]:
    """A few events of the kinds the log records (fictional references only)."""
    return [
        AuditEvent("staff.sign_in", "employee", "E-DEMO-1", detail={"channel": "console"}),
        AuditEvent(
            "access.read", "employee", "E-DEMO-1", customer_id="C-DEMO-1001", subject_type="case", subject_id="1",
            fields=("email", "shipping_address"), purpose="case:1", decision="allow",
        ),
        AuditEvent(
            "access.read", "employee", "E-DEMO-2", customer_id="C-DEMO-1001", fields=("card_fingerprint",),
            purpose=None, decision="deny", detail={"reason": "no open case for this customer"},
        ),
        AuditEvent(
            "victim_request.received", "victim", None, subject_type="victim_request", subject_id="VR-DEMO-1",
            detail={"claimant": pinned(identifier_key, "email", "claimant@example.com")},
        ),
    ]


def run_demo(ctx: Context, console: Console) -> None:
    """Append a few events, sign a checkpoint, verify the whole log and show one inclusion proof."""
    console.rule("Audit log")
    with transaction(ctx.sessions) as session:
        indexes = service.append_events(session, demo_events(ctx.keys.identifier_hash_key))
    console.print(f"appended events {indexes[0]}..{indexes[-1]} (one transaction, gapless sequence)")
    with transaction(ctx.sessions) as session:
        result = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        note = result.checkpoint.note
        size = result.checkpoint.tree_size
        root = bytes(result.checkpoint.root_hash)
    console.print(f"signed checkpoint of {size} events (C2SP signed note, Ed25519):")
    console.print(note, markup=False, highlight=False, soft_wrap=True)
    verifier = checkpoints.verifier(ctx.keys, ctx.settings)
    with transaction(ctx.sessions) as session:
        report = verify_log(session, [verifier], ctx.settings.audit_origin)
        index = indexes[1]
        record = service.get_event(session, index)
        proof = tree.inclusion_proof(session, index, size)
    status = "[green]OK[/]" if report.ok else f"[red]FAILED[/] {report.first_problem}"
    console.print(f"full verification: {status} ({report.events} events, {report.checkpoints} checkpoints)")
    leaf = merkle.leaf_hash(record.leaf_data())
    ok = merkle.verify_inclusion(leaf, index, size, proof, root)
    table = Table("inclusion proof of event", str(index), show_header=True)
    table.add_row("action", f"{record.action} by {record.actor_type} {record.actor_id}")
    table.add_row("leaf hash", b64(leaf))
    for i, node in enumerate(proof):
        table.add_row(f"proof[{i}]", b64(node))
    table.add_row("verifies against the checkpoint", "[green]yes[/]" if ok else "[red]no[/]")
    console.print(table)
    console.print(f"verifier key: {verifier.text()}", markup=False, highlight=False, soft_wrap=True)
