"""a scope for each API token: the daemon's own room or the whole bureau

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:00:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tokens issued before scopes existed become room-scope: from now on they see their own
    # room only; a catalogue service that asks across rooms needs a new bureau-scope token.
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('scope', sa.String(length=10), server_default='room', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('scope')
