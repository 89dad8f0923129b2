"""A room whose catalogue pairs paper and electronic records (``[pairing]``), per database:
the ``room`` of these tests, which the ``staff`` and ``catalogue`` clients of
``tests.support.fixtures`` use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daemon.tokens import Role
from tests.support.fixtures import catalogue, staff
from tests.support.room import RACKS, Room, start_room

__all__ = ["approver", "catalogue", "room", "staff"]

PAIRING = """
[[pairing.categories]]
category = "personnel"
electronic_record = "require"
paper_original = true

[[pairing.categories]]
category = "arbitration"
electronic_record = "warn"

[[loan_rules]]
category = "personnel"
approval = true
max_days = 14
max_renewals = 0
borrower_kinds = ["internal"]
"""


@pytest.fixture
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    async for r in start_room(tmp_path, db_url, extra=RACKS + PAIRING):
        yield r


@pytest.fixture
async def approver(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.approver) as c:
        yield c
