"""an index of places by room, for each room's item gauges on a shared database

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:30:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index('ix_locations_room', ['room'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index('ix_locations_room')
