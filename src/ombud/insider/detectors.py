"""The detectors, in a registry (pure: SQL text and parameters; no database, no web framework).

Every detector is one SQL query over the stages of ombud.insider.explain (chiefly `u`, the accesses nothing
explains) that returns evidence rows: (detector, employee_id, day, ref, stat, n, strength, row_id). `day` is the
day the finding belongs to (the day a daily scan would have raised it), `ref` what it is about (a seller, a
relationship, a data class), `stat` the detector's statistic, `strength` in [0, 1) how strongly it fires.

Statistics compare like with like: an employee with their own history (leave-one-out), with their peers of the
same team and role *on the same day* (so a team-wide surge after an outage does not fire), and rare things are
weighted by how rare they are (a surname shared by 1% of customers proves little; Boxwala et al. 2011 saw such
rules flood reviewers). Thresholds are parameters (PARAMS), so analysts' outcomes can move them as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

#: Every tunable number, with its default. Times in seconds or days as named.
PARAMS: Final[dict[str, float]] = {
    # explanation windows
    "before_contact_s": 86400.0,  # an access up to a day before the contact (the call comes in after a look)
    "ticket_s": 14 * 86400.0,  # a customer's ticket explains accesses for two weeks
    "video_ticket_s": 2 * 86400.0,  # ...but home-camera video only around the contact (the case, not beyond)
    "order_s": 30 * 86400.0,  # an order problem explains order-related reads for 30 days
    # shared
    "var0": 0.25,  # prior variance (log scale) so a steady history does not make every wobble extreme
    "min_peers": 4.0,  # peer comparisons need this many peers that day/week
    "min_history_days": 5.0,  # own-baseline comparisons need this many earlier active days
    # volume (one day, all classes) and class_volume (one day, one sensitive class)
    "volume_min_customers": 8.0,
    "volume_z": 3.0,
    "class_min_customers": 3.0,
    "class_z": 3.0,
    # spread: four weeks of unexplained lookups against same-weeks peers (slow-and-low)
    "spread_min_customers": 12.0,
    "spread_z": 3.0,
    # seller_reviewers: enrichment of one seller's negative reviewers (log-likelihood ratio, Bonferroni'd)
    "negative_rating": 2.0,
    "seller_min_hits": 3.0,
    "seller_min_llr": 6.0,
    # relationship: same surname/postcode weighted by rarity (idf = ln(customers / sharing))
    "surname_min_idf": 6.0,
    "postcode_min_idf": 5.0,
    "relation_scale": 3.0,
    # refusals (probing)
    "refusal_min_customers": 3.0,
    "refusal_z": 3.0,
    # off_shift: unexplained reads in hours the employee's explained work almost never touches
    "off_shift_min_history": 40.0,
    "off_shift_share": 0.02,
    "off_shift_min_customers": 2.0,
    # rare_class: a class the employee's peer group almost never reads
    "rare_class_share": 0.01,
    "rare_class_min_peer_rows": 200.0,
    "rare_class_min_customers": 2.0,
    # break_glass habit (four weeks)
    "break_glass_min": 3.0,
    "break_glass_z": 2.5,
    # self_ticket: tickets the employee opened on customers who never contacted (four weeks)
    "self_ticket_min_customers": 4.0,
    "self_ticket_z": 3.0,
    # departing: last weeks before leaving against the employee's own earlier rate
    "departing_days": 30.0,
    "departing_min_customers": 6.0,
    "departing_prior_days": 20.0,  # weight of the peers' rate in the employee's expected rate
    "departing_min_llr": 6.0,
    # popular_customer (VIP): many employees looking at one customer unexplained in a week (Poisson LLR)
    "popular_min_employees": 3.0,
    "popular_min_llr": 8.0,
    # repeat_views: the same customer's sensitive data looked at again and again without a reason
    "repeat_min_views": 4.0,
    "repeat_min_days": 2.0,
    # alerts
    "alert_min_score": 0.5,
    "episode_days": 7.0,  # a detector firing again on the same thing within this many days continues its alert
}

#: Sensitive classes watched one by one (a day's video viewing, a day's email lookups).
WATCHED_CLASSES: Final = ("video", "contact", "payment", "government_id")
_WATCHED = ", ".join(f"'{c}'" for c in WATCHED_CLASSES)


@dataclass(frozen=True)
class Detector:
    """One detector: its name, what it looks for in plain words, and its SQL."""

    name: str
    title: str
    explains: str  # a sentence template over the finding: {n}, {ref}, {stat}
    sql: str


def _strength(excess: str, scale: str) -> str:
    """1 - exp(-max(excess, 0) / scale), capped below 1: how far past its threshold a statistic is."""
    return f"LEAST(1.0 - EXP(-GREATEST({excess}, 0.0) / {scale}), 0.999)"


def _robust(name: str, source: str, keys: str) -> str:
    """CTEs {name}_m (median and count of x per keys) and {name}_a (median absolute deviation) over `source`."""
    on = " AND ".join(f"s.{k.strip()} = m.{k.strip()}" for k in keys.split(","))
    return f"""
{name}_m AS (SELECT {keys}, MEDIAN(x) AS med, COUNT(*) AS k FROM {source} GROUP BY {keys}),
{name}_a AS (SELECT {', '.join('s.' + k.strip() for k in keys.split(','))}, MEDIAN(ABS(s.x - m.med)) AS mad
             FROM {source} s JOIN {name}_m m ON {on} GROUP BY {', '.join('s.' + k.strip() for k in keys.split(','))})"""


def _z(x: str, m: str, a: str) -> str:
    """Robust z: distance from the median in units of the scaled MAD, with the prior variance added."""
    return f"({x} - {m}.med) / SQRT(POWER(1.4826 * {a}.mad, 2) + {{var0}})"


def _daily_z(name: str, source: str, group: str, min_n: str, z: str) -> str:
    """Unexplained distinct customers per employee-day (per `group`) against the employee's own days and the
    same day's peers (team, role), robustly (median, MAD) in log space; fires when both are extreme."""
    return f"""
WITH d AS (
  SELECT employee_id, day, {group} AS grp, COUNT(DISTINCT customer_id) AS n
  FROM {source} src GROUP BY employee_id, day, {group}
),
active AS (SELECT employee_id, team, role, day FROM emp_day),
g AS (SELECT DISTINCT grp FROM d),
full_d AS (
  SELECT a.employee_id, a.team, a.role, a.day, g.grp, COALESCE(d.n, 0) AS n, LN(1.0 + COALESCE(d.n, 0)) AS x
  FROM active a CROSS JOIN g LEFT JOIN d ON d.employee_id = a.employee_id AND d.day = a.day AND d.grp = g.grp
),{_robust("own", "full_d", "employee_id, grp")},{_robust("peer", "full_d", "team, role, day, grp")},
z AS (
  SELECT f.employee_id, f.day, f.grp, f.n,
    CASE WHEN om.k >= {{min_history_days}} THEN {_z("f.x", "om", "oa")} END AS z_own,
    CASE WHEN pm.k >= {{min_peers}} THEN {_z("f.x", "pm", "pa")} END AS z_peer
  FROM full_d f
  JOIN own_m om ON om.employee_id = f.employee_id AND om.grp = f.grp
  JOIN own_a oa ON oa.employee_id = f.employee_id AND oa.grp = f.grp
  JOIN peer_m pm ON pm.team = f.team AND pm.role = f.role AND pm.day = f.day AND pm.grp = f.grp
  JOIN peer_a pa ON pa.team = f.team AND pa.role = f.role AND pa.day = f.day AND pa.grp = f.grp
  WHERE f.n >= {min_n}
),
hit AS (
  SELECT employee_id, day, grp, n, LEAST(COALESCE(z_own, z_peer), COALESCE(z_peer, z_own)) AS zz FROM z
  WHERE COALESCE(z_own, z_peer) IS NOT NULL
)
SELECT '{name}' AS detector, h.employee_id, h.day, h.grp AS ref, h.zz AS stat, h.n,
       {_strength(f"h.zz - {z}", "2.0")} AS strength, s.row_id
FROM hit h JOIN {source} s ON s.employee_id = h.employee_id AND s.day = h.day
 AND {group.replace('data_class', 's.data_class')} = h.grp
WHERE h.zz >= {z}
"""


