"""Full verification of the stored audit log against its signed checkpoints.

Every leaf is recomputed from the stored columns (so editing any column shows), the tree is rebuilt from
those leaves and compared with every stored node, every checkpoint's signature and root is checked
against the rebuilt tree, and consecutive checkpoints are proved consistent from the stored nodes.
See docs/audit-log.md for what an attacker with write access to the database can and cannot hide.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ombud.audit import fastverify, merkle
from ombud.audit.checkpoint import list_checkpoints
from ombud.audit.events import EPOCH, ONE_MICROSECOND, encode_leaf
from ombud.audit.merkle import Frontier
from ombud.audit.note import CheckpointBody, NoteError, Verifier, open_note, parse_checkpoint
from ombud.audit.service import raw_connection
from ombud.audit.tree import TreeError, TreeHead, node_source, tree_head

log = logging.getLogger(__name__)

_EPOCH_NAIVE = EPOCH.replace(tzinfo=None)
#: Logs at least this long are checked by the vectorised pass first.
FAST_MIN = 100_000
_CHUNK = 20_000
_COLUMNS = (
    "idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, "
    "detail, leaf_hash"
)

Progress = Callable[[int, int], None]
"""Called with (events checked so far, events in the log)."""


@dataclass(frozen=True)
class Problem:
    """One way the stored log differs from what was logged, and the events it implicates.

    A precise problem (an event whose values no longer match its leaf hash, a missing or extra event) has
    `index == last`; a tree node or checkpoint that no longer matches implicates the range index..last.
    Log-wide problems (a bad signature, a head) have no index.
    """

    index: int | None
    last: int | None
    kind: str  # changed | moved | missing | extra | node | checkpoint | signature | consistency | head
    message: str

    def sort_key(self) -> tuple[bool, int, int]:
        """Earliest-ending first, then narrowest: the first bad entry is the one located best and earliest."""
        if self.index is None or self.last is None:
            return (True, 0, 0)
        return (False, self.last, -self.index)


@dataclass
class VerifyReport:
    """The outcome of a full verification."""

    events: int = 0
    tree_size: int = 0
    checkpoints: int = 0
    latest_checkpoint: int | None = None
    nodes_checked: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def uncovered(self) -> int:
        """Events after the latest checkpoint: not yet protected by a signature."""
        return self.events - (self.latest_checkpoint or 0)

    @property
    def first_problem(self) -> Problem | None:
        """The problem implicating the earliest event (log-wide problems last)."""
        if not self.problems:
            return None
        return min(self.problems, key=Problem.sort_key)

    def sorted_problems(self) -> list[Problem]:
        """The problems, the first bad entry first."""
        return sorted(self.problems, key=Problem.sort_key)

    @property
    def leaves_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class _Collector:
    def __init__(self, report: VerifyReport, limit: int) -> None:
        self.report = report
        self.limit = limit

    def add(self, index: int | None, kind: str, message: str, last: int | None = None) -> None:
        self.report.problem_count += 1
        if len(self.report.problems) < self.limit:
            self.report.problems.append(Problem(index, index if last is None else last, kind, message))


def _micros(value: object) -> int:
    if isinstance(value, str):  # SQLite keeps UTC times as text
        return (datetime.fromisoformat(value) - _EPOCH_NAIVE) // ONE_MICROSECOND
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return (value - _EPOCH_NAIVE) // ONE_MICROSECOND
        return (value - EPOCH) // ONE_MICROSECOND
    raise ValueError(f"not a timestamp: {value!r}")


def _text_value(value: object) -> str | None:
    """A stored text value as text; SQLite may hand back a number where text was written (same value)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{type(value).__name__} where text belongs")


def recompute_leaf(row: Sequence[object]) -> bytes:
    """The leaf hash of a stored event row (columns in the order of a full select), from its values."""
    idx, at = row[0], row[1]
    texts = [_text_value(v) for v in row[2:12]]
    data = encode_leaf(int(idx), _micros(at), *texts)  # type: ignore[arg-type, call-overload]
    return merkle.leaf_hash(data)


