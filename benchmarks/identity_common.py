"""Shared by the identity benchmarks: scratch stores of `ombud synth` output, and the Splink baseline.

A store is a data folder holding an SQLite database (or a PostgreSQL URL) with the synthetic retailer
imported and the identity index built. The Splink baseline reads the same normalised records (one row
per account, from the identity index, so both sides see identically cleaned data) into DuckDB and
links victim profiles to them with a standard Splink 5 person-linkage model: names, date of birth,
email, phone, street address, ZIP and city, plus card fingerprints and SSN hashes as arrays; u by
random sampling, m by EM, the prior by deterministic rules, term frequencies on names and city.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ombud import migrate
from ombud.config import Settings
from ombud.context import Context
from ombud.identity.index import reindex
from ombud.identity.profile import prepare
from ombud.identity.record import Identity
from ombud.identity.schemas import Profile


def context_for(data_dir: Path, database_url: str | None = None) -> Context:
    """A context on a scratch store."""
    return Context(Settings(data_dir=data_dir, database_url=database_url))


def build_store(synth_dir: Path, data_dir: Path, database_url: str | None = None) -> dict[str, float]:
    """Import a synth output into a fresh store (no index callback) and build the index; the timings."""
    from ombud.retail.importer import import_directory

    ctx = context_for(data_dir, database_url)
    migrate.upgrade(ctx.settings.resolved_database_url)
    started = time.perf_counter()
    report = import_directory(ctx, synth_dir)
    imported = time.perf_counter() - started
    if report.error_count:
        raise SystemExit(f"import rejected {report.error_count} rows")
    with ctx.sessions() as session, session.begin():
        result = reindex(session, ctx.keys)
    ctx.close()
    return {"import_s": imported, "reindex_s": result.seconds, "records": result.records, "keys": result.keys}


def read_victims(truth: Path, limit: int | None = None) -> list[dict[str, Any]]:
    out = []
    with truth.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                out.append(json.loads(line))
                if limit and len(out) >= limit:
                    break
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# ------------------------------------------------------------------------------------------- Splink


def _row(uid: str, ident: Identity, name_index: int = 0, address_index: int = 0) -> dict[str, Any]:
    names = list(ident.names)
    addresses = list(ident.addresses)
    name = names[name_index] if names else None
    address = addresses[address_index] if addresses else None
    return {
        "unique_id": uid,
        "first_name": (name.given or None) if name else None,
        "surname": (name.surname or None) if name else None,
        "dob": min(ident.dobs).isoformat() if ident.dobs else None,
        "email": next(iter(ident.emails), None),
        "phone": next(iter(ident.phones), None),
        "street": f"{address.number} {address.street}".strip() if address else None,
        "postcode": (address.zip5 or None) if address else None,
        "city": (address.city or None) if address else None,
        "cards": sorted(ident.cards),
        "ssns": sorted(ident.ssns),
    }


def index_rows(ctx: Context, batch: int = 20000) -> Iterator[dict[str, Any]]:
    """One Splink row per indexed account (the account's first name and address; arrays of cards and SSNs)."""
    from sqlalchemy import select

    from ombud.identity.models import IdentityRecord
    from ombud.retail.models import Account

    with ctx.sessions() as session:
        last = 0
        while True:
            rows = session.execute(
                select(IdentityRecord.id, Account.external_id, IdentityRecord.payload)
                .join(Account, Account.id == IdentityRecord.account_id)
                .where(IdentityRecord.id > last).order_by(IdentityRecord.id).limit(batch)
            ).all()
            if not rows:
                return
            for rid, external_id, payload in rows:
                yield _row(external_id, Identity.from_payload(payload))
                last = rid


def profile_rows(ctx: Context, victim_id: str, profile: dict[str, Any]) -> list[dict[str, Any]]:
    """A victim's profile as Splink rows: one per (name, address) combination, the same normalisation."""
    query = prepare(Profile.model_validate(profile), card_key=ctx.keys.card_fingerprint_key,
                    identifier_key=ctx.keys.identifier_hash_key)
    ident = query.identity
    out = []
    for n in range(max(len(ident.names), 1)):
        for a in range(max(len(ident.addresses), 1)):
            row = _row(f"{victim_id}:{n}:{a}", ident, n, a)
            row["victim_id"] = victim_id
            out.append(row)
    return out


def _arrow(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    schema = pa.schema([
        ("unique_id", pa.string()), ("first_name", pa.string()), ("surname", pa.string()), ("dob", pa.string()),
        ("email", pa.string()), ("phone", pa.string()), ("street", pa.string()), ("postcode", pa.string()),
        ("city", pa.string()), ("cards", pa.list_(pa.string())), ("ssns", pa.list_(pa.string())),
    ])
    return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in rows], schema=schema)


