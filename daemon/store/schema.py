"""The tables of the room's records.

Times are integer microseconds since the epoch (``*_us``): identical on SQLite and PostgreSQL,
cheap to index, and exact inside the audit hash. Integer surrogate keys keep the indexes of a
million-item catalogue small; the archival reference code (``ref``) and EPC stay unique. The
current location of an item is derived from its movements and kept in ``item_locations`` by
the same transaction that appends the movement, so lookups never scan the history.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger autoincrement keys on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of only the rows that match ``where``, on PostgreSQL and SQLite alike."""
    return Index(
        name, *columns, unique=unique, postgresql_where=text(where), sqlite_where=text(where)
    )


tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("scope", String(10), nullable=False, server_default="room"),
    Column("secret_hash", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger),
    Column("revoked_us", BigInteger),
)

accounts = Table(
    "accounts",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("totp_secret", String(64)),
    Column("totp_last_step", BigInteger),
    Column("created_us", BigInteger, nullable=False),
    Column("password_changed_us", BigInteger, nullable=False),
    Column("disabled_us", BigInteger),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("locked_until_us", BigInteger),
)
"""People who sign in to the console (daemon/accounts); systems keep ``tokens``."""

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("account", Boolean, nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_id", String(32)),
    Column("csrf", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger),
    Index("ix_sessions_name", "name"),
)
"""Console sessions: ``id`` is the SHA-256 of the cookie's secret; ``account`` says whether
``name`` is an account or a token (a shared desk signed in with its token)."""

