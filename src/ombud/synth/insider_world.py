"""The synthetic retailer's world as the insider generator sees it: customers, staff, their shifts and homes.

Read back from the import files a run has just written (so the generator depends only on the format), held as
numpy arrays so months of staff activity can be made set-wise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

DAY = 86_400
#: Hours east of UTC of each staff region (standard time; the synthetic retailer ignores daylight saving).
REGION_TZ = {"us-east": -5, "us-central": -6, "us-west": -8, "eu-west": 0, "apac": 8}
#: Each region's office: (site name, first two octets of its addresses).
OFFICES = {"us-east": ("Newark office", "10.10"), "us-central": ("Austin office", "10.20"),
           "us-west": ("Reno office", "10.30"), "eu-west": ("Dublin office", "10.40"),
           "apac": ("Singapore office", "10.50")}
#: Local shift start hours and their weights (an 8-hour shift follows).
SHIFT_STARTS = np.array([6, 7, 8, 9, 10, 12, 14])
SHIFT_WEIGHTS = np.array([0.06, 0.14, 0.3, 0.25, 0.1, 0.08, 0.07])
SHIFT_SECONDS = 8 * 3600


def read_kind(out: Path, kind: str, fmt: str, columns: list[str]) -> pl.DataFrame:
    """Some columns of one import file the run wrote, as text."""
    path = out / f"{kind}.{fmt}"
    if fmt == "csv":
        return pl.read_csv(path, columns=columns, schema_overrides=dict.fromkeys(columns, pl.String),
                           infer_schema=False)
    frame = pl.read_ndjson(path, schema=dict.fromkeys(columns, pl.String), ignore_errors=False)
    return frame.select(columns)


def epoch_of(text: pl.Expr) -> pl.Expr:
    """Epoch seconds of an ISO timestamp (`...Z`) or date text."""
    return (text.str.to_datetime(time_zone="UTC", strict=False).dt.epoch("s"))


def surname_of(name: pl.Expr) -> pl.Expr:
    """The family name of a full name as written ("Doe, Jane" or "Jane Q. Doe")."""
    comma = name.str.split(",").list.first()
    last = name.str.split(" ").list.last()
    return pl.when(name.str.contains(",")).then(comma).otherwise(last).str.strip_chars().str.to_lowercase()


@dataclass
class Customers:
    """Every account: its id, when it opened, its family name and home postcode; its orders."""

    ids: np.ndarray  # object array of account ids
    created: np.ndarray  # epoch seconds
    surname: np.ndarray  # object array, lower case
    postcode: np.ndarray  # object array ("" when none)
    city: np.ndarray
    region: np.ndarray
    order_account: np.ndarray  # index into ids, per order
    order_at: np.ndarray
    order_status: np.ndarray  # object array
    order_total: np.ndarray  # cents

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass
class Staff:
    """Every employee with HR facts and a working pattern."""

    ids: np.ndarray
    names: np.ndarray
    team: np.ndarray
    role: np.ndarray
    region: np.ndarray
    manager: np.ndarray  # object array of manager ids or ""
    hired_day: np.ndarray  # epoch days
    left_day: np.ndarray  # epoch days (far future when still employed)
    shift_utc: np.ndarray  # seconds after UTC midnight the shift starts (may be negative or past a day)
    days_off: np.ndarray  # (n, 7) bool: weekday (Mon=0) off
    productivity: np.ndarray

    @property
    def count(self) -> int:
        return len(self.ids)

    def surname(self, i: int) -> str:
        return str(self.names[i]).split(" ")[-1].lower()


def load_customers(out: Path, fmt: str) -> Customers:
    """The accounts, their home postcodes and orders, from the files written."""
    accounts = read_kind(out, "accounts", fmt, ["account_id", "created_at", "name"]).with_columns(
        epoch_of(pl.col("created_at")).alias("created"), surname_of(pl.col("name")).alias("surname"))
    addresses = read_kind(out, "addresses", fmt, ["account_id", "kind", "postal_code", "city", "region", "created_at"])
    homes = (addresses.sort(["account_id", "kind", "created_at"], descending=[False, True, True])
             .unique("account_id", keep="first", maintain_order=True)
             .select("account_id", pl.col("postal_code").str.slice(0, 5).alias("postcode"), "city", "region"))
    accounts = accounts.join(homes, on="account_id", how="left", maintain_order="left").with_columns(
        pl.col("postcode").fill_null(""), pl.col("city").fill_null(""), pl.col("region").fill_null(""))
    orders = read_kind(out, "orders", fmt, ["account_id", "placed_at", "status", "total"])
    index = accounts.select("account_id").with_row_index("i")
    orders = orders.join(index, on="account_id", how="inner").with_columns(
        epoch_of(pl.col("placed_at")).alias("at"),
        (pl.col("total").cast(pl.Float64) * 100).round().cast(pl.Int64).alias("cents"))
    return Customers(
        ids=accounts.get_column("account_id").to_numpy().astype(object),
        created=accounts.get_column("created").to_numpy(),
        surname=accounts.get_column("surname").to_numpy().astype(object),
        postcode=accounts.get_column("postcode").to_numpy().astype(object),
        city=accounts.get_column("city").to_numpy().astype(object),
        region=accounts.get_column("region").to_numpy().astype(object),
        order_account=orders.get_column("i").to_numpy().astype(np.int64),
        order_at=orders.get_column("at").to_numpy(),
        order_status=orders.get_column("status").to_numpy().astype(object),
        order_total=orders.get_column("cents").to_numpy(),
    )


def load_staff(out: Path, fmt: str, rng: np.random.Generator, as_of_day: int) -> Staff:
    """The staff directory written, with a shift, days off and a working pace drawn for each employee."""
    frame = read_kind(out, "employees", fmt, ["employee_id", "name", "team", "role", "region", "manager_id",
                                               "hired_on", "left_on"])
    n = frame.height
    hired = (epoch_of(pl.col("hired_on")) // DAY).fill_null(0)
    left = (epoch_of(pl.col("left_on")) // DAY).fill_null(as_of_day + 36_500)
    days = frame.select(hired.alias("h"), left.alias("l"))
    region = frame.get_column("region").to_numpy().astype(object)
    tz = np.array([REGION_TZ.get(str(r), 0) for r in region])
    start_local = rng.choice(SHIFT_STARTS, size=n, p=SHIFT_WEIGHTS)
    days_off = np.zeros((n, 7), dtype=bool)
    # Most have the weekend off; the rest two other consecutive days (support runs seven days a week).
    weekend = rng.random(n) < 0.72
    first_off = np.where(weekend, 5, rng.integers(0, 7, n))
    days_off[np.arange(n), first_off] = True
    days_off[np.arange(n), (first_off + 1) % 7] = True
    return Staff(
        ids=frame.get_column("employee_id").to_numpy().astype(object),
        names=frame.get_column("name").to_numpy().astype(object),
        team=frame.get_column("team").to_numpy().astype(object),
        role=frame.get_column("role").to_numpy().astype(object),
        region=region,
        manager=frame.get_column("manager_id").fill_null("").to_numpy().astype(object),
        hired_day=days.get_column("h").to_numpy().astype(np.int64),
        left_day=days.get_column("l").to_numpy().astype(np.int64),
        shift_utc=(start_local - tz) * 3600,
        days_off=days_off,
        productivity=rng.lognormal(0.0, 0.3, n),
    )


def workdays(staff: Staff, first_day: int, days: int, rng: np.random.Generator) -> np.ndarray:
    """(employees, days) bool: employed that day, not a day off, not absent (about 4% of days)."""
    day = first_day + np.arange(days)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    employed = (staff.hired_day[:, None] <= day[None, :]) & (day[None, :] < staff.left_day[:, None])
    off = staff.days_off[:, weekday]
    absent = rng.random((staff.count, days)) < 0.04
    return employed & ~off & ~absent


def shift_times(staff: Staff, employee: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random moments within the employees' shifts on the given (epoch) days."""
    return day * DAY + staff.shift_utc[employee] + rng.integers(0, SHIFT_SECONDS, len(employee))


def off_shift_times(staff: Staff, employee: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random moments of the evening or night after the employees' shifts."""
    return day * DAY + staff.shift_utc[employee] + SHIFT_SECONDS + rng.integers(2 * 3600, 8 * 3600, len(employee))
