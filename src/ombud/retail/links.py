"""What ties rows together during an import: each id claimed once per file, and references resolved in bulk.

A reference (an order's `ship_to_address_id`, a line's `order_id`, ...) is resolved with one query per chunk
against the store, which by then holds every earlier kind of this import. A reference to an unknown row, to
a row rejected earlier in the import, or to a row of another account rejects the referring row.
"""

from __future__ import annotations

import polars as pl

from ombud.retail.format import KINDS, KINDS_BY_NAME, Field, Kind
from ombud.retail.store import Store
from ombud.retail.tables import WRITES, resolved
from ombud.retail.validate import LINE, empty_errors

NOUNS = {
    "employees": "employee",
    "accounts": "account",
    "addresses": "address",
    "payment_methods": "payment method",
    "orders": "order",
    "sellers": "seller",
    "products": "product",
}
#: Columns a referenced row may be checked against (`same_account`, `same_as`), when its table has them.
_OWNERS = ("account_id", "seller_id")
#: Rejected ids remembered (for "was rejected at line N" reasons); past this, reasons say "unknown".
REJECTED_KEPT = 1_000_000


class Rejected:
    """Ids of rows rejected in this import, per kind, with where they were."""

    def __init__(self) -> None:
        self._where: dict[str, dict[str, str]] = {}
        self._count = 0

    def add(self, kind: str, keys: pl.DataFrame, file: str) -> None:
        """Remember rejected rows given as a frame of (line, key)."""
        places = self._where.setdefault(kind, {})
        for line, key in keys.select("line", "key").iter_rows():
            if key is not None and key not in places and self._count < REJECTED_KEPT:
                places[key] = f"{file} line {line}"
                self._count += 1

    def where(self, kind: str, key: str) -> str | None:
        return self._where.get(kind, {}).get(key)


def _key(kind: Kind) -> pl.Expr:
    parts = [pl.col(k).cast(pl.String) for k in kind.key]
    return parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="#")


class KeyTracker:
    """The ids already given in one file: a later row repeating one is rejected, naming the first line."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.field = kind.key[-1]
        self.seen = pl.DataFrame(schema={"h": pl.UInt64, "k": pl.String, "first": pl.Int64})

    def claim(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The rows whose id is new to this file, and an error for each repeat."""
        keyed = rows.with_columns(_key(self.kind).alias("__k")).with_columns(pl.col("__k").hash().alias("__h"))
        firsts = keyed.select(pl.col("__k").alias("k"), pl.col(LINE).alias("first")).unique("k", keep="first",
                                                                                              maintain_order=True)
        within = keyed.join(firsts, left_on="__k", right_on="k", how="left").filter(pl.col("first") != pl.col(LINE))
        earlier = (keyed.join(self.seen, left_on="__h", right_on="h", how="inner")
                   .filter(pl.col("__k") == pl.col("k")))
        dups = pl.concat([within.select(LINE, "first"), earlier.select(LINE, "first")])
        errors = dups.select(
            pl.col(LINE).alias("line"),
            pl.lit(self.field).alias("field"),
            pl.format("repeats the id given on line {}", pl.col("first")).alias("reason"),
        )
        kept = keyed.filter(~pl.col(LINE).is_in(dups.get_column(LINE).implode()))
        self.seen = pl.concat([self.seen, kept.select(pl.col("__h").alias("h"), pl.col("__k").alias("k"),
                                                      pl.col(LINE).alias("first"))])
        return kept.drop("__k", "__h"), errors.cast(empty_errors().schema)


def _missing_reason(target: str, value: str, rejected: Rejected) -> str:
    noun = NOUNS.get(target, target)
    where = rejected.where(target, value)
    if where is not None:
        return f"refers to {noun} {value}, which was rejected ({where})"
    return f"refers to {noun} {value}, which is neither in this import nor in the store"


