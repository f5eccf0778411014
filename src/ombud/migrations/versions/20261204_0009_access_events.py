"""access events: one home for access decisions

A broker decision is its ``access.read`` audit leaf. The decision table written beside each leaf goes; the view
``access_read_event`` spells the leaves out for reports. Before the table goes, every row is checked against its
leaf (same reader, customer, decision, fields and purpose): a row without a matching leaf stops the upgrade, since
it would mean the log and the table disagree, which someone must look at (``ombud audit verify``). Older leaves do
not carry the reader's team and region; those are kept from the rows in ``access_read_legacy``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AUDIT_DECISION = {"allowed": "allow", "masked": "partial", "denied": "deny"}

# The same view on both stores; only the JSON accessors differ (SQLite's json_extract, PostgreSQL's ->>).
_VIEW = """
CREATE VIEW access_read_event AS
SELECT e.idx AS audit_index,
       e.at AS at,
       e.actor_id AS employee,
       s.id AS employee_id,
       COALESCE({team}, l.team, s.team) AS team,
       COALESCE({region}, l.region, s.region) AS region,
       e.customer_id AS customer_id,
       COALESCE(e.subject_type, 'none') AS purpose_kind,
       CAST(e.subject_id AS {bigint}) AS purpose_id,
       {case_type} AS case_type,
       CASE e.decision WHEN 'allow' THEN 'allowed' WHEN 'partial' THEN 'masked' ELSE 'denied' END AS decision,
       {classes_allowed} AS classes_allowed,
       {classes_masked} AS classes_masked,
       e.fields AS fields,
       {policy_ids} AS policy_ids,
       {reason} AS reason
FROM audit_event e
LEFT JOIN staff_employee s ON e.actor_type = 'employee' AND s.external_id = e.actor_id
LEFT JOIN access_read_legacy l ON l.audit_index = e.idx
WHERE e.action = 'access.read'
"""
_KEYS = ("team", "region", "case_type", "classes_allowed", "classes_masked", "policy_ids", "reason")


def _view_sql(dialect: str) -> str:
    if dialect == "sqlite":
        parts = {k: f"json_extract(e.detail, '$.{k}')" for k in _KEYS}
        return _VIEW.format(bigint="INTEGER", **parts)
    parts = {k: f"(e.detail::jsonb ->> '{k}')" for k in _KEYS}
    return _VIEW.format(bigint="BIGINT", **parts)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)  # type: ignore[call-overload]


def _check_rows_against_leaves(bind: sa.Connection) -> None:
    """Every decision row must be derivable from its leaf; stop the upgrade (naming the rows) where one is not."""
    rows = bind.execute(sa.text(
        "SELECT d.id, d.customer_id, d.decision, d.fields, d.purpose_kind, d.purpose_id, s.external_id, "
        "e.idx, e.action, e.actor_id, e.customer_id, e.decision, e.fields, e.subject_type, e.subject_id "
        "FROM access_decision d "
        "LEFT JOIN staff_employee s ON s.id = d.employee_id "
        "LEFT JOIN audit_event e ON e.idx = d.audit_index"
    ))
    bad: list[int] = []
    for r in rows:
        purpose_kind = None if r[4] == "none" else r[4]
        purpose_id = None if r[5] is None else str(r[5])
        same = (
            r[7] is not None and r[8] == "access.read" and r[9] == r[6] and r[10] == r[1]
            and r[11] == _AUDIT_DECISION.get(r[2]) and _as_list(r[12]) == _as_list(r[3])
            and r[13] == purpose_kind and r[14] == purpose_id
        )
        if not same:
            bad.append(int(r[0]))
    if bad:
        shown = ", ".join(str(i) for i in bad[:20]) + (" ..." if len(bad) > 20 else "")
        raise RuntimeError(
            f"{len(bad)} access_decision row(s) do not match their audit leaf (ids {shown}); the log is the record, "
            "so this upgrade stops rather than drop them: run `ombud audit verify` and look at these rows"
        )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table('access_read_legacy',
    sa.Column('audit_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('audit_index', name=op.f('pk_access_read_legacy'))
    )
    _check_rows_against_leaves(bind)
    bind.execute(sa.text(
        "INSERT INTO access_read_legacy (audit_index, team, region) "
        "SELECT audit_index, team, region FROM access_decision WHERE audit_index IS NOT NULL"
    ))
    with op.batch_alter_table('access_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_access_decision_employee_id_at')
        batch_op.drop_index('ix_access_decision_customer_id_at')
    op.drop_table('access_decision')
    op.execute(_view_sql(bind.dialect.name))


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table('access_decision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('purpose_kind', sa.Enum('case', 'grant', 'break_glass', 'none', name='access_purpose_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('purpose_id', sa.BigInteger(), nullable=True),
    sa.Column('case_type', sa.String(length=24), nullable=True),
    sa.Column('decision', sa.Enum('allowed', 'masked', 'denied', name='access_decision_outcome', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('allowed_mask', sa.Integer(), nullable=False),
    sa.Column('masked_mask', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('policy_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_decision_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_decision'))
    )
    with op.batch_alter_table('access_decision', schema=None) as batch_op:
        batch_op.create_index('ix_access_decision_customer_id_at', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_access_decision_employee_id_at', ['employee_id', 'at'], unique=False)
    # Refill the table from the leaves (class bit i = i-th class in the order the broker knew them).
    order = ["identity_basic", "contact", "address", "payment", "government_id", "order_history", "login_device",
             "support_notes"]
    rows = bind.execute(sa.text(
        "SELECT audit_index, at, employee_id, team, region, customer_id, purpose_kind, purpose_id, case_type, "
        "decision, classes_allowed, classes_masked, fields, policy_ids, reason FROM access_read_event "
        "WHERE employee_id IS NOT NULL ORDER BY audit_index"
    )).all()
    table = sa.table(
        'access_decision', *(sa.column(n) for n in (
            'at', 'employee_id', 'team', 'region', 'customer_id', 'purpose_kind', 'purpose_id', 'case_type',
            'decision', 'allowed_mask', 'masked_mask', 'fields', 'policy_ids', 'reason', 'audit_index')))

    def mask(text: object) -> int:
        return sum(1 << order.index(c) for c in _as_list(text) if c in order)

    values = [{
        'at': r[1], 'employee_id': r[2], 'team': r[3] or '', 'region': r[4] or '', 'customer_id': r[5],
        'purpose_kind': r[6], 'purpose_id': r[7], 'case_type': r[8], 'decision': r[9],
        'allowed_mask': mask(r[10]), 'masked_mask': mask(r[11]), 'fields': json.dumps(_as_list(r[12])),
        'policy_ids': json.dumps(_as_list(r[13])), 'reason': None if r[14] is None else str(r[14])[:300],
        'audit_index': r[0],
    } for r in rows]
    op.execute('DROP VIEW access_read_event')
    if values:
        if bind.dialect.name == 'postgresql':
            bind.execute(sa.text(
                "INSERT INTO access_decision (at, employee_id, team, region, customer_id, purpose_kind, purpose_id, "
                "case_type, decision, allowed_mask, masked_mask, fields, policy_ids, reason, audit_index) VALUES "
                "(:at, :employee_id, :team, :region, :customer_id, :purpose_kind, :purpose_id, :case_type, :decision, "
                ":allowed_mask, :masked_mask, CAST(:fields AS jsonb), CAST(:policy_ids AS jsonb), :reason, "
                ":audit_index)"), values)
        else:
            op.bulk_insert(table, values)
    op.drop_table('access_read_legacy')
