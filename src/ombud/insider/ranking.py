"""Scoring employee-days (pure: SQL text): the alert score that spends the budget, and the ranking score.

**Alert score.** A day's fresh findings combine as independent evidence (1 - prod(1 - strength x weight)). One
person's repeated findings are one episode: a day that scores no higher than the same employee's best day of the
`episode_days` before it adds to that alert instead of raising a new one (its alert score is 0), so a slow
exfiltration that fires every few days takes one place in the reviewers' budget, not ten. A day that scores
higher than anything in the past week still raises its own alert: an escalating pattern deserves a new look.

**Ranking score** (every active employee-day, for AUC and for sorting what did not alert). Findings dominate; below
them a continuous anomaly separates the days that raised nothing, so they are not all tied. It rests on signals
that are zero on most ordinary days, each turned into its empirical tail probability p among comparable
employee-days of the same scan (no scale to choose, nothing fitted to one data set):

- among the days of the same team and role: the day's unexplained customers; its unexplained reads on tickets
  the employee opened; its unexplained break-glass reads; its unexplained reads of sensitive classes; its reads
  that name no ticket or case at all (explained or not: a colleague's ticket is a weak reason);
- among the same team, role and week: the unexplained customers of the four weeks the day ends, when the day
  itself has some (slow, steady look-ups are only unusual in sum);
- among all days: the rarest surname or postcode the employee shares with a customer looked up without a
  reason (its idf), and how many colleagues looked up, without a reason, a customer the employee looked up that
  week.

The day's surprise is the sum of -ln p over the signals (Fisher's statistic), and its anomaly the share of the
scan's employee-days less surprising than it. A day also inherits half of the strongest finding within
`episode_days` either side, in proportion to its own anomaly: a person's unusual days around a finding are
where the rest of an episode hides, their ordinary days are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ombud.insider.detectors import WATCHED_CLASSES

#: The weight of the continuous anomaly beside the findings: a day without findings ranks below a finding of
#: strength ANOMALY_WEIGHT or more.
ANOMALY_WEIGHT: Final = 0.2

#: (name, expression over the `sig` columns, partition of the comparison); the tail probability of each.
SIGNALS: Final[tuple[tuple[str, str, str], ...]] = (
    ("unexplained", "n_unx", "team, role"),
    ("self_ticket", "n_self", "team, role"),
    ("break_glass", "n_bg", "team, role"),
    ("sensitive", "n_sens", "team, role"),
    ("unanchored", "n_none", "team, role"),
    ("four_weeks", "n4", "team, role, wk"),
    ("relation", "rel_idf", "'*'"),
    ("shared_customer", "pop_m", "'*'"),
)

#: How much of the strongest finding within `episode_days` either side a day inherits: a person's days around a
#: finding are where the rest of an episode hides (what a reviewer opening the case looks at next).
EPISODE_WEIGHT: Final = 0.5

_WATCHED = ", ".join(f"'{c}'" for c in WATCHED_CLASSES)


def _tail(expr: str, partition: str) -> str:
    """Share of the partition's employee-days whose value is at least this one's (1.0 for the smallest)."""
    over = f"OVER (PARTITION BY {partition} ORDER BY {expr})"
    return (f"(CAST(COUNT(*) OVER (PARTITION BY {partition}) - RANK() {over} + 1 AS DOUBLE)"
            f" / COUNT(*) OVER (PARTITION BY {partition}))")


def day_scores_sql(values: Mapping[str, float], from_day: int) -> str:
    """Per active employee-day from `from_day` on: n_unx, score (the alert score), n_findings, rank_score."""
    episode = int(values["episode_days"])
    tails = ", ".join(f"{_tail(expr, part)} AS p_{name}" for name, expr, part in SIGNALS)
    surprise = " + ".join(f"-LN(p_{name})" for name, _, _ in SIGNALS)
    return f"""
WITH w AS (
  SELECT f.employee_id, f.day, f.detector, f.fresh,
         LEAST(f.strength * COALESCE(t.weight, s.weight, 1.0), 0.999) AS s
  FROM findings_all f LEFT JOIN employees m ON m.employee_id = f.employee_id
  LEFT JOIN feedback t ON t.detector = f.detector AND t.team = m.team
  LEFT JOIN feedback s ON s.detector = f.detector AND s.team = '*'
),
alert0 AS (SELECT employee_id, day,
                  1.0 - EXP(SUM(CASE WHEN fresh = 1 THEN LN(1.0 - s) ELSE 0.0 END)) AS score,
                  1.0 - EXP(SUM(LN(1.0 - s))) AS score_all,
                  SUM(fresh) AS n_findings
           FROM w GROUP BY employee_id, day),