def _four_week_z(name: str, flag: str, column: str, min_n: str, z: str, source: str = "access") -> str:
    """Distinct customers of flagged accesses per employee over four weeks (`column` of emp_week counts them per
    week), against the same weeks' peers (median and MAD of the team and role, log scale)."""
    return f"""
WITH w AS (SELECT employee_id, team, role, wk, {column} AS n FROM emp_week),
r AS (
  SELECT employee_id, team, role, wk,
         CAST(SUM(n) OVER (PARTITION BY employee_id ORDER BY wk RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS BIGINT)
         AS n4
  FROM w
),
x AS (SELECT r.*, LN(1.0 + n4) AS x FROM r),{_robust("peer", "x", "team, role, wk")},
z AS (
  SELECT x.employee_id, x.wk, x.n4, {_z("x.x", "pm", "pa")} AS zz
  FROM x JOIN peer_m pm ON pm.team = x.team AND pm.role = x.role AND pm.wk = x.wk
  JOIN peer_a pa ON pa.team = x.team AND pa.role = x.role AND pa.wk = x.wk
  WHERE x.n4 >= {min_n} AND pm.k >= {{min_peers}}
),
ev AS (
  SELECT z.employee_id, z.wk, z.n4, z.zz, a.row_id, a.day
  FROM z JOIN {source} a ON a.employee_id = z.employee_id
   AND CAST(FLOOR(a.day / 7e0) AS BIGINT) BETWEEN z.wk - 3 AND z.wk AND {flag}
  WHERE z.zz >= {z}
)
SELECT '{name}' AS detector, employee_id, MAX(day) OVER (PARTITION BY employee_id, wk) AS day, 'four weeks' AS ref,
       zz AS stat, n4 AS n, {_strength(f"zz - {z}", "2.0")} AS strength, row_id
FROM ev
"""


