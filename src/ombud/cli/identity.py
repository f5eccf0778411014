"""Commands of the identity domain: `ombud identity reindex|train|stats|evaluate` and `ombud discover`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ombud.cli.common import console, context, fail
from ombud.errors import InvalidInput

identity_app = typer.Typer(help="The identity index: rebuild, train, inspect, evaluate.", no_args_is_help=True)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


@identity_app.command("reindex")
def reindex_command(
    batch_size: int = typer.Option(5000, min=100, help="Accounts read and written per batch."),
    workers: int = typer.Option(1, min=1, max=32, help="Processes that normalise in parallel (the main one writes)."),
) -> None:
    """Rebuild the identity index from the retail tables (imports keep it current on their own)."""
    from ombud.identity.index import count_sources, reindex

    ctx = context()
    try:
        with ctx.sessions() as session, session.begin():
            total = count_sources(session)
            with _bar() as progress:
                task = progress.add_task("indexing", total=total)
                result = reindex(session, ctx.keys, progress=lambda n: progress.advance(task, n),
                                 batch_size=batch_size, workers=workers)
    finally:
        ctx.close()
    console.print(f"[green]indexed {result.records:,} records under {result.keys:,} keys "
                  f"in {result.seconds:.1f} s[/]")


@identity_app.command("train")
def train_command(
    sample: int = typer.Option(5000, min=100, help="Records whose blocked pairs train m (EM)."),
    random_pairs: int = typer.Option(50_000, min=1000, help="Random record pairs that estimate u."),
    seed: int = typer.Option(0, help="Seed of the samples."),
) -> None:
    """Estimate the scoring model from the retailer's own data (no labels) and store it."""
    from ombud.identity.training import train

    ctx = context()
    try:
        with ctx.sessions() as session, session.begin(), console.status("training") as status:
            report = train(session, ctx.keys, sample_records=sample, random_pairs=random_pairs, seed=seed,
                           progress=lambda step: status.update(f"training: {step}"))
    finally:
        ctx.close()
    table = Table("EM session", "pairs", "λ", "iterations", "used")
    for label, info in report.sessions.items():
        table.add_row(label, f"{info['pairs']:,}", str(info.get("lambda", "")), str(info.get("iterations", "")),
                      "yes" if info.get("used") else "no")
    console.print(table)
    console.print(f"model {report.model_id}: {report.records:,} records, {report.random_pairs:,} random pairs, "
                  f"{report.blocked_pairs:,} blocked pairs, {report.links_per_identity} records per identity")


@identity_app.command("stats")
def stats_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Size of the index: records, keys by kind, largest blocks, the model in use."""
    from ombud.identity.index import index_stats
    from ombud.identity.service import load_model

    ctx = context()
    try:
        with ctx.sessions() as session:
            stats = index_stats(session)
            model = load_model(session, fresh=True)
    finally:
        ctx.close()
    stats["model"] = {"trained": model.trained, "records_per_identity": model.links_per_identity,
                      "id": model.info.get("model_id")}
    if as_json:
        console.print_json(json.dumps(stats))
        return
    console.print(f"records: {stats['records']:,} ({stats['application_records']:,} stand-alone applications); "
                  f"keys: {stats['keys']:,}")
    if stats["stale"]:
        console.print(f"[yellow]the retail tables hold {stats['source_records']:,} accounts and stand-alone "
                      "applications: run `ombud identity reindex`[/]")
    table = Table("key kind", "blocks", "keys", "largest block", "blocks over cap")
    for k in stats["kinds"]:
        table.add_row(k["kind"], f"{k['blocks']:,}", f"{k['keys']:,}", f"{k['largest_block']:,}",
                      f"{k['giant_blocks']:,}")
    console.print(table)
    trained = "trained" if model.trained else "defaults (run `ombud identity train`)"
    last = stats["last_reindex"]
    rebuilt = (f"{last['finished_at'][:16].replace('T', ' ')} UTC ({last['records']:,} records in {last['seconds']} s)"
               if last else "never")
    console.print(f"model: {trained}; last rebuild: {rebuilt}")


@identity_app.command("evaluate")
def evaluate_command(
    truth: Path = typer.Argument(..., exists=True, dir_okay=False, help="truth/victims.jsonl of `ombud synth`."),
    threshold: float = typer.Option(0.5, min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run discovery for every victim of a synthetic truth file; report precision and recall."""
    from ombud.identity.evaluate import evaluate, read_truth
    from ombud.identity.service import discover

    victims = list(read_truth(truth))
    ctx = context()
    try:
        with ctx.sessions() as session, _bar() as progress:
            task = progress.add_task("victims", total=len(victims))
            result = evaluate(victims, lambda p: discover(session, ctx.keys, p, threshold=threshold,
                                                          include_below_threshold=False),
                              progress=lambda n: progress.advance(task, n))
    finally:
        ctx.close()
    summary = result.summary()
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table("measure", "value")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else f"{value:,}")
    console.print(table)