class References:
    """Resolves the retailer's ids of earlier kinds to internal ids, one query per chunk or one map per kind.

    A big file referring to a table of similar size (an import of a million accounts' orders) reads the
    table's id map once and joins in memory; a small file (a daily delta into a big store) looks up only
    the ids it names. A kind's map is read only after that kind's file is done, so it cannot go stale.
    """

    #: Largest table read whole into a map (rows); about 30 bytes a row.
    MAP_MAX_ROWS = 10_000_000
    #: A map pays off when the file names at least this share of the table's rows.
    MAP_MIN_SHARE = 0.1

    def __init__(self) -> None:
        self._maps: dict[str, pl.DataFrame] = {}

    def _columns(self, target: str) -> dict[str, pl.DataType]:
        return {"id": pl.Int64(), **{c: pl.Int64() for c in _OWNERS if c in WRITES[target].columns}}

    def ready(self, kind: Kind) -> bool:
        """True when every reference of `kind` resolves from maps in memory, without the store."""
        return all(ref.refers_to in self._maps for ref in kind.references)

    def lookup(self, ref: Field, rows: pl.DataFrame, store: Store | None, expected_rows: int) -> pl.DataFrame:
        """(ref value, internal id[, its account]) for the values of `ref` in `rows` (`store`: unless `ready`)."""
        target = ref.refers_to or ""
        table = WRITES[target].table
        values = rows.get_column(ref.name).unique().drop_nulls()
        whole = self._maps.get(target)
        if whole is None:
            assert store is not None, "a reference without its map needs the store"
            size = store.row_estimate(table)
            if 0 < size <= self.MAP_MAX_ROWS and expected_rows >= size * self.MAP_MIN_SHARE:
                whole = self._maps[target] = store.load_map(table, self._columns(target))
        if whole is not None:
            # Cut the map down to this chunk's ids first: joining against the whole map would hash all of it.
            found = whole.filter(pl.col("external_id").is_in(values.implode()))
        else:
            assert store is not None
            found = store.select_in(table, "external_id", values.to_list(), self._columns(target))
        kept = {"account_id"} if ref.same_account else set()
        kept |= {ref.same_as} if ref.same_as else set()
        found = found.drop([c for c in _OWNERS if c not in kept], strict=False)
        names = {"external_id": ref.name, "id": resolved(ref), "account_id": f"__account_{ref.name}"}
        if ref.same_as:
            names[ref.same_as] = f"__same_{ref.name}"
        return found.rename(names, strict=False)

    def release(self, done: str) -> None:
        """Forget maps no kind after `done` refers to."""
        later = KINDS[[k.name for k in KINDS].index(done) + 1 :]
        still = {f.refers_to for k in later for f in k.references}
        for target in list(self._maps):
            if target not in still:
                del self._maps[target]


