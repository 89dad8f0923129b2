"""loan requests and their approvals, borrower kinds; disposal and transfer of items

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 04:30:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'loan_requests',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('room', sa.String(length=32), nullable=False),
        sa.Column('item_id', Id, nullable=False),
        sa.Column('borrower', sa.String(length=200), nullable=False),
        sa.Column('borrower_kind', sa.String(length=40), nullable=True),
        sa.Column('purpose', sa.Text(), nullable=False),
        sa.Column('due', sa.String(length=10), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('requested_us', sa.BigInteger(), nullable=False),
        sa.Column('requested_by', sa.String(length=100), nullable=False),
        sa.Column('decided_us', sa.BigInteger(), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=True),
        sa.Column('approval_no', sa.String(length=100), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('loan_id', sa.BigInteger(), nullable=True),
        sa.Column('retrieval', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_loan_requests_item_id_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_requests')),
    )
    with op.batch_alter_table('loan_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_requests_item_id_state'), ['item_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_requests_state_id'), ['state', 'id'], unique=False)
    op.create_table(
        'dispositions',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('room', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('receiver', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('proposed_us', sa.BigInteger(), nullable=False),
        sa.Column('proposed_by', sa.String(length=100), nullable=False),
        sa.Column('approver', sa.String(length=100), nullable=True),
        sa.Column('approver_us', sa.BigInteger(), nullable=True),
        sa.Column('approval_no', sa.String(length=100), nullable=True),
        sa.Column('admin', sa.String(length=100), nullable=True),
        sa.Column('admin_us', sa.BigInteger(), nullable=True),
        sa.Column('done_us', sa.BigInteger(), nullable=True),
        sa.Column('done_by', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispositions')),
    )
    op.create_table(
        'disposition_items',
        sa.Column('disposition_id', Id, nullable=False),
        sa.Column('item_id', Id, nullable=False),
        sa.Column('ref', sa.String(length=100), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('retention', sa.String(length=3), nullable=False),
        sa.Column('epc', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['disposition_id'], ['dispositions.id'], name=op.f('fk_disposition_items_disposition_id_dispositions')),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_disposition_items_item_id_items')),
        sa.PrimaryKeyConstraint('disposition_id', 'item_id', name=op.f('pk_disposition_items')),
    )
    with op.batch_alter_table('disposition_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposition_items_item_id'), ['item_id'], unique=False)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disposition', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('disposed_us', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('borrower_kind', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('request_id')
        batch_op.drop_column('borrower_kind')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('disposed_us')
        batch_op.drop_column('disposition')
    with op.batch_alter_table('disposition_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposition_items_item_id'))
    op.drop_table('disposition_items')
    op.drop_table('dispositions')
    with op.batch_alter_table('loan_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_requests_state_id'))
        batch_op.drop_index(batch_op.f('ix_loan_requests_item_id_state'))
    op.drop_table('loan_requests')