#: How far from its place a moved event is recognised (each step costs two hashes, only for bad rows).
MOVE_WINDOW = 16
_MAX_DIAGNOSED = 1000


def stored_hash(value: object) -> bytes | None:
    """A stored hash as bytes; None when the column holds something else (text, a number, null)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return None


def _diagnose(row: Sequence[object], idx: int, problems: _Collector) -> None:
    """Name what happened to an event whose values no longer match its leaf hash: moved, or changed."""
    stored = stored_hash(row[12])
    if stored is not None and problems.report.problem_count < _MAX_DIAGNOSED:
        for distance in range(1, MOVE_WINDOW + 1):
            for logged in (idx - distance, idx + distance):
                if logged < 0 or recompute_leaf((logged, *row[1:])) != stored:
                    continue
                hint = "inserted before it" if logged < idx else "deleted before it"
                problems.add(
                    min(idx, logged), "moved",
                    f"the event stored at {idx} was logged as event {logged}: events were {hint}, or reordered",
                )
                return
    problems.add(idx, "changed", f"event {idx}: its stored values do not match its leaf hash (edited?)")


def _stream(session: Session, sql: str) -> Iterator[list[tuple[object, ...]]]:
    dbapi, dialect = raw_connection(session)
    # A server-side cursor on PostgreSQL, so ten million rows are never all in memory.
    cursor = dbapi.cursor() if dialect.is_sqlite else dbapi.cursor(name="ombud_audit_verify")
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()


def _scalar(session: Session, sql: str) -> object:
    dbapi, _ = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
        return None if row is None else row[0]
    finally:
        cursor.close()


def _count(session: Session, sql: str) -> int:
    value = _scalar(session, sql)
    return int(value) if isinstance(value, int | str) else 0


def _extent(session: Session) -> tuple[int | None, int | None]:
    """The lowest and highest stored leaf index: two probes of the primary key, not a count of every row.

    (Two statements: SQLite answers a lone MIN or MAX from the index, but scans for both in one.)
    """
    low = _scalar(session, "SELECT MIN(idx) FROM audit_event")
    high = _scalar(session, "SELECT MAX(idx) FROM audit_event")
    return (None if low is None else int(low)), (None if high is None else int(high))  # type: ignore[call-overload]


def _nodes_outside(session: Session, tree_size: int) -> int:
    """How many stored tree nodes lie outside the tree of `tree_size` leaves.

    The nodes inside it are compared one by one by both passes; this finds the rest with a few index range
    probes (level below 1 or above the top, and per level an index below 0 or past the last complete node)
    instead of counting every stored node.
    """
    top = max(tree_size.bit_length() - 1, 0)
    parts = ["SELECT COUNT(*) FROM audit_node WHERE level < 1", f"SELECT COUNT(*) FROM audit_node WHERE level > {top}"]
    for level in range(1, top + 1):
        parts.append(f"SELECT COUNT(*) FROM audit_node WHERE level = {level} AND idx < 0")
        parts.append(f"SELECT COUNT(*) FROM audit_node WHERE level = {level} AND idx >= {tree_size >> level}")
    dbapi, _ = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        cursor.execute(" UNION ALL ".join(parts))  # integers only
        return sum(int(row[0]) for row in cursor.fetchall())
    finally:
        cursor.close()


def _stored_nodes(session: Session, begin: int, end: int, tree_size: int) -> dict[tuple[int, int], bytes]:
    """Stored interior nodes whose last leaf lies in [begin, end) (those completed by these leaves)."""
    end = min(end, tree_size)
    if begin >= end:
        return {}
    terms: list[str] = []
    level = 1
    while (1 << level) <= end:
        lo = ((begin + (1 << level)) >> level) - 1  # first k whose last leaf (k+1) * 2**level - 1 >= begin
        hi = (end >> level) - 1  # last k whose last leaf < end
        if lo <= hi:
            terms.append(f"(level = {level} AND idx BETWEEN {lo} AND {hi})")
        level += 1
    if not terms:
        return {}
    dbapi, _ = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"SELECT level, idx, hash FROM audit_node WHERE {' OR '.join(terms)}")  # integers only
        # A node stored as anything but bytes compares unequal to every hash: reported, never a crash.
        return {(int(lv), int(ix)): stored_hash(h) or b"" for lv, ix, h in cursor.fetchall()}
    finally:
        cursor.close()


@dataclass(frozen=True)
class _Signed:
    size: int
    root: bytes


def _open_checkpoint(note: str, verifiers: Sequence[Verifier], origin: str, where: str, problems: _Collector
                     ) -> CheckpointBody | None:
    try:
        body = parse_checkpoint(open_note(note, verifiers).text)
    except NoteError as exc:
        problems.add(None, "signature", f"{where}: {exc}")
        return None
    if body.origin != origin:
        problems.add(None, "signature", f"{where}: signed for origin {body.origin!r}, not {origin!r}")
        return None
    return body


def _check_checkpoints(
    session: Session, verifiers: Sequence[Verifier], origin: str, published: Sequence[str], problems: _Collector
) -> list[_Signed]:
    """Each stored (and published) checkpoint's signature and body; returns the validly signed ones by size."""
    signed: dict[int, _Signed] = {}
    for record in list_checkpoints(session):
        where = f"checkpoint of size {record.tree_size}"
        body = _open_checkpoint(record.note, verifiers, origin, where, problems)
        if body is None:
            continue
        if body.size != record.tree_size or body.root_hash != stored_hash(record.root_hash):
            problems.add(None, "checkpoint", f"{where}: its stored size or root differ from its signed note")
        signed[body.size] = _Signed(body.size, body.root_hash)
    # Checkpoints published outside the database: a rewritten or deleted stored checkpoint shows against them.
    for number, note in enumerate(published, 1):
        body = _open_checkpoint(note, verifiers, origin, f"published checkpoint #{number}", problems)
        if body is None:
            continue
        stored = signed.get(body.size)
        if stored is None:
            problems.add(None, "checkpoint", f"the published checkpoint of size {body.size} is not in the store")
            signed[body.size] = _Signed(body.size, body.root_hash)
        elif stored.root != body.root_hash:
            problems.add(
                None, "checkpoint",
                f"the published checkpoint of size {body.size} has another root than the stored one: two "
                "different logs were signed (a forked or rewritten log)",
            )
    return sorted(signed.values(), key=lambda s: s.size)


