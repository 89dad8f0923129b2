"""The room's services on the ``store`` fixture: each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.services import Services
from daemon.store.db import Store
from tests.support.ledger import room_config, room_services
from tests.support.room import RACKS

GATE = """
[[readers]]
type = "llrp"
id = "door-1"
url = "tcp://127.0.0.1:9"
role = "gate"

[[gates]]
id = "door-1"
reader = "door-1"
inside_antenna = 1
outside_antenna = 2
"""
"""A door gate in the configuration (its reader never runs here): its location exists."""


@pytest.fixture
async def services(tmp_path: Path, db_url: str, store: Store) -> Services:
    return await room_services(room_config(tmp_path / "r1", db_url, RACKS + GATE), store)
