"""initial schema: tokens, audit, outbox, catalogue, ledger, alarms

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 02:04:24.241104
"""

# ruff: noqa
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alarms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('raised_us', sa.BigInteger(), nullable=False),
    sa.Column('cleared_us', sa.BigInteger(), nullable=True),
    sa.Column('acked_us', sa.BigInteger(), nullable=True),
    sa.Column('acked_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('uq_alarms_active_key', ['room', 'key'], unique=True, postgresql_where=sa.text('cleared_us IS NULL'), sqlite_where=sa.text('cleared_us IS NULL'))

    op.create_table('audit',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), server_default='ok', nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit'))
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_subject'), ['subject'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('locations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=True),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('coords', sa.Text(), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['locations.id'], name=op.f('fk_locations_parent_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_locations_code'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('retain', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('delivered_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['room', 'id'], unique=False, postgresql_where=sa.text('delivered_us IS NULL'), sqlite_where=sa.text('delivered_us IS NULL'))

    op.create_table('tokens',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('expires_us', sa.BigInteger(), nullable=True),
    sa.Column('revoked_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_tokens_name'))
    )
    op.create_table('items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), server_default='', nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('retention', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('parent_ref', sa.String(length=100), nullable=True),
    sa.Column('record_id', sa.String(length=200), nullable=True),
    sa.Column('resident_id', sa.String(length=18), nullable=True),
    sa.Column('approval_no', sa.String(length=100), nullable=True),
    sa.Column('social_security_no', sa.String(length=100), nullable=True),
    sa.Column('home_location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('updated_us', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['home_location_id'], ['locations.id'], name=op.f('fk_items_home_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('ref', name=op.f('uq_items_ref'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_parent_ref'), ['parent_ref'], unique=False)

    op.create_table('gate_passages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('epc', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('gate', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('loan_id', sa.BigInteger(), nullable=True),
    sa.Column('authorized', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_gate_passages_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_passages'))
    )
    with op.batch_alter_table('gate_passages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gate_passages_item_id_id'), ['item_id', 'id'], unique=False)

    op.create_table('item_locations',
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('since_us', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('movement_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_locations_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_item_locations_location_id_locations')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_item_locations'))
    )
    with op.batch_alter_table('item_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_locations_location_id'), ['location_id'], unique=False)

    op.create_table('loans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('approval_no', sa.String(length=100), nullable=True),
    sa.Column('due', sa.String(length=10), nullable=False),
    sa.Column('opened_us', sa.BigInteger(), nullable=False),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.Column('renewals', sa.Integer(), server_default='0', nullable=False),
    sa.Column('returned_us', sa.BigInteger(), nullable=True),
    sa.Column('returned_by', sa.String(length=100), nullable=True),
    sa.Column('overdue_alarm_us', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_loans_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_item_id_id'), ['item_id', 'id'], unique=False)
        batch_op.create_index('uq_loans_open_item', ['item_id'], unique=True, postgresql_where=sa.text('returned_us IS NULL'), sqlite_where=sa.text('returned_us IS NULL'))

    op.create_table('movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_movements_from_location_id_locations')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_movements_item_id_items')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_movements_to_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_movements'))
    )
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movements_item_id_id'), ['item_id', 'id'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('epc', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scheme', sa.String(length=20), nullable=False),
    sa.Column('bound_us', sa.BigInteger(), nullable=False),
    sa.Column('bound_by', sa.String(length=100), nullable=False),
    sa.Column('retired_us', sa.BigInteger(), nullable=True),
    sa.Column('retired_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_tags_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags'))
    )
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tags_item_id'), ['item_id'], unique=False)
        batch_op.create_index('uq_tags_active_epc', ['epc'], unique=True, postgresql_where=sa.text('retired_us IS NULL'), sqlite_where=sa.text('retired_us IS NULL'))
        batch_op.create_index('uq_tags_active_item', ['item_id'], unique=True, postgresql_where=sa.text('retired_us IS NULL'), sqlite_where=sa.text('retired_us IS NULL'))

    # ### end Alembic commands ###
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    protect_audit()


def protect_audit() -> None:
    """Audit rows are append-only (GB/T 22239 §8.1.4.3): the database refuses to change them."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit "
                "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.drop_index('uq_tags_active_item', postgresql_where=sa.text('retired_us IS NULL'), sqlite_where=sa.text('retired_us IS NULL'))
        batch_op.drop_index('uq_tags_active_epc', postgresql_where=sa.text('retired_us IS NULL'), sqlite_where=sa.text('retired_us IS NULL'))
        batch_op.drop_index(batch_op.f('ix_tags_item_id'))

    op.drop_table('tags')
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movements_item_id_id'))

    op.drop_table('movements')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index('uq_loans_open_item', postgresql_where=sa.text('returned_us IS NULL'), sqlite_where=sa.text('returned_us IS NULL'))
        batch_op.drop_index(batch_op.f('ix_loans_item_id_id'))

    op.drop_table('loans')
    with op.batch_alter_table('item_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_locations_location_id'))

    op.drop_table('item_locations')
    with op.batch_alter_table('gate_passages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gate_passages_item_id_id'))

    op.drop_table('gate_passages')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_parent_ref'))

    op.drop_table('items')
    op.drop_table('tokens')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending', postgresql_where=sa.text('delivered_us IS NULL'), sqlite_where=sa.text('delivered_us IS NULL'))

    op.drop_table('outbox')
    op.drop_table('locations')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_subject'))

    op.drop_table('audit')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('uq_alarms_active_key', postgresql_where=sa.text('cleared_us IS NULL'), sqlite_where=sa.text('cleared_us IS NULL'))

    op.drop_table('alarms')
    # ### end Alembic commands ###
