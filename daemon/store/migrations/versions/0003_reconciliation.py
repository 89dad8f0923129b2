"""reconciliation runs, inventory campaigns, spot checks, catalogue copies, tag sightings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:48:04.255266
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalogue_copies',
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('resident_id', sa.String(length=18), nullable=True),
    sa.Column('approval_no', sa.String(length=100), nullable=True),
    sa.Column('social_security_no', sa.String(length=100), nullable=True),
    sa.Column('updated_us', sa.BigInteger(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_catalogue_copies'))
    )
    op.create_table('inventory_campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('started_us', sa.BigInteger(), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('finished_us', sa.BigInteger(), nullable=True),
    sa.Column('stacker', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('sweeps', sa.Integer(), nullable=False),
    sa.Column('locations_total', sa.Integer(), nullable=False),
    sa.Column('locations_swept', sa.Integer(), server_default='0', nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_campaigns'))
    )
    with op.batch_alter_table('inventory_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_campaigns_room_id'), ['room', 'id'], unique=False)
        batch_op.create_index('uq_inventory_campaigns_active_room', ['room'], unique=True, postgresql_where=sa.text("state IN ('running', 'finishing')"), sqlite_where=sa.text("state IN ('running', 'finishing')"))

    op.create_table('campaign_locations',
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('swept_us', sa.BigInteger(), nullable=True),
    sa.Column('job_id', sa.BigInteger(), nullable=True),
    sa.Column('result', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['inventory_campaigns.id'], name=op.f('fk_campaign_locations_campaign_id_inventory_campaigns')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_campaign_locations_location_id_locations')),
    sa.PrimaryKeyConstraint('campaign_id', 'location_id', name=op.f('pk_campaign_locations'))
    )
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_us', sa.BigInteger(), nullable=False),
    sa.Column('started_us', sa.BigInteger(), nullable=True),
    sa.Column('finished_us', sa.BigInteger(), nullable=True),
    sa.Column('items_checked', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tags_checked', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('counts', sa.Text(), server_default='{}', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['inventory_campaigns.id'], name=op.f('fk_reconciliation_runs_campaign_id_inventory_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs'))
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_runs_room_id'), ['room', 'id'], unique=False)

    op.create_table('tag_sightings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('epc', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_us', sa.BigInteger(), nullable=False),
    sa.Column('last_us', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_tag_sightings_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_sightings'))
    )
    with op.batch_alter_table('tag_sightings', schema=None) as batch_op:
        batch_op.create_index('uq_tag_sightings_room_epc', ['room', 'epc'], unique=True)

    op.create_table('reconciliation_rows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('discrepancy', sa.String(length=24), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('epc', sa.String(length=64), nullable=True),
    sa.Column('expected', sa.String(length=100), nullable=True),
    sa.Column('seen', sa.String(length=100), nullable=True),
    sa.Column('seen_us', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_reconciliation_rows_item_id_items')),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'], name=op.f('fk_reconciliation_rows_run_id_reconciliation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_rows'))
    )
    with op.batch_alter_table('reconciliation_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_rows_run_id_discrepancy_id'), ['run_id', 'discrepancy', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_rows_run_id_id'), ['run_id', 'id'], unique=False)

    op.create_table('spot_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'], name=op.f('fk_spot_checks_run_id_reconciliation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_checks'))
    )
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_checks_run_id'), ['run_id'], unique=False)

    op.create_table('spot_check_items',
    sa.Column('check_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('expected', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('found_at', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_us', sa.BigInteger(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['check_id'], ['spot_checks.id'], name=op.f('fk_spot_check_items_check_id_spot_checks')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_spot_check_items_item_id_items')),
    sa.PrimaryKeyConstraint('check_id', 'position', name=op.f('pk_spot_check_items'))
    )
    with op.batch_alter_table('spot_check_items', schema=None) as batch_op:
        batch_op.create_index('uq_spot_check_items_item', ['check_id', 'item_id'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('spot_check_items', schema=None) as batch_op:
        batch_op.drop_index('uq_spot_check_items_item')

    op.drop_table('spot_check_items')
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_checks_run_id'))

    op.drop_table('spot_checks')
    with op.batch_alter_table('reconciliation_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_rows_run_id_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_rows_run_id_discrepancy_id'))

    op.drop_table('reconciliation_rows')
    with op.batch_alter_table('tag_sightings', schema=None) as batch_op:
        batch_op.drop_index('uq_tag_sightings_room_epc')

    op.drop_table('tag_sightings')
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_runs_room_id'))

    op.drop_table('reconciliation_runs')
    op.drop_table('campaign_locations')
    with op.batch_alter_table('inventory_campaigns', schema=None) as batch_op:
        batch_op.drop_index('uq_inventory_campaigns_active_room', postgresql_where=sa.text("state IN ('running', 'finishing')"), sqlite_where=sa.text("state IN ('running', 'finishing')"))
        batch_op.drop_index(batch_op.f('ix_inventory_campaigns_room_id'))

    op.drop_table('inventory_campaigns')
    op.drop_table('catalogue_copies')