def _detailed_pass(
    session: Session,
    report: VerifyReport,
    problems: _Collector,
    head: TreeHead,
    signed: list[_Signed],
    total: int,
    progress: Progress | None,
) -> _Signed | None:
    """Row by row: recompute each leaf, rebuild the tree, compare; name every difference. Returns the first
    checkpoint the stored events did not reach, if any."""
    frontier = Frontier()
    pending = iter(signed)
    target = next(pending, None)
    previous_good = 0
    expected = 0
    done = 0
    for rows in _stream(session, f"SELECT {_COLUMNS} FROM audit_event ORDER BY idx"):
        begin = frontier.size
        completed: list[tuple[int, int, bytes]] = []
        append = frontier.append
        for row in rows:
            idx = int(row[0])  # type: ignore[call-overload]
            if idx < 0:  # no leaf has a negative index: a row written beside the log
                problems.add(idx, "extra", f"an event is stored at index {idx}, before the log's first (inserted?)")
                continue
            if idx != expected:
                if idx > expected:
                    span = f"{expected}" if idx == expected + 1 else f"{expected}..{idx - 1}"
                    problems.add(
                        expected, "missing", f"event {span} missing (deleted?): the next stored is {idx}", idx - 1
                    )
                expected = idx
            stored = stored_hash(row[12])
            try:
                leaf = recompute_leaf(row)
            except (ValueError, TypeError, AttributeError, UnicodeEncodeError, OverflowError) as exc:
                problems.add(idx, "changed", f"event {idx}: a stored value is malformed ({type(exc).__name__})")
                leaf = stored if stored is not None else b"\0" * 32
            else:
                if stored is None:
                    problems.add(idx, "changed", f"event {idx}: its stored leaf hash is not a hash (edited?)")
                elif leaf != stored:
                    _diagnose(row, idx, problems)
            expected += 1
            append(leaf, completed)
            if frontier.size == head.size and frontier.hashes != head.frontier.hashes:
                problems.add(
                    0, "head", "the stored tree head's right edge does not match the events", head.size - 1
                )
            while target is not None and frontier.size == target.size:
                if frontier.root() != target.root:
                    problems.add(
                        previous_good,
                        "checkpoint",
                        f"the events below {target.size} do not match the checkpoint signed at that size: "
                        f"an event in {previous_good}..{target.size - 1} was changed, removed, inserted or reordered",
                        target.size - 1,
                    )
                else:
                    previous_good = target.size
                target = next(pending, None)
        # Compare the stored tree with the rebuilt one for the nodes these leaves completed.
        stored = _stored_nodes(session, begin, frontier.size, head.size)
        for level, k, h in completed:
            if (k + 1) << level > head.size:
                continue
            report.nodes_checked += 1
            found = stored.get((level, k))
            first, last = k << level, ((k + 1) << level) - 1
            if found is None:
                problems.add(first, "node", f"stored tree node (level {level}, index {k}) is missing", last)
            elif found != h:
                problems.add(
                    first, "node",
                    f"stored tree node (level {level}, index {k}) does not match events {first}..{last}", last,
                )
        done += len(rows)
        if progress is not None:
            progress(done, total)
    report.events = frontier.size

    return target