def resolve_references(kind: Kind, rows: pl.DataFrame, store: Store | None, rejected: Rejected,
                       references: References, expected_rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with every reference resolved to an internal id (columns `__id_<field>`), and the errors."""
    errors: list[tuple[int, str, str]] = []
    for ref in kind.references:
        found = references.lookup(ref, rows, store, expected_rows)
        rows = rows.join(found, on=ref.name, how="left", maintain_order="left")
        missing = rows.filter(pl.col(ref.name).is_not_null() & pl.col(resolved(ref)).is_null())
        for line, value in missing.select(LINE, ref.name).iter_rows():
            errors.append((line, ref.name, _missing_reason(ref.refers_to or "", value, rejected)))
    account = kind.fields[1] if len(kind.fields) > 1 and kind.fields[1].name == "account_id" else None
    for ref in kind.references:
        if ref.same_account and account is not None:
            other = rows.filter(pl.col(f"__account_{ref.name}").is_not_null()
                                & (pl.col(f"__account_{ref.name}") != pl.col(resolved(account))))
            noun = NOUNS[ref.refers_to or ""]
            for line, value in other.select(LINE, ref.name).iter_rows():
                errors.append((line, ref.name, f"refers to {noun} {value}, which belongs to another account"))
        if ref.same_as:
            owner = kind.get(ref.same_as)
            other = rows.filter(pl.col(f"__same_{ref.name}").is_not_null()
                                & (pl.col(f"__same_{ref.name}") != pl.col(resolved(owner))))
            noun, owner_noun = NOUNS[ref.refers_to or ""], NOUNS[owner.refers_to or ""]
            for line, value in other.select(LINE, ref.name).iter_rows():
                errors.append((line, ref.name, f"refers to {noun} {value}, which belongs to another {owner_noun}"))
    if not errors:
        return rows, empty_errors()
    frame = pl.DataFrame(errors, schema=empty_errors().schema, orient="row")
    return rows.filter(~pl.col(LINE).is_in(frame.get_column("line").implode())), frame


def _own_manager(rows: pl.DataFrame) -> list[tuple[int, str, str]]:
    return [(line, "manager_id", "an employee cannot be their own manager")
            for (line,) in rows.filter(pl.col("manager_id") == pl.col("employee_id")).select(LINE).iter_rows()]


def refuse_own_manager(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows whose manager is someone else, and an error for each row naming the employee as their own manager."""
    errors = _own_manager(rows)
    if not errors:
        return rows, empty_errors()
    frame = pl.DataFrame(errors, schema=empty_errors().schema, orient="row")
    return rows.filter(~pl.col(LINE).is_in(frame.get_column("line").implode())), frame


def resolve_managers(rows: pl.DataFrame, store: Store) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staff rows whose email is theirs alone and whose manager is known, and an error for each other row."""
    errors: list[tuple[int, str, str]] = []
    rows = rows.with_columns(pl.col("email").str.to_lowercase().alias("__email"))
    firsts = rows.unique("__email", keep="first", maintain_order=True).select("__email", pl.col(LINE).alias("first"))
    repeats = rows.join(firsts, on="__email").filter(pl.col("first") != pl.col(LINE))
    errors += [(line, "email", f"repeats the email of line {first}")
               for line, first in repeats.select(LINE, "first").iter_rows()]
    taken = store.select_in("staff_employee", "email", rows.get_column("__email").to_list(),
                            {"external_id": pl.String})
    clash = rows.join(taken.rename({"email": "__email", "external_id": "__holder"}), on="__email")
    clash = clash.filter(pl.col("__holder") != pl.col("employee_id"))
    errors += [(line, "email", f"belongs to another employee ({holder})")
               for line, holder in clash.select(LINE, "__holder").iter_rows()]
    errors += _own_manager(rows)
    bad = {e[0] for e in errors}
    rows = rows.filter(~pl.col(LINE).is_in(list(bad)))
    stored = set(store.select_in("staff_employee", "external_id", rows.get_column("manager_id").to_list(),
                                 {"id": pl.Int64}).get_column("external_id").to_list())
    # A report of a rejected manager is rejected too, and so on down the chain.
    while True:
        known = stored | set(rows.get_column("employee_id").to_list())
        orphans = rows.filter(pl.col("manager_id").is_not_null() & ~pl.col("manager_id").is_in(list(known)))
        if orphans.is_empty():
            break
        errors += [(line, "manager_id", f"refers to employee {manager}, who is neither in this import nor in the "
                    "store, or was rejected") for line, manager in orphans.select(LINE, "manager_id").iter_rows()]
        rows = rows.filter(~pl.col(LINE).is_in(orphans.get_column(LINE).implode()))
    frame = pl.DataFrame(errors, schema=empty_errors().schema, orient="row") if errors else empty_errors()
    return rows.drop("__email"), frame


__all__ = ["KINDS_BY_NAME", "KeyTracker", "References", "Rejected", "refuse_own_manager", "resolve_managers",
           "resolve_references"]