def _print_result(result: Any) -> None:
    table = Table("#", "account", "probability", "verdict", "what matched", title="Accounts that used this identity")
    for i, m in enumerate(result.matches, 1):
        who = m.account_id or f"application {m.application_id}"
        colour = {"suspected_fraud": "red", "own_account_takeover_suspected": "red", "own_account": "green"}.get(
            m.verdict, "yellow")
        table.add_row(str(i), who, f"{m.probability:.4f}", f"[{colour}]{m.verdict.replace('_', ' ')}[/]", m.summary)
    console.print(table)
    for i, m in enumerate(result.matches, 1):
        console.print(f"\n[bold]{i}. {m.account_id or m.application_id}[/] ({m.log2_odds:+.1f} bits)")
        for line in m.signals:
            console.print(f"   • {line}")
        for e in m.explanation:
            if e.kind != "missing":
                console.print(f"   {e.text}")
        if m.cards:
            console.print("   cards: " + ", ".join(f"{c.payment_method_id} (…{c.last4})" for c in m.cards))
        if m.addresses:
            console.print("   addresses: " + ", ".join(f"{a.address_id} ({a.kind})" for a in m.addresses))
        if m.applications:
            console.print("   applications: " + ", ".join(f"{a.application_id} ({a.decision})" for a in m.applications))
        if m.orders:
            more = f" and {m.orders_total - len(m.orders)} more" if m.orders_total > len(m.orders) else ""
            console.print("   orders: " + ", ".join(o.order_id for o in m.orders[:10]) + more)
    if result.below_threshold:
        low = Table("account", "probability", "what matched", title="Below the threshold (likely other people)")
        for m in result.below_threshold[:20]:
            low.add_row(m.account_id or f"application {m.application_id}", f"{m.probability:.4f}", m.summary)
        console.print(low)
    console.print(f"[dim]{result.candidates} candidates from {result.keys_looked_up} keys in {result.elapsed_ms} ms; "
                  f"model {'trained' if result.model_trained else 'defaults'}[/]")


def _read_profile(path: Path) -> Any:
    from ombud.cli.common import read_json

    return read_json(path)


