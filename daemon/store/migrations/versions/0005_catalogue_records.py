"""electronic records pushed by the catalogue service; items found by their record id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:40:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'catalogue_records',
        sa.Column('record_id', sa.String(length=200), nullable=False),
        sa.Column('ref', sa.String(length=100), nullable=True),
        sa.Column('title', sa.Text(), server_default='', nullable=False),
        sa.Column('category', sa.String(length=100), server_default='', nullable=False),
        sa.Column('updated_us', sa.BigInteger(), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('record_id', name=op.f('pk_catalogue_records')),
    )
    with op.batch_alter_table('catalogue_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_records_ref'), ['ref'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_catalogue_records_category'), ['category'], unique=False
        )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_record_id'))
    with op.batch_alter_table('catalogue_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_records_category'))
        batch_op.drop_index(batch_op.f('ix_catalogue_records_ref'))
    op.drop_table('catalogue_records')
