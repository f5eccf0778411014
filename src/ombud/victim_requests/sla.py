"""The SLA dashboard's figures: open requests by days left, overdue (goal: zero), days to close, declines by
ground, requests by channel. Counted in the store (one grouped query each), not row by row."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.victim_requests import deadline, service, states
from ombud.victim_requests.models import DeclineState, RequestDecline, VictimRequest
from ombud.victim_requests.schemas import SlaReport

#: Buckets of days left: (label, at least this many days left); the first matching from the top wins.
BUCKETS = (("21-30 days", 21), ("11-20 days", 11), ("6-10 days", 6), ("0-5 days", 0))


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..100) of the values, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def report(session: Session, settings: Settings, *, window_days: int = 365) -> SlaReport:
    """The dashboard's figures as of now; closures, declines and channels over the last ``window_days``."""
    now = clock.now()
    zone = service.zone_of(settings)
    today = deadline.local_date(now, zone)
    running = sorted(s.value for s in states.CLOCK_RUNNING)
    bucket = case(
        (VictimRequest.due_at < now, "overdue"),
        *[(VictimRequest.due_at >= deadline.start_of_day(today + timedelta(days=k), zone), label)
          for label, k in BUCKETS],
        else_="0-5 days",
    )
    by_days_left = {label: 0 for label, _ in BUCKETS} | {"overdue": 0}
    for label, count in session.execute(select(bucket, func.count()).where(VictimRequest.status.in_(running))
                                        .group_by(bucket)):
        by_days_left[label] = count
    by_status = {s.value: 0 for s in states.Status}
    for status, count in session.execute(select(VictimRequest.status, func.count()).group_by(VictimRequest.status)):
        by_status[status.value] = count
    since = now - timedelta(days=window_days)
    closed = session.execute(select(VictimRequest.received_at, VictimRequest.closed_at)
                             .where(VictimRequest.closed_at.is_not(None), VictimRequest.closed_at >= since)).all()
    days = [(c - r).total_seconds() / 86400 for r, c in closed]
    grounds = {g.value: 0 for g in states.DeclineGround}
    for ground, count in session.execute(select(RequestDecline.ground, func.count())
                                         .where(RequestDecline.state == DeclineState.confirmed,
                                                RequestDecline.reviewed_at >= since)
                                         .group_by(RequestDecline.ground)):
        grounds[ground.value] = count
    channels = {c.value: 0 for c in states.Channel}
    for channel, count in session.execute(select(VictimRequest.channel, func.count())
                                          .where(VictimRequest.received_at >= since).group_by(VictimRequest.channel)):
        channels[channel.value] = count
    median = percentile(days, 50)
    p95 = percentile(days, 95)
    return SlaReport(
        open=sum(by_status[s.value] for s in states.OPEN), overdue=by_days_left["overdue"],
        by_days_left=by_days_left, by_status=by_status, closed_in_window=len(days),
        median_days_to_close=None if median is None else round(median, 1),
        p95_days_to_close=None if p95 is None else round(p95, 1),
        declines_by_ground=grounds, by_channel=channels, window_days=window_days,
    )
