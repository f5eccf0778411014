"""identity: messy records and households

Messy exports land with per-field warnings instead of whole-row rejects: an account's name, an address's
parts and a credit application's applicant name and address may be empty.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NULLABLE = {
    "retail_account": (("name", 200),),
    "retail_address": (("line1", 200), ("city", 100), ("region", 50), ("postal_code", 20)),
    "retail_credit_application": (("applicant_name", 200), ("line1", 200), ("city", 100), ("region", 50),
                                  ("postal_code", 20)),
}


def _alter(nullable: bool) -> None:
    for table, columns in _NULLABLE.items():
        with op.batch_alter_table(table) as batch_op:
            for name, length in columns:
                batch_op.alter_column(name, existing_type=sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    _alter(True)


def downgrade() -> None:
    # Rows that landed without these values cannot go back under NOT NULL: give them an empty string.
    bind = op.get_bind()
    for table, columns in _NULLABLE.items():
        for name, _length in columns:
            bind.execute(sa.text(f"UPDATE {table} SET {name} = '' WHERE {name} IS NULL"))
    _alter(False)
