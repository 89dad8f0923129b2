"""The daemon's database: schema, migrations and transactions (SQLite or PostgreSQL)."""