def _fast_pass(
    session: Session,
    report: VerifyReport,
    head: TreeHead,
    signed: list[_Signed],
    sequence: int,
    total: int,
    fast: bool | None,
    progress: Progress | None,
) -> bool:
    """The vectorised check (fastverify.py); True only when it shows every leaf, node, root and head intact."""
    if fast is False or (fast is None and total < FAST_MIN) or not fastverify.available():
        return False
    if total != sequence or (signed and signed[-1].size > total) or head.size > total:
        return False  # something is already off: the detailed pass names it
    url = session.get_bind().url  # type: ignore[union-attr]  # a session bound to an engine
    try:
        result = fastverify.check(url, events=total, tree_size=head.size, sizes=[s.size for s in signed],
                                  progress=progress)
    except Exception as exc:  # an unexpected store: the detailed pass decides
        log.info("fast audit verification fell back to the detailed pass: %s", exc)
        return False
    if not result.ok:
        log.info("fast audit verification found a difference (%s); naming it", result.reason)
        return False
    if any(result.roots.get(s.size) != s.root for s in signed):
        return False
    if head.size and result.head_frontier != head.frontier.hashes:
        return False
    report.events = result.events
    report.nodes_checked = result.nodes_checked
    return True


def verify_log(
    session: Session,
    verifiers: Sequence[Verifier],
    origin: str,
    *,
    progress: Progress | None = None,
    published: Sequence[str] = (),
    max_problems: int = 100,
    fast: bool | None = None,
) -> VerifyReport:
    """Check the whole stored log; the report lists what differs from what was logged and signed.

    `published` are signed checkpoint notes kept outside the database (see `ombud audit export`); they are
    checked like the stored ones, so deleting or re-signing stored checkpoints is caught too. `fast` picks
    the vectorised pass (default: for logs of FAST_MIN events or more); it reads committed data through
    its own connections, and whenever it finds anything amiss the detailed pass runs to name it.
    """
    started = time.perf_counter()
    report = VerifyReport()
    problems = _Collector(report, max_problems)
    signed = _check_checkpoints(session, verifiers, origin, published, problems)
    report.checkpoints = len(signed)
    report.latest_checkpoint = signed[-1].size if signed else None
    try:
        head = tree_head(session)
    except ValueError as exc:  # a right edge whose length does not fit its size
        problems.add(None, "head", f"the stored tree head is malformed: {exc}")
        head = TreeHead(0, merkle.EMPTY_ROOT, Frontier())
    report.tree_size = head.size
    sequence = _count(session, "SELECT next_index FROM audit_sequence WHERE id = 1")
    low, high = _extent(session)
    total = 0 if high is None else high + 1  # what an intact log holds; the passes check that it does
    if low not in (None, 0):
        fast = False  # an index below 0, or the first events gone: the detailed pass names it

    target: _Signed | None = None
    if not _fast_pass(session, report, head, signed, sequence, total, fast, progress):
        target = _detailed_pass(session, report, problems, head, signed, total, progress)
    _check_heads(session, report, problems, sequence, head.size, signed, target)
    _check_consistency(session, signed, head.size, problems)
    report.seconds = time.perf_counter() - started
    return report


