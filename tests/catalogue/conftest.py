"""A room whose catalogue pairs paper and electronic records (``[pairing]``), per database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daemon.tokens import Role
from tests.support.room import RACKS, Room, start_room

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
async def paired_room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    async for r in start_room(tmp_path, db_url, extra=RACKS + PAIRING):
        yield r


@pytest.fixture
async def desk(paired_room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with paired_room.client(Role.staff) as c:
        yield c


@pytest.fixture
async def catalogue_service(paired_room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with paired_room.client(Role.catalogue) as c:
        yield c


@pytest.fixture
async def approver(paired_room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with paired_room.client(Role.approver) as c:
        yield c