_SELLER = """
WITH neg AS (SELECT DISTINCT customer_id, seller_id FROM reviews WHERE rating <= {negative_rating}),
ks AS (SELECT seller_id, COUNT(*) AS big_k FROM neg GROUP BY seller_id),
nsel AS (SELECT GREATEST(COUNT(*), 1) AS m FROM ks),
ec AS (SELECT DISTINCT employee_id, customer_id FROM u),
ne AS (SELECT employee_id, COUNT(*) AS n FROM ec GROUP BY employee_id),
hits AS (SELECT ec.employee_id, neg.seller_id, COUNT(*) AS k FROM ec JOIN neg ON neg.customer_id = ec.customer_id
         GROUP BY ec.employee_id, neg.seller_id),
sc AS (
  SELECT h.employee_id, h.seller_id, h.k, CAST(ne.n AS DOUBLE) * ks.big_k / pop.big_n AS expected
  FROM hits h JOIN ne ON ne.employee_id = h.employee_id JOIN ks ON ks.seller_id = h.seller_id CROSS JOIN pop
  WHERE h.k >= {seller_min_hits}
),
llr AS (
  SELECT sc.employee_id, sc.seller_id, sc.k,
         sc.k * LN(sc.k / sc.expected) - (sc.k - sc.expected) - LN(nsel.m) AS stat
  FROM sc CROSS JOIN nsel WHERE sc.k > sc.expected
),
ev AS (
  SELECT l.employee_id, l.seller_id, l.k, l.stat, u.row_id, u.day
  FROM llr l JOIN neg ON neg.seller_id = l.seller_id
  JOIN u ON u.employee_id = l.employee_id AND u.customer_id = neg.customer_id
  WHERE l.stat >= {seller_min_llr}
)
SELECT 'seller_reviewers' AS detector, employee_id, MAX(day) OVER (PARTITION BY employee_id, seller_id) AS day,
       seller_id AS ref, stat, k AS n, """ + _strength("stat - {seller_min_llr}", "6.0") + """ AS strength, row_id
FROM ev
"""

