"""A short tour of the audit log for `ombud demo`: checkpoint, verify, prove (over the events the demo made)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service, tree
from ombud.audit.schemas import b64
from ombud.audit.verify import verify_log
from ombud.context import Context
from ombud.db import transaction


def run_demo(ctx: Context, console: Console, prove: int | None = None) -> None:
    """Sign a checkpoint over the log as the earlier steps left it, verify the whole log and prove one event.

    Nothing is appended here: every event in the demo's log was written by the step that did the thing (a sign-in,
    a broker read, a request), so it names only employees and customers that exist. ``prove``: the leaf to prove
    (default: the newest broker read, else the newest event).
    """
    console.rule("Audit log")
    with transaction(ctx.sessions) as session:
        size_now = service.log_size(session)
        if size_now == 0:
            console.print("the log is empty: nothing to sign yet")
            return
        if prove is None:
            reads = service.list_events(session, action_prefix="access.read", limit=1, newest_first=True)
            prove = reads[0].index if reads else size_now - 1
    console.print(f"the log holds {size_now} events, each written by the step that did what it records")
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
        index = prove
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
