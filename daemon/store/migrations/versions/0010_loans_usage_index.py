"""a covering index for usage statistics over a period of loans

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:30:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(
            'ix_loans_usage', ['opened_us', 'item_id', 'borrower', 'returned_us', 'due'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index('ix_loans_usage')