audit = Table(
    "audit",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_us", BigInteger, nullable=False),
    Column("room", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("outcome", String(20), nullable=False, server_default="ok"),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "subject"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("algorithm", String(10), nullable=False, server_default="sha256"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("room", String(32), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("retain", Boolean, nullable=False, server_default=text("false")),
    Column("payload", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("delivered_us", BigInteger),
    _partial_index("ix_outbox_pending", "room", "id", where="delivered_us IS NULL"),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(100), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("room", String(32)),
    Column("parent_id", ForeignKey("locations.id")),
    Column("name", String(200), nullable=False, server_default=""),
    Column("coords", Text, nullable=False, server_default="{}"),
    # a room's places (its item gauges count through it when rooms share the database)
    Index(None, "room"),
)

items = Table(
    "items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", String(100), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("category", String(100), nullable=False, server_default=""),
    Column("year", Integer),
    Column("retention", String(3), nullable=False),
    Column("kind", String(4), nullable=False),
    Column("parent_ref", String(100)),
    Column("record_id", String(200)),
    Column("resident_id", String(18)),
    Column("approval_no", String(100)),
    Column("social_security_no", String(100)),
    Column("home_location_id", ForeignKey("locations.id")),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("disposition", String(12)),
    Column("disposed_us", BigInteger),
    Index(None, "parent_ref"),
    Index(None, "record_id"),
    # items held per category and retention class (usage statistics), from the index alone
    Index("ix_items_held", "category", "retention", "created_us", "disposed_us"),
)

loan_requests = Table(
    "loan_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("borrower", String(200), nullable=False),
    Column("borrower_kind", String(40)),
    Column("purpose", Text, nullable=False),
    Column("due", String(10)),
    Column("state", String(10), nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("decided_us", BigInteger),
    Column("decided_by", String(100)),
    Column("approval_no", String(100)),
    Column("reason", Text),
    Column("loan_id", BigInteger),
    Column("retrieval", Text),
    Index(None, "item_id", "state"),
    Index(None, "state", "id"),
)

dispositions = Table(
    "dispositions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("action", String(10), nullable=False),
    Column("receiver", String(200)),
    Column("reason", Text, nullable=False),
    Column("state", String(12), nullable=False),
    Column("proposed_us", BigInteger, nullable=False),
    Column("proposed_by", String(100), nullable=False),
    Column("approver", String(100)),
    Column("approver_us", BigInteger),
    Column("approval_no", String(100)),
    Column("admin", String(100)),
    Column("admin_us", BigInteger),
    Column("done_us", BigInteger),
    Column("done_by", String(100)),
    Column("note", Text),
)

disposition_items = Table(
    "disposition_items",
    metadata,
    Column("disposition_id", ForeignKey("dispositions.id"), primary_key=True),
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("ref", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("year", Integer),
    Column("retention", String(3), nullable=False),
    Column("epc", String(64)),
    Index(None, "item_id"),
)

catalogue_records = Table(
    "catalogue_records",
    metadata,
    Column("record_id", String(200), primary_key=True),
    Column("ref", String(100)),
    Column("title", Text, nullable=False, server_default=""),
    Column("category", String(100), nullable=False, server_default=""),
    Column("updated_us", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=False),
    Index(None, "ref"),
    Index(None, "category"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("epc", String(64), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("bound_us", BigInteger, nullable=False),
    Column("bound_by", String(100), nullable=False),
    Column("retired_us", BigInteger),
    Column("retired_by", String(100)),
    _partial_index("uq_tags_active_epc", "epc", where="retired_us IS NULL", unique=True),
    _partial_index("uq_tags_active_item", "item_id", where="retired_us IS NULL", unique=True),
    Index(None, "item_id"),
    Index(None, "bound_us"),
    Index(None, "retired_us"),
)

movements = Table(
    "movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("from_location_id", ForeignKey("locations.id")),
    Column("to_location_id", ForeignKey("locations.id"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
    Column("room", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Index(None, "item_id", "id"),
    Index(None, "at_us"),
)

item_locations = Table(
    "item_locations",
    metadata,
    Column("item_id", ForeignKey("items.id"), primary_key=True, autoincrement=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("since_us", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
    Column("movement_id", BigInteger, nullable=False),
    Index(None, "location_id"),
)

loans = Table(
    "loans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("borrower", String(200), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("approval_no", String(100)),
    Column("due", String(10), nullable=False),
    Column("opened_us", BigInteger, nullable=False),
    Column("opened_by", String(100), nullable=False),
    Column("renewals", Integer, nullable=False, server_default="0"),
    Column("returned_us", BigInteger),
    Column("returned_by", String(100)),
    Column("overdue_alarm_us", BigInteger),
    Column("borrower_kind", String(40)),
    Column("request_id", BigInteger),
    # the item's category and retention class when it was lent: usage statistics group by them
    Column("category", String(100), nullable=False, server_default=""),
    Column("retention", String(3), nullable=False, server_default=""),
    _partial_index("uq_loans_open_item", "item_id", where="returned_us IS NULL", unique=True),
    Index(None, "item_id", "id"),
    Index(None, "opened_us"),
    Index(None, "returned_us"),
    # usage statistics read a year of loans from this index alone (no table lookups)
    Index(
        "ix_loans_usage",
        "opened_us",
        "category",
        "retention",
        "item_id",
        "borrower",
        "returned_us",
        "due",
    ),
)

gate_passages = Table(
    "gate_passages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("epc", String(64), nullable=False),
    Column("item_id", ForeignKey("items.id")),
    Column("gate", String(32), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("room", String(32), nullable=False),
    Column("loan_id", BigInteger),
    Column("authorized", Boolean, nullable=False),
    Index(None, "item_id", "id"),
    Index(None, "at_us"),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("source", String(100), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("room", String(32), nullable=False),
    Column("subject", String(200)),
    Column("raised_us", BigInteger, nullable=False),
    Column("cleared_us", BigInteger),
    Column("acked_us", BigInteger),
    Column("acked_by", String(100)),
    Column("words", Text),
    # the message as JSON {"key", "params"} (daemon/messages.py); NULL for English-only rows
    _partial_index("uq_alarms_active_key", "room", "key", where="cleared_us IS NULL", unique=True),
)

stacker_jobs = Table(
    "stacker_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("stacker", String(32), nullable=False),
    Column("job_id", BigInteger, nullable=False),
    Column("room", String(32), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ref", String(100)),
    Column("item_id", ForeignKey("items.id")),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("uq_stacker_jobs_job", "stacker", "job_id", unique=True),
    Index(None, "item_id"),
    Index(None, "stacker", "state"),
)

climate_minutes = Table(
    "climate_minutes",
    metadata,
    Column("sensor", String(64), primary_key=True),
    Column("minute_us", BigInteger, primary_key=True, autoincrement=False),
    Column("room", String(32), nullable=False),
    Column("samples", Integer, nullable=False),
    Column("temp_min", Float, nullable=False),
    Column("temp_avg", Float, nullable=False),
    Column("temp_max", Float, nullable=False),
    Column("rh_min", Float, nullable=False),
    Column("rh_avg", Float, nullable=False),
    Column("rh_max", Float, nullable=False),
    Index(None, "room", "minute_us"),
)

# -- reconciliation, inventory campaigns, spot checks (docs/design.md §5.6) --------------------

catalogue_copies = Table(
    "catalogue_copies",
    metadata,
    Column("ref", String(100), primary_key=True),
    Column("resident_id", String(18)),
    Column("approval_no", String(100)),
    Column("social_security_no", String(100)),
    Column("updated_us", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=False),
)

tag_sightings = Table(
    "tag_sightings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("epc", String(64), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
    Index("uq_tag_sightings_room_epc", "room", "epc", unique=True),
)

inventory_campaigns = Table(
    "inventory_campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("state", String(12), nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("started_by", String(100), nullable=False),
    Column("finished_us", BigInteger),
    Column("stacker", Boolean, nullable=False, server_default=text("false")),
    Column("sweeps", Integer, nullable=False),
    Column("locations_total", Integer, nullable=False),
    Column("locations_swept", Integer, nullable=False, server_default="0"),
    Column("run_id", BigInteger),
    Column("note", Text, nullable=False, server_default=""),
    _partial_index(
        "uq_inventory_campaigns_active_room",
        "room",
        where="state IN ('running', 'finishing')",
        unique=True,
    ),
    Index(None, "room", "id"),
)

campaign_locations = Table(
    "campaign_locations",
    metadata,
    Column("campaign_id", ForeignKey("inventory_campaigns.id"), primary_key=True),
    Column("location_id", ForeignKey("locations.id"), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("swept_us", BigInteger),
    Column("job_id", BigInteger),
    Column("result", String(24)),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("state", String(10), nullable=False),
    Column("campaign_id", ForeignKey("inventory_campaigns.id")),
    Column("requested_by", String(100), nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("started_us", BigInteger),
    Column("finished_us", BigInteger),
    Column("items_checked", BigInteger, nullable=False, server_default="0"),
    Column("tags_checked", BigInteger, nullable=False, server_default="0"),
    Column("counts", Text, nullable=False, server_default="{}"),
    Column("error", Text),
    Index(None, "room", "id"),
)

reconciliation_rows = Table(
    "reconciliation_rows",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("reconciliation_runs.id"), nullable=False),
    Column("discrepancy", String(24), nullable=False),
    Column("item_id", ForeignKey("items.id")),
    Column("ref", String(100)),
    Column("epc", String(64)),
    Column("expected", String(100)),
    Column("seen", String(100)),
    Column("seen_us", BigInteger),
    Column("detail", Text, nullable=False, server_default=""),
    Index(None, "run_id", "id"),
    Index(None, "run_id", "discrepancy", "id"),
)

spot_checks = Table(
    "spot_checks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("room", String(32), nullable=False),
    Column("run_id", ForeignKey("reconciliation_runs.id")),
    Column("seed", BigInteger, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Index(None, "run_id"),
)

spot_check_items = Table(
    "spot_check_items",
    metadata,
    Column("check_id", ForeignKey("spot_checks.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("ref", String(100), nullable=False),
    Column("category", String(100), nullable=False),
    Column("expected", String(100)),
    Column("outcome", String(20)),
    Column("found_at", String(100)),
    Column("note", Text),
    Column("recorded_us", BigInteger),
    Column("recorded_by", String(100)),
    Index("uq_spot_check_items_item", "check_id", "item_id", unique=True),
)

# The search indexes (migrations 0007 and 0015) live outside this metadata because neither
# kind can be declared in it: SQLite FTS5 virtual tables (and the shadow tables FTS5 keeps
# beside them) and PostgreSQL GIN indexes, with pg_trgm's operator class or over an expression
# (where reference words start). Schema comparisons leave them out.
SEARCH_INDEX_TABLES = ("items_fts", "tags_fts")
SEARCH_INDEX_NAMES = frozenset(
    {"ix_items_ref_trgm", "ix_items_title_trgm", "ix_tags_epc_trgm", "ix_items_ref_words"}
)


def is_declared_here(name: str | None, type_: str, _parent: object = None) -> bool:
    """Whether an object found in the database belongs to this metadata (for Alembic's
    ``include_name``): everything but the search index."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_INDEX_TABLES)
    if type_ == "index":
        return name not in SEARCH_INDEX_NAMES
    return True
