"""The first stages of a scan: explain each access by a reason recorded elsewhere, then the per-day facts.

Pure SQL text (DuckDB's dialect, transpiled for Spark by ombud.insider.engine). An access is *explained* when
a customer-initiated ticket or contact, a victim request (or incident, or investigation) case, or an order
problem accounts for it; a refused access is never explained. Detectors look only at what stays unexplained,
which is where reviewers look first (Fabbri & LeFevre 2011 explained over 94% of hospital accesses this way).
"""

from __future__ import annotations

from typing import Final

#: Classes an order problem (a cancelled, returned or disputed order) explains reading.
ORDER_CLASSES: Final = ("order_history", "payment", "address", "identity_basic", "contact")

#: Case types opened by a process outside any one employee's control (a victim's request, an incident).
PROCESS_CASES: Final = ("victim_request", "incident", "insider_investigation")

DAY: Final = 86400


#: How long after a customer's contact it explains a look: home-camera video only around the contact itself.
#: Windows are whole seconds compared as integers (a literal such as 86400.0 is a DECIMAL in both engines, and
#: comparing ten million times in DECIMAL arithmetic cost more than the joins); days divide by a DOUBLE for the
#: same reason.
_WINDOW = ("CASE WHEN a.data_class = 'video' THEN CAST({video_ticket_s} AS BIGINT) "
           "ELSE CAST({ticket_s} AS BIGINT) END")
_BEFORE = "CAST({before_contact_s} AS BIGINT)"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


#: The reasons, in the order a row's reason is chosen when several explain it (alphabetical, as before codes).
REASONS: Final = ("customer_contact", "customer_ticket", "order_problem", "process_case", "ticket_case")


def _code(reason: str) -> int:
    return REASONS.index(reason) + 1


_REASON_OF = "CASE x.code " + " ".join(f"WHEN {i + 1} THEN '{r}'" for i, r in enumerate(REASONS)) + " END"