_RELATION = """
WITH sf AS (SELECT surname_key, COUNT(DISTINCT customer_id) AS f FROM customers WHERE surname_key IS NOT NULL
            GROUP BY surname_key),
pf AS (SELECT postcode_key, COUNT(DISTINCT customer_id) AS f FROM customers WHERE postcode_key IS NOT NULL
       GROUP BY postcode_key),
uc AS (
  SELECT u.row_id, u.employee_id, u.day, c.surname_key, c.postcode_key, c.address_key, c.email_key,
         m.surname_key AS m_surname, m.postcode_key AS m_postcode, m.address_key AS m_address, m.email_key AS m_email
  FROM u JOIN customers c ON c.customer_id = u.customer_id JOIN employees m ON m.employee_id = u.employee_id
),
-- two equality joins, not one join on an OR (which no engine can hash: it compared every pair)
cw AS (
  SELECT uc.row_id, uc.employee_id, uc.day FROM uc JOIN employees o ON o.email_key = uc.email_key
  WHERE o.employee_id <> uc.employee_id
  UNION
  SELECT uc.row_id, uc.employee_id, uc.day FROM uc
  JOIN employees o ON o.surname_key = uc.surname_key AND o.postcode_key = uc.postcode_key
  WHERE o.employee_id <> uc.employee_id
),
rel AS (
  SELECT uc.row_id, uc.employee_id, uc.day, 'same surname' AS kind, LN(pop.big_n / sf.f) AS idf,
         {surname_min_idf} AS floor_idf
  FROM uc JOIN sf ON sf.surname_key = uc.surname_key CROSS JOIN pop WHERE uc.surname_key = uc.m_surname
  UNION ALL
  SELECT uc.row_id, uc.employee_id, uc.day, 'same postcode' AS kind, LN(pop.big_n / pf.f) AS idf,
         {postcode_min_idf} AS floor_idf
  FROM uc JOIN pf ON pf.postcode_key = uc.postcode_key CROSS JOIN pop WHERE uc.postcode_key = uc.m_postcode
  UNION ALL
  SELECT row_id, employee_id, day, 'same address' AS kind, 12.0 AS idf, 0.0 AS floor_idf
  FROM uc WHERE uc.address_key = uc.m_address
  UNION ALL
  SELECT row_id, employee_id, day, 'own account' AS kind, 12.0 AS idf, 0.0 AS floor_idf
  FROM uc WHERE uc.email_key = uc.m_email
  UNION ALL
  SELECT row_id, employee_id, day, 'co-worker' AS kind, 9.0 AS idf, 0.0 AS floor_idf FROM cw
)
SELECT 'relationship' AS detector, employee_id, day, kind AS ref, idf AS stat, 1 AS n,
       """ + _strength("idf - floor_idf + 1.0", "{relation_scale}") + """ AS strength, row_id
FROM rel WHERE idf >= floor_idf
"""

_REFUSALS = """
WITH d AS (SELECT employee_id, team, role, day, n_deny AS n FROM emp_day),
x AS (SELECT d.*, LN(1.0 + n) AS x FROM d),""" + _robust("peer", "x", "team, role") + """,
z AS (
  SELECT x.employee_id, x.day, x.n, """ + _z("x.x", "pm", "pa") + """ AS zz
  FROM x JOIN peer_m pm ON pm.team = x.team AND pm.role = x.role
  JOIN peer_a pa ON pa.team = x.team AND pa.role = x.role
  WHERE x.n >= {refusal_min_customers}
)
SELECT 'refusals' AS detector, z.employee_id, z.day, 'refused' AS ref, z.zz AS stat, z.n,
       """ + _strength("z.zz - {refusal_z}", "2.0") + """ AS strength, a.row_id
FROM z JOIN access a ON a.employee_id = z.employee_id AND a.day = z.day AND a.decision = 'deny'
WHERE z.zz >= {refusal_z}
"""

