"""evidence reads: the data class ``evidence`` is a class imported access events may name too

A victim's evidence files are opened through the access broker under the new data class ``evidence``; the class
list is one enum, so the check on ``insider_access_event.data_class`` (written by migration 0010 with the
classes of the time) takes the new class as well. Nothing else in the store changes: an opening is recorded as
an ``access.read`` audit leaf, which the ``access_read_event`` view already spells out.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_NAME = "ck_insider_access_event_insider_data_class"
_BEFORE = ("identity_basic", "contact", "address", "payment", "government_id", "order_history", "login_device",
           "support_notes", "video")
_AFTER = (*_BEFORE, "evidence")


def _replace_check(classes: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{c}'" for c in classes)
    with op.batch_alter_table("insider_access_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), f"data_class IN ({listed})")


def upgrade() -> None:
    _replace_check(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM insider_access_event WHERE data_class = 'evidence'")
    _replace_check(_BEFORE)
