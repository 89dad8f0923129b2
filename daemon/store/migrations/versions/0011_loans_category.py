"""usage statistics without a catalogue join: a loan keeps its item's category and retention

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:30:00.000000

A statistical return counts loans by the category and retention class the item had when it
was lent (a later reclassification does not rewrite last year's return), so the loan row
carries them and a year of loans is grouped from the loans' covering index alone. Items held
per category and retention class are counted from a covering index of their own.
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USAGE = ['opened_us', 'category', 'retention', 'item_id', 'borrower', 'returned_us', 'due']


def upgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('retention', sa.String(length=3), server_default='', nullable=False))
        batch_op.drop_index('ix_loans_usage')
    op.execute(
        "UPDATE loans SET category = (SELECT items.category FROM items WHERE items.id = loans.item_id), "
        "retention = (SELECT items.retention FROM items WHERE items.id = loans.item_id)"
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index('ix_loans_usage', USAGE, unique=False)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(
            'ix_items_held', ['category', 'retention', 'created_us', 'disposed_us'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_held')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index('ix_loans_usage')
        batch_op.drop_column('retention')
        batch_op.drop_column('category')
        batch_op.create_index(
            'ix_loans_usage', ['opened_us', 'item_id', 'borrower', 'returned_us', 'due'], unique=False
        )