alert AS (
  SELECT employee_id, day, score_all, n_findings,
         CASE WHEN MAX(score) OVER (PARTITION BY employee_id ORDER BY day
                                    RANGE BETWEEN {episode} PRECEDING AND 1 PRECEDING) >= score
              THEN 0.0 ELSE score END AS score
  FROM alert0
),
-- findings whose evidence falls on a day count for that day too (a four-week finding's days)
evd AS (SELECT r.employee_id, a.day, r.detector, MAX(LEAST(r.strength, 0.999)) AS s
        FROM finding_rows r JOIN access a ON a.row_id = r.row_id GROUP BY r.employee_id, a.day, r.detector),
ev AS (SELECT employee_id, day, 1.0 - EXP(SUM(LN(1.0 - s))) AS s FROM evd GROUP BY employee_id, day),
ud AS (
  SELECT employee_id, day,
         COUNT(DISTINCT CASE WHEN self_ticket = 1 THEN customer_id END) AS n_self,
         COUNT(DISTINCT CASE WHEN data_class IN ({_WATCHED}) THEN customer_id END) AS n_sens,
         COUNT(DISTINCT CASE WHEN purpose_kind = 'break_glass' THEN customer_id END) AS n_bg
  FROM u GROUP BY employee_id, day
),
sf AS (SELECT surname_key, COUNT(DISTINCT customer_id) AS f FROM customers WHERE surname_key IS NOT NULL
       GROUP BY surname_key),
pf AS (SELECT postcode_key, COUNT(DISTINCT customer_id) AS f FROM customers WHERE postcode_key IS NOT NULL
       GROUP BY postcode_key),
uc AS (
  SELECT u.employee_id, u.day, c.surname_key, c.postcode_key
  FROM u JOIN customers c ON c.customer_id = u.customer_id JOIN employees m ON m.employee_id = u.employee_id
  WHERE c.surname_key = m.surname_key OR c.postcode_key = m.postcode_key
),
rel AS (
  SELECT uc.employee_id, uc.day,
         MAX(GREATEST(CASE WHEN sf.f IS NOT NULL THEN LN(pop.big_n / sf.f) ELSE 0.0 END,
                      CASE WHEN pf.f IS NOT NULL THEN LN(pop.big_n / pf.f) ELSE 0.0 END)) AS rel_idf
  FROM uc JOIN employees m ON m.employee_id = uc.employee_id CROSS JOIN pop
  LEFT JOIN sf ON sf.surname_key = uc.surname_key AND uc.surname_key = m.surname_key
  LEFT JOIN pf ON pf.postcode_key = uc.postcode_key AND uc.postcode_key = m.postcode_key
  GROUP BY uc.employee_id, uc.day
),
uw AS (SELECT DISTINCT employee_id, customer_id, day, CAST(FLOOR(day / 7e0) AS BIGINT) AS wk FROM u),
cw AS (SELECT customer_id, wk, COUNT(DISTINCT employee_id) - 1 AS m FROM uw GROUP BY customer_id, wk),
sh AS (SELECT uw.employee_id, uw.day, MAX(cw.m) AS pop_m FROM uw JOIN cw ON cw.customer_id = uw.customer_id
       AND cw.wk = uw.wk GROUP BY uw.employee_id, uw.day),
nd AS (SELECT employee_id, day, COUNT(DISTINCT customer_id) AS n_none FROM access
       WHERE purpose_kind = 'none' AND decision <> 'deny' GROUP BY employee_id, day),
w4 AS (
  SELECT employee_id, wk,
         SUM(n_unx) OVER (PARTITION BY employee_id ORDER BY wk RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS n4
  FROM emp_week
),
sig AS (
  SELECT d.employee_id, d.day, d.team, d.role, d.n_unx, COALESCE(nd.n_none, 0) AS n_none,
         CAST(FLOOR(d.day / 7e0) AS BIGINT) AS wk, CASE WHEN d.n_unx > 0 THEN w4.n4 ELSE 0 END AS n4,
         COALESCE(ud.n_self, 0) AS n_self,
         COALESCE(ud.n_sens, 0) AS n_sens, COALESCE(ud.n_bg, 0) AS n_bg,
         COALESCE(rel.rel_idf, 0.0) AS rel_idf, COALESCE(sh.pop_m, 0) AS pop_m
  FROM emp_day d LEFT JOIN ud ON ud.employee_id = d.employee_id AND ud.day = d.day
  LEFT JOIN rel ON rel.employee_id = d.employee_id AND rel.day = d.day
  LEFT JOIN sh ON sh.employee_id = d.employee_id AND sh.day = d.day
  LEFT JOIN nd ON nd.employee_id = d.employee_id AND nd.day = d.day
  LEFT JOIN w4 ON w4.employee_id = d.employee_id AND w4.wk = CAST(FLOOR(d.day / 7e0) AS BIGINT)
),
tails AS (SELECT employee_id, day, n_unx, {tails} FROM sig),
surprise AS (SELECT employee_id, day, n_unx, {surprise} AS s FROM tails),
anomaly AS (SELECT employee_id, day, n_unx, 1.0 - {_tail("s", "'*'")} AS a FROM surprise),
scored AS (
  SELECT d.employee_id, d.day, d.n_unx, d.a, COALESCE(alert.score, 0.0) AS score,
         CAST(COALESCE(alert.n_findings, 0) AS BIGINT) AS n_findings,
         GREATEST(COALESCE(alert.score_all, 0.0), COALESCE(ev.s, 0.0)) AS found
  FROM anomaly d LEFT JOIN alert ON alert.employee_id = d.employee_id AND alert.day = d.day
  LEFT JOIN ev ON ev.employee_id = d.employee_id AND ev.day = d.day
),
ctx AS (
  SELECT scored.*, MAX(found) OVER (PARTITION BY employee_id ORDER BY day
                                 RANGE BETWEEN {episode} PRECEDING AND {episode} FOLLOWING) AS near
  FROM scored
)
SELECT employee_id, day, n_unx, score, n_findings,
       1.0 - (1.0 - found) * (1.0 - {ANOMALY_WEIGHT} * a) * (1.0 - {EPISODE_WEIGHT} * near * a) AS rank_score
FROM ctx d
WHERE d.day >= {int(from_day)}
"""