_OFF_SHIFT = """
WITH h AS (SELECT employee_id, hour, COUNT(*) AS c FROM access WHERE reason IS NOT NULL GROUP BY employee_id, hour),
t AS (SELECT employee_id, SUM(c) AS total FROM h GROUP BY employee_id),
hrs AS (SELECT DISTINCT hour FROM access),
sh AS (
  SELECT t.employee_id, hrs.hour, t.total,
         COALESCE(SUM(h.c), 0) / CAST(t.total AS DOUBLE) AS share
  FROM t CROSS JOIN hrs
  LEFT JOIN h ON h.employee_id = t.employee_id
   AND (h.hour = hrs.hour OR h.hour = (hrs.hour + 1) % 24 OR h.hour = (hrs.hour + 23) % 24)
  GROUP BY t.employee_id, hrs.hour, t.total
),
odd AS (
  SELECT u.row_id, u.employee_id, u.day, u.customer_id, sh.share
  FROM u JOIN sh ON sh.employee_id = u.employee_id AND sh.hour = u.hour
  WHERE sh.total >= {off_shift_min_history} AND sh.share < {off_shift_share}
),
d AS (SELECT employee_id, day, COUNT(DISTINCT customer_id) AS n FROM odd GROUP BY employee_id, day)
SELECT 'off_shift' AS detector, odd.employee_id, odd.day, 'off shift' AS ref, CAST(d.n AS DOUBLE) AS stat, d.n,
       """ + _strength("d.n - {off_shift_min_customers} + 1.0", "3.0") + """ AS strength, odd.row_id
FROM odd JOIN d ON d.employee_id = odd.employee_id AND d.day = odd.day
WHERE d.n >= {off_shift_min_customers}
"""

_RARE_CLASS = """
WITH pc AS (SELECT team, role, data_class, COUNT(*) AS c FROM access WHERE decision <> 'deny'
            GROUP BY team, role, data_class),
pt AS (SELECT team, role, SUM(c) AS total FROM pc GROUP BY team, role),
rare AS (
  SELECT pc.team, pc.role, pc.data_class, pc.c / CAST(pt.total AS DOUBLE) AS share
  FROM pc JOIN pt ON pt.team = pc.team AND pt.role = pc.role
  WHERE pt.total >= {rare_class_min_peer_rows} AND pc.c / CAST(pt.total AS DOUBLE) < {rare_class_share}
),
ev AS (
  SELECT u.row_id, u.employee_id, u.day, u.data_class, u.customer_id, r.share
  FROM u JOIN rare r ON r.team = u.team AND r.role = u.role AND r.data_class = u.data_class
),
d AS (SELECT employee_id, day, data_class, COUNT(DISTINCT customer_id) AS n, MIN(share) AS share FROM ev
      GROUP BY employee_id, day, data_class)
SELECT 'rare_class' AS detector, ev.employee_id, ev.day, ev.data_class AS ref, -LN(GREATEST(d.share, 0.00001)) AS stat,
       d.n, """ + _strength("-LN(GREATEST(d.share, 0.00001)) + LN({rare_class_share}) + LN(1.0 + d.n)", "2.0") + """
       AS strength, ev.row_id
FROM ev JOIN d ON d.employee_id = ev.employee_id AND d.day = ev.day AND d.data_class = ev.data_class
WHERE d.n >= {rare_class_min_customers}
"""

