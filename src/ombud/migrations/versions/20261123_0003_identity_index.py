"""identity index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "identity_index_run",
        sa.Column("id", _ID, nullable=False),
        sa.Column("started_at", ombud.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ombud.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("keys", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_index_run")),
    )
    op.create_table(
        "identity_model",
        sa.Column("id", _ID, nullable=False),
        sa.Column("created_at", ombud.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_pairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_model")),
    )
    op.create_table(
        "identity_term",
        sa.Column("table", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("table", "value", name=op.f("pk_identity_term")),
    )
    op.create_table(
        "identity_record",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("application_id", _ID, nullable=True),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("updated_at", ombud.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["retail_account.id"],
                                name=op.f("fk_identity_record_account_id_retail_account"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["application_id"], ["retail_credit_application.id"],
                                name=op.f("fk_identity_record_application_id_retail_credit_application"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_record")),
        sa.UniqueConstraint("account_id", name=op.f("uq_identity_record_account_id")),
        sa.UniqueConstraint("application_id", name=op.f("uq_identity_record_application_id")),
    )
    op.create_table(
        "identity_block_key",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["identity_record.id"],
                                name=op.f("fk_identity_block_key_record_id_identity_record"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "record_id", name=op.f("pk_identity_block_key")),
        # On SQLite the table is clustered on (key, record_id): a lookup reads one contiguous range.
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("identity_block_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_block_key_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_block_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_block_key_record_id"))
    op.drop_table("identity_block_key")
    op.drop_table("identity_record")
    op.drop_table("identity_term")
    op.drop_table("identity_model")
    op.drop_table("identity_index_run")
