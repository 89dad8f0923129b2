"""personal accounts and console sessions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:10:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'accounts',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('totp_secret', sa.String(length=64), nullable=True),
        sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_us', sa.BigInteger(), nullable=False),
        sa.Column('password_changed_us', sa.BigInteger(), nullable=False),
        sa.Column('disabled_us', sa.BigInteger(), nullable=True),
        sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until_us', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_accounts')),
    )
    op.create_table(
        'sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('account', sa.Boolean(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('token_id', sa.String(length=32), nullable=True),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_us', sa.BigInteger(), nullable=False),
        sa.Column('last_seen_us', sa.BigInteger(), nullable=False),
        sa.Column('ended_us', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    )
    op.create_index('ix_sessions_name', 'sessions', ['name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sessions_name', table_name='sessions')
    op.drop_table('sessions')
    op.drop_table('accounts')