_DEPARTING = """
WITH m AS (SELECT employee_id, left_day FROM employees WHERE left_day IS NOT NULL),
ed AS (SELECT employee_id, team, role, day, n_unx AS n FROM emp_day),
peer AS (SELECT team, role, SUM(n) / CAST(COUNT(*) AS DOUBLE) AS rate FROM ed GROUP BY team, role),
a AS (
  SELECT u.employee_id, u.customer_id, u.day, u.row_id,
         CASE WHEN u.day > m.left_day - {departing_days} THEN 1 ELSE 0 END AS late
  FROM u JOIN m ON m.employee_id = u.employee_id WHERE u.day <= m.left_day
),
act AS (
  SELECT ed.employee_id, MIN(ed.team) AS team, MIN(ed.role) AS role,
         COUNT(CASE WHEN ed.day > m.left_day - {departing_days} THEN 1 END) AS late_days,
         COUNT(CASE WHEN ed.day <= m.left_day - {departing_days} THEN 1 END) AS early_days
  FROM ed JOIN m ON m.employee_id = ed.employee_id WHERE ed.day <= m.left_day GROUP BY ed.employee_id
),
r AS (
  SELECT employee_id, COUNT(DISTINCT CASE WHEN late = 1 THEN customer_id END) AS n_late,
         COUNT(DISTINCT CASE WHEN late = 0 THEN customer_id END) AS n_early
  FROM a GROUP BY employee_id
),
e AS (
  SELECT r.employee_id, r.n_late,
         GREATEST(act.late_days * (r.n_early + p.rate * {departing_prior_days})
                  / (act.early_days + {departing_prior_days}), 0.01) AS expected
  FROM r JOIN act ON act.employee_id = r.employee_id JOIN peer p ON p.team = act.team AND p.role = act.role
  WHERE r.n_late >= {departing_min_customers}
),
q AS (
  SELECT employee_id, n_late, n_late / expected AS ratio,
         n_late * LN(n_late / expected) - (n_late - expected) AS llr
  FROM e WHERE n_late > expected
)
SELECT 'departing' AS detector, a.employee_id, MAX(a.day) OVER (PARTITION BY a.employee_id) AS day,
       'last weeks' AS ref, q.ratio AS stat, q.n_late AS n,
       """ + _strength("q.llr - {departing_min_llr}", "6.0") + """ AS strength, a.row_id
FROM a JOIN q ON q.employee_id = a.employee_id
WHERE a.late = 1 AND q.llr >= {departing_min_llr}
"""

_POPULAR = """
WITH cw AS (
  SELECT customer_id, CAST(FLOOR(day / 7e0) AS BIGINT) AS wk,
         COUNT(DISTINCT CASE WHEN unexplained = 1 THEN employee_id END) AS m
  FROM access GROUP BY customer_id, CAST(FLOOR(day / 7e0) AS BIGINT)
),
lam AS (SELECT GREATEST(AVG(CAST(m AS DOUBLE)), 0.001) AS lam FROM cw),
hot AS (
  SELECT cw.customer_id, cw.wk, cw.m, cw.m * LN(cw.m / lam.lam) - (cw.m - lam.lam) AS stat
  FROM cw CROSS JOIN lam WHERE cw.m >= {popular_min_employees}
)
SELECT 'popular_customer' AS detector, u.employee_id,
       MAX(u.day) OVER (PARTITION BY u.employee_id, hot.customer_id, hot.wk) AS day,
       'customer viewed by many' AS ref, hot.stat, hot.m AS n,
       """ + _strength("hot.stat - {popular_min_llr}", "8.0") + """ AS strength, u.row_id
FROM hot JOIN u ON u.customer_id = hot.customer_id AND CAST(FLOOR(u.day / 7e0) AS BIGINT) = hot.wk
WHERE hot.stat >= {popular_min_llr}
"""

_REPEAT = f"""
WITH r AS (
  SELECT employee_id, customer_id, data_class, COUNT(DISTINCT event_id) AS views, COUNT(DISTINCT day) AS days
  FROM u WHERE data_class IN ({_WATCHED}) GROUP BY employee_id, customer_id, data_class
)
SELECT 'repeat_views' AS detector, u.employee_id,
       MAX(u.day) OVER (PARTITION BY u.employee_id, u.customer_id, u.data_class) AS day, u.data_class AS ref,
       CAST(r.views AS DOUBLE) AS stat, r.views AS n,
       """ + _strength("r.views - {{repeat_min_views}} + 1.0", "4.0").replace("{{", "{").replace("}}", "}") + """
       AS strength, u.row_id
FROM r JOIN u ON u.employee_id = r.employee_id AND u.customer_id = r.customer_id AND u.data_class = r.data_class
WHERE r.views >= {repeat_min_views} AND r.days >= {repeat_min_days}
"""