#: (name, SQL) in order; each becomes a table the later ones (and the detectors) read. Explanation reasons are
#: small integer codes until the end (grouping 2 rows per access by a string cost more than the joins), and the
#: `access` table keeps only the columns detectors read: evidence goes back to `events` by row_id.
STAGES: Final[list[tuple[str, str]]] = [
    ("access_base", """
SELECT e.row_id, e.event_id, e.employee_id, e.customer_id, e.data_class, e.at_s,
       CAST(FLOOR(e.at_s / 86400e0) AS BIGINT) AS day,
       CAST(FLOOR((e.at_s % 86400) / 3600e0) AS BIGINT) AS hour,
       e.decision, e.purpose_kind, e.case_id, e.ticket_ref,
       COALESCE(m.team, '?') AS team, COALESCE(m.role, '?') AS role
FROM events e LEFT JOIN employees m ON m.employee_id = e.employee_id
"""),
    # The explanations are not a table of their own: grouped by row straight from the joins that find them
    # (a semi-join per reason, a row once however many contacts explain it, cost twice as much in DuckDB).
    ("access", f"""
WITH explanation AS (
SELECT a.row_id, {_code('customer_ticket')} AS code
FROM access_base a JOIN contacts c ON c.ticket_ref = a.ticket_ref AND c.customer_id = a.customer_id
WHERE c.initiated_by = 'customer' AND a.at_s BETWEEN c.opened_s - {_BEFORE} AND c.opened_s + {_WINDOW}
UNION ALL
SELECT a.row_id, {_code('customer_contact')} AS code
FROM access_base a JOIN contacts c ON c.customer_id = a.customer_id
WHERE c.initiated_by = 'customer' AND (c.employee_id = a.employee_id OR c.team = a.team)
  AND a.at_s BETWEEN c.opened_s - {_BEFORE} AND c.opened_s + {_WINDOW}
UNION ALL
SELECT a.row_id, {_code('ticket_case')} AS code
FROM access_base a JOIN cases k ON a.purpose_kind = 'case' AND k.case_id = a.case_id
JOIN contacts c ON c.ticket_ref = k.source AND c.customer_id = a.customer_id
WHERE c.initiated_by = 'customer' AND a.at_s BETWEEN c.opened_s - {_BEFORE} AND c.opened_s + {_WINDOW}
UNION ALL
SELECT a.row_id, {_code('process_case')} AS code
FROM access_base a JOIN cases k ON a.purpose_kind = 'case' AND k.case_id = a.case_id
WHERE k.case_type IN ({_in(PROCESS_CASES)}) AND k.customer_id = a.customer_id
UNION ALL
SELECT a.row_id, {_code('order_problem')} AS code
FROM access_base a JOIN orders o ON o.customer_id = a.customer_id
WHERE a.data_class IN ({_in(ORDER_CLASSES)}) AND a.at_s BETWEEN o.placed_s AND o.placed_s + CAST({{order_s}} AS BIGINT)
)
SELECT a.row_id, a.event_id, a.employee_id, a.customer_id, a.data_class, a.day, a.hour, a.decision,
       a.purpose_kind, a.case_id, a.ticket_ref, a.team, a.role, {_REASON_OF} AS reason,
       CASE WHEN x.code IS NULL AND a.decision <> 'deny' THEN 1 ELSE 0 END AS unexplained
FROM access_base a
LEFT JOIN (SELECT row_id, MIN(code) AS code FROM explanation GROUP BY row_id) x ON x.row_id = a.row_id
"""),
    # Who opened the ticket an access names: asked only of the tickets that unexplained accesses name.
    ("ticket", """
SELECT ticket_ref, MIN(customer_id) AS customer_id, MIN(employee_id) AS employee_id,
       MIN(initiated_by) AS initiated_by
FROM contacts WHERE ticket_ref IN (SELECT ticket_ref FROM access WHERE unexplained = 1 AND ticket_ref IS NOT NULL)
GROUP BY ticket_ref
"""),
    # The unexplained accesses, with whether the employee opened the ticket or case they read under themselves.
    ("u", """
SELECT a.*,
       CASE WHEN (k.opened_by = a.employee_id AND k.case_type = 'support_ticket')
              OR (t.initiated_by = 'staff' AND t.employee_id = a.employee_id) THEN 1 ELSE 0 END AS self_ticket
FROM access a
LEFT JOIN cases k ON a.purpose_kind = 'case' AND k.case_id = a.case_id
LEFT JOIN ticket t ON t.ticket_ref = a.ticket_ref
WHERE a.unexplained = 1
"""),
    ("pop", "SELECT GREATEST(COUNT(DISTINCT customer_id), 1) AS big_n FROM customers"),
    # Per employee-day and per employee-week facts several detectors and the ranking share, computed once.
    ("emp_day", """
SELECT employee_id, day, MIN(team) AS team, MIN(role) AS role,
       COUNT(DISTINCT CASE WHEN unexplained = 1 THEN customer_id END) AS n_unx,
       COUNT(DISTINCT CASE WHEN decision = 'deny' THEN customer_id END) AS n_deny
FROM access GROUP BY employee_id, day
"""),
    ("emp_week", """
SELECT w.*, COALESCE(s.n, 0) AS n_self_ticket
FROM (SELECT employee_id, CAST(FLOOR(day / 7e0) AS BIGINT) AS wk, MIN(team) AS team, MIN(role) AS role,
             COUNT(DISTINCT CASE WHEN unexplained = 1 THEN customer_id END) AS n_unx,
             COUNT(DISTINCT CASE WHEN purpose_kind = 'break_glass' THEN customer_id END) AS n_break_glass
      FROM access GROUP BY employee_id, CAST(FLOOR(day / 7e0) AS BIGINT)) w
LEFT JOIN (SELECT employee_id, CAST(FLOOR(day / 7e0) AS BIGINT) AS wk, COUNT(DISTINCT customer_id) AS n
           FROM u WHERE self_ticket = 1 GROUP BY employee_id, CAST(FLOOR(day / 7e0) AS BIGINT)) s
  ON s.employee_id = w.employee_id AND s.wk = w.wk
"""),
]

#: What the scan reports about explanation, per reason (NULL: unexplained; 'refused': denied).
SUMMARY_SQL: Final = """
SELECT reason, COUNT(*) AS n_rows, COUNT(DISTINCT event_id) AS n_events
FROM (SELECT event_id, CASE WHEN decision = 'deny' THEN 'refused' ELSE COALESCE(reason, 'unexplained') END AS reason
      FROM access) r
GROUP BY reason
"""