def splink_settings() -> Any:
    """A standard Splink 5 person-linkage configuration (dedupe over the accounts)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("dob", "surname"),
            block_on("dob", "first_name"),
            block_on("first_name", "surname", "postcode"),
            block_on("street", "postcode"),
            block_on("dob", "postcode"),
            {"blocking_rule": "l.cards[1] = r.cards[1]"},
            {"blocking_rule": "l.ssns[1] = r.ssns[1]"},
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email"),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ArrayIntersectAtSizes("cards", [1]),
            cl.ArrayIntersectAtSizes("ssns", [1]),
        ],
        retain_intermediate_calculation_columns=False,
    )


class SplinkBaseline:
    """A trained Splink linker over the accounts, in DuckDB."""

    def __init__(self, rows: list[dict[str, Any]], *, max_pairs: float = 2e6, seed: int = 1) -> None:
        import duckdb
        from splink import DuckDBAPI, Linker, block_on

        self.con = duckdb.connect()
        self.con.register("accounts_arrow", _arrow(rows))
        self.con.execute("CREATE TABLE accounts AS SELECT * FROM accounts_arrow")
        self.db = DuckDBAPI(connection=self.con)
        self.accounts = self.db.register("accounts", table_name="accounts_input")
        started = time.perf_counter()
        self.linker = Linker(self.accounts, splink_settings(), log_level=logging.ERROR)
        training = self.linker.training
        training.estimate_probability_two_random_records_match(
            [block_on("email", "dob"), block_on("phone", "surname"), "l.cards[1] = r.cards[1]"], recall=0.7)
        training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        training.estimate_parameters_using_expectation_maximisation(block_on("dob", "surname"))
        training.estimate_parameters_using_expectation_maximisation(block_on("postcode", "street"))
        training.estimate_parameters_using_expectation_maximisation(block_on("email"))
        for column in ("first_name", "surname", "city"):
            self.linker.table_management.compute_tf_table(column)
        self.train_seconds = time.perf_counter() - started
        self._n = 0

    def lookup(self, rows: list[dict[str, Any]], threshold: float = 0.5) -> list[tuple[str, str, float]]:
        """(query unique_id, account id, probability) for pairs above the threshold."""
        self._n += 1
        name = f"query_{self._n}"
        self.con.register(f"{name}_arrow", _arrow(rows))
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
        query = self.db.register(name, table_name=f"{name}_input")
        result = self.linker.inference.predict_between(query, self.accounts, threshold_match_probability=threshold,
                                                       warning_mode="never")
        out = self.con.execute(
            f"SELECT unique_id_l, unique_id_r, match_probability FROM {result.physical_name}").fetchall()
        result.drop_table_from_database_and_remove_from_cache()
        self.con.execute(f"DROP TABLE {name}")
        return out


def splink_queries(ctx: Context, victims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every victim's profile as Splink rows (one per name and address), ids prefixed by the victim's."""
    return [row for v in victims for row in profile_rows(ctx, v["victim_id"], v["profile"])]


def splink_flags(baseline: SplinkBaseline, queries: list[dict[str, Any]],
                 threshold: float = 0.5) -> defaultdict[str, set[str]]:
    """The accounts Splink flags per victim: the rows looked up in one batch, pairs above the threshold grouped by
    the victim each row came from."""
    flagged: defaultdict[str, set[str]] = defaultdict(set)
    for query_id, account_id, _p in baseline.lookup(queries, threshold=threshold):
        flagged[query_id.split(":")[0]].add(account_id)
    return flagged
