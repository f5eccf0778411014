"""Recording which policy set the broker runs with: a changed policy hash is itself an audit event."""

from __future__ import annotations

import weakref

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import trail
from ombud.access.models import PolicyVersion
from ombud.access.policy import PolicyEngine

#: (database URL, digest) pairs already checked by this process, so reads do not query for it every time.
_checked: set[tuple[str, str]] = set()
#: The same, by engine object: what every read looks up (rendering the URL costs more than the lookup).
_checked_engines: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def latest(session: Session) -> PolicyVersion | None:
    """The policy version recorded last, if any."""
    return session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc()).limit(1)).first()


def record_policy_version(session: Session, engine: PolicyEngine) -> PolicyVersion | None:
    """Record the engine's policy set if its hash differs from the last recorded one (with an audit event).

    Returns the new version, or None when nothing changed. Two processes starting together record a change
    once: ``previous_id`` is unique, and the loser's insert is skipped inside a savepoint.
    """
    last = latest(session)
    if last is not None and last.digest == engine.digest:
        return None
    version = PolicyVersion(
        digest=engine.digest,
        previous_id=last.id if last else 0,
        recorded_at=clock.now(),
        files=dict(engine.files),
    )
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError:  # another process recorded this change first
        return None
    trail.record(
        session, "access.policy.change", None, subject_type="policy", subject_id=engine.digest[:16],
        detail={
            "digest": engine.digest,
            "previous_digest": last.digest if last else None,
            "files": [f"{name}:{digest[:16]}" for name, digest in sorted(engine.files.items())],
            "policies": len(engine.policies),
        },
    )
    return version


def ensure_recorded(session: Session, engine: PolicyEngine) -> None:
    """Record the policy version once per process and database before the first decision made under it."""
    bound = session.get_bind().engine
    seen = _checked_engines.get(bound)
    if seen is not None and engine.digest in seen:
        return
    key = (str(bound.url), engine.digest)
    if key not in _checked:
        record_policy_version(session, engine)
        _checked.add(key)
    _checked_engines.setdefault(bound, set()).add(engine.digest)
