"""stacker journal and climate minutes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:38:05.620479
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('climate_minutes',
    sa.Column('sensor', sa.String(length=64), nullable=False),
    sa.Column('minute_us', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('temp_min', sa.Float(), nullable=False),
    sa.Column('temp_avg', sa.Float(), nullable=False),
    sa.Column('temp_max', sa.Float(), nullable=False),
    sa.Column('rh_min', sa.Float(), nullable=False),
    sa.Column('rh_avg', sa.Float(), nullable=False),
    sa.Column('rh_max', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sensor', 'minute_us', name=op.f('pk_climate_minutes'))
    )
    with op.batch_alter_table('climate_minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_climate_minutes_room_minute_us'), ['room', 'minute_us'], unique=False)

    op.create_table('stacker_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('stacker', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('updated_us', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stacker_jobs_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stacker_jobs'))
    )
    with op.batch_alter_table('stacker_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stacker_jobs_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stacker_jobs_stacker_state'), ['stacker', 'state'], unique=False)
        batch_op.create_index('uq_stacker_jobs_job', ['stacker', 'job_id'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('stacker_jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_stacker_jobs_job')
        batch_op.drop_index(batch_op.f('ix_stacker_jobs_stacker_state'))
        batch_op.drop_index(batch_op.f('ix_stacker_jobs_item_id'))

    op.drop_table('stacker_jobs')
    with op.batch_alter_table('climate_minutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_climate_minutes_room_minute_us'))

    op.drop_table('climate_minutes')
