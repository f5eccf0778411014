"""Recording which policy set the broker runs with: a changed policy hash is itself an audit event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import trail
from ombud.access.models import PolicyVersion
from ombud.access.policy import PolicyEngine

#: (database URL, digest) pairs already checked by this process, so reads do not query for it every time.
_checked: set[tuple[str, str]] = set()


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
    bind = session.get_bind()
    key = (str(bind.engine.url), engine.digest)
    if key in _checked:
        return
    record_policy_version(session, engine)
    _checked.add(key)