def _check_heads(
    session: Session,
    report: VerifyReport,
    problems: _Collector,
    sequence: int,
    tree_size: int,
    signed: list[_Signed],
    target: _Signed | None,
) -> None:
    events = report.events
    if sequence < events:
        problems.add(
            sequence, "extra", f"events {sequence}..{events - 1} lie beyond the log's sequence (inserted?)", events - 1
        )
    elif sequence > events:
        problems.add(
            events, "missing", f"events {events}..{sequence - 1} are missing (deleted at the end?)", sequence - 1
        )
    if tree_size > events:
        problems.add(
            events, "missing", f"the stored tree covers {tree_size} events but only {events} are stored", tree_size - 1
        )
    if target is not None:
        problems.add(
            events, "missing",
            f"a checkpoint was signed at size {target.size} but only {events} events are stored (deleted?)",
            target.size - 1,
        )
    outside = _nodes_outside(session, tree_size)
    if outside:
        problems.add(None, "node", f"the store holds {outside} tree node(s) outside the tree of {tree_size} events")


def _check_consistency(session: Session, signed: list[_Signed], tree_size: int, problems: _Collector) -> None:
    """Prove each checkpoint consistent with the next from the stored nodes, as a client would."""
    get_nodes = node_source(session)
    for older, newer in itertools.pairwise(signed):
        if newer.size > tree_size:
            break
        try:
            proof = merkle.consistency_proof(older.size, newer.size, get_nodes)
        except TreeError as exc:
            problems.add(
                older.size, "consistency", f"checkpoints {older.size} -> {newer.size}: {exc}", newer.size - 1
            )
            continue
        if not merkle.verify_consistency(older.size, newer.size, proof, older.root, newer.root):
            problems.add(
                older.size, "consistency",
                f"the stored tree cannot prove checkpoint {older.size} consistent with checkpoint {newer.size}",
                newer.size - 1,
            )


@dataclass(frozen=True)
class LatestStatus:
    """A quick check of the latest checkpoint against the stored tree (O(log n) reads, not a full verify)."""

    checkpoint_size: int | None
    ok: bool
    message: str


def check_latest(session: Session, verifiers: Sequence[Verifier], origin: str) -> LatestStatus:
    """Check the latest checkpoint: its signature, the stored root at its size, consistency with the one before."""
    records = list_checkpoints(session)
    if not records:
        return LatestStatus(None, True, "no checkpoint signed yet")
    latest = records[-1]
    try:
        body = parse_checkpoint(open_note(latest.note, verifiers).text)
    except NoteError as exc:
        return LatestStatus(latest.tree_size, False, f"the latest checkpoint's signature fails: {exc}")
    if body.origin != origin or body.size != latest.tree_size:
        return LatestStatus(latest.tree_size, False, "the latest checkpoint's note does not match its record")
    get_nodes = node_source(session)
    try:
        stored_root = merkle.root_from_nodes(body.size, get_nodes)
        if stored_root != body.root_hash:
            return LatestStatus(body.size, False, "the stored tree's root differs from the latest signed checkpoint")
        if len(records) > 1:
            previous = parse_checkpoint(open_note(records[-2].note, verifiers).text)
            proof = merkle.consistency_proof(previous.size, body.size, get_nodes)
            if not merkle.verify_consistency(previous.size, body.size, proof, previous.root_hash, body.root_hash):
                return LatestStatus(body.size, False, f"checkpoint {previous.size} is not consistent with {body.size}")
    except (TreeError, NoteError) as exc:
        return LatestStatus(body.size, False, str(exc))
    return LatestStatus(body.size, True, "signature valid; the stored tree matches it and extends the previous one")
