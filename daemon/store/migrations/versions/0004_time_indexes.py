"""indexes for time-window queries (EPCIS export): movements, gate passages, loans, tags

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:20:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movements_at_us'), ['at_us'], unique=False)
    with op.batch_alter_table('gate_passages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gate_passages_at_us'), ['at_us'], unique=False)
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_opened_us'), ['opened_us'], unique=False)
        batch_op.create_index(batch_op.f('ix_loans_returned_us'), ['returned_us'], unique=False)
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tags_bound_us'), ['bound_us'], unique=False)
        batch_op.create_index(batch_op.f('ix_tags_retired_us'), ['retired_us'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tags_retired_us'))
        batch_op.drop_index(batch_op.f('ix_tags_bound_us'))
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loans_returned_us'))
        batch_op.drop_index(batch_op.f('ix_loans_opened_us'))
    with op.batch_alter_table('gate_passages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gate_passages_at_us'))
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movements_at_us'))
