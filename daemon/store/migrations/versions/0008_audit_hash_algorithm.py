"""the audit chain records which hash function links it (SHA-256 or SM3)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:00:00.000000
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('algorithm', sa.String(length=10), nullable=False, server_default='sha256')
        )


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('algorithm')