_REGISTRY: list[Detector] = [
    Detector("volume", "Many unexplained lookups in a day",
             "looked up {n} customers in a day with no ticket, case or order to explain them, far beyond their own "
             "usual days and their team's that same day",
             _daily_z("volume", "u", "'*'", "{volume_min_customers}", "{volume_z}")),
    Detector("class_volume", "Unexplained reading of one sensitive class",
             "read {ref} of {n} customers in a day without a reason on record, far beyond their usual and their "
             "team's that day",
             _daily_z("class_volume", f"(SELECT * FROM u WHERE data_class IN ({_WATCHED}))",
                      "data_class", "{class_min_customers}", "{class_z}")),
    Detector("spread", "Slow, steady unexplained lookups",
             "looked up {n} customers over four weeks with nothing to explain them, far more than peers in the same "
             "weeks", _four_week_z("spread", "unexplained = 1", "n_unx", "{spread_min_customers}", "{spread_z}")),
    Detector("seller_reviewers", "Lookups concentrated on one seller's negative reviewers",
             "{n} of the customers they looked up without a reason left negative reviews of seller {ref}, far more "
             "than chance", _SELLER),
    Detector("relationship", "Lookup of someone close",
             "looked up a customer with {ref} as the employee, with no reason on record", _RELATION),
    Detector("refusals", "Repeated refusals (probing)",
             "was refused access to {n} customers in a day, far more than their team", _REFUSALS),
    Detector("off_shift", "Unexplained lookups outside the usual hours",
             "looked up {n} customers without a reason at hours their own work almost never touches", _OFF_SHIFT),
    Detector("rare_class", "A data class the team almost never reads",
             "read {ref} of {n} customers without a reason; their team and role almost never read that class",
             _RARE_CLASS),
    Detector("break_glass", "A break-glass habit",
             "used break-glass on {n} customers over four weeks, far more than peers",
             _four_week_z("break_glass", "purpose_kind = 'break_glass'", "n_break_glass",
                          "{break_glass_min}", "{break_glass_z}")),
    Detector("self_ticket", "Tickets opened on customers who never made contact",
             "opened their own tickets to read {n} customers who never contacted the company, over four weeks, far "
             "more than peers",
             _four_week_z("self_ticket", "self_ticket = 1", "n_self_ticket", "{self_ticket_min_customers}",
                          "{self_ticket_z}", source="u")),
    Detector("departing", "A departing employee's last weeks",
             "looked up {n} customers without a reason in their last weeks before leaving, {stat:.1f} times what "
             "their earlier work and their peers' made likely", _DEPARTING),
    Detector("repeat_views", "The same customer's sensitive data, again and again",
             "looked at one customer's {ref} {n} times on several days without a reason (beyond any case)",
             _REPEAT),
    Detector("popular_customer", "One customer looked at by many",
             "was one of {n} employees who looked at the same customer in one week without a reason", _POPULAR),
]

DETECTORS: Final[dict[str, Detector]] = {d.name: d for d in _REGISTRY}


def params(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The parameters with `overrides` applied; an unknown name or a non-number is refused."""
    merged = dict(PARAMS)
    for name, value in (overrides or {}).items():
        if name not in PARAMS:
            raise ValueError(f"unknown detector parameter {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"detector parameter {name!r} must be a number")
        merged[name] = float(value)
    return merged


def render(sql: str, values: Mapping[str, float]) -> str:
    """The SQL with its {parameters} filled in as numeric literals."""
    return sql.format_map({k: repr(float(v)) for k, v in values.items()})


def describe(detector: str, n: int, ref: str, stat: float) -> str:
    """The plain sentence of one finding."""
    return DETECTORS[detector].explains.format(n=n, ref=ref, stat=stat)