def discover_command(
    profile: Path | None = typer.Option(None, "--profile", exists=True, dir_okay=False,
                                        help="A profile (JSON): names, emails, phones, addresses, date_of_birth, "
                                             "ssn, card_numbers. See docs/identity-discovery.md."),
    profiles: Path | None = typer.Option(None, "--profiles", exists=True, dir_okay=False,
                                         help="Many profiles, one JSON object per line (JSON Lines)."),
    out: Path | None = typer.Option(None, "--out", help="Where --profiles writes its results (JSON Lines)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    threshold: float = typer.Option(0.5, min=0.0, max=1.0, help="Match probability reported as a match."),
) -> None:
    """Operators' discovery (evaluation and look-back runs): every account that used a person's identity, ranked
    and explained. Each run is recorded in the audit log as an operator run, with the accounts it found. Staff
    search in the console or the API, under a victim's request or an investigation case."""
    from ombud.identity.service import discover

    if (profile is None) == (profiles is None):
        raise fail("give either --profile FILE.json or --profiles FILE.jsonl")
    if profiles is not None and out is None:
        raise fail("--profiles needs --out RESULTS.jsonl")
    ctx = context()
    try:
        if profile is not None:
            data = _read_profile(profile)
            with ctx.sessions() as session, session.begin():
                try:
                    result = discover(session, ctx.keys, data, threshold=threshold)
                except InvalidInput as exc:
                    raise fail(f"{profile}: {exc.message}") from exc
                _audit_run(session, "single", profile, 1, 0, {m.account_id for m in result.matches if m.account_id})
            if as_json:
                console.print_json(result.model_dump_json())
            else:
                _print_result(result)
            return
        assert profiles is not None and out is not None
        _discover_many(ctx, profiles, out, threshold)
    finally:
        ctx.close()


#: Keys of a --profiles line that identify it (beside the profile) and are copied to its result line.
ID_KEYS = ("victim_id", "id", "profile_id", "request_id")


def profile_ids(data: object) -> dict[str, Any]:
    """The identifying keys of a --profiles line (a truth line's victim_id, a caller's own id)."""
    if not isinstance(data, dict) or "profile" not in data:
        return {}
    return {k: data[k] for k in ID_KEYS if k in data and isinstance(data[k], str | int)}


def _discover_many(ctx: Any, profiles: Path, out: Path, threshold: float) -> None:
    from ombud.identity.service import discover

    # Bytes that are not UTF-8 stay escaped here and make their own line's error below, not the whole run's.
    lines = profiles.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    errors = 0
    found: set[str] = set()
    tmp = out.with_name(out.name + ".partial")
    with ctx.sessions() as session, tmp.open("w", encoding="utf-8") as handle, _bar() as progress:
        task = progress.add_task("profiles", total=sum(1 for line in lines if line.strip()))
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            ids: dict[str, Any] = {}
            try:
                data = orjson.loads(line.encode("utf-8", "surrogateescape"))  # depth-limited, UTF-8 checked
                # A truth file's lines carry the profile under "profile" beside its id; plain profiles too.
                ids = profile_ids(data)
                body = data.get("profile", data) if isinstance(data, dict) else data
                result = discover(session, ctx.keys, body, threshold=threshold)
                found.update(m.account_id for m in result.matches if m.account_id)
                record = {"line": number, **ids, "result": result.model_dump(mode="json")}
            except orjson.JSONDecodeError as exc:
                errors += 1
                record = {"line": number, "error": f"not JSON in UTF-8: {exc.msg.split(':')[0]}"}
            except InvalidInput as exc:
                errors += 1
                # A refused profile's line carries its own id, so the caller can tell which one it was.
                record = {"line": number, **ids, "error": exc.message, "field": exc.field}
            handle.write(json.dumps(record) + "\n")
            progress.advance(task)
        session.rollback()  # the searches wrote nothing; the run's record goes in its own transaction
        with session.begin():
            _audit_run(session, "batch", profiles, sum(1 for line in lines if line.strip()), errors, found)
    tmp.replace(out)
    console.print(f"[green]wrote {out}[/]" + (f"; [red]{errors} profiles had errors (see their lines)[/]"
                                                 if errors else ""))
    if errors:
        raise typer.Exit(1)


def _audit_run(session: Any, mode: str, path: Path, count: int, errors: int, accounts: set[str]) -> None:
    import getpass
    import hashlib

    from ombud.identity.workflow import record_operator_run

    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = "unknown"
    record_operator_run(session, operator=operator, mode=mode, profiles=count, errors=errors,
                        accounts=sorted(accounts), source_sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(identity_app, name="identity")
    app.command("discover")(discover_command)
