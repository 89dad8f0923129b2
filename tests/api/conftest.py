"""A running room without devices on each kind of database, and a client per role, over real
HTTP (``tests.support.fixtures``)."""

from tests.support.fixtures import catalogue, room, room_admin, staff

__all__ = ["catalogue", "room", "room_admin", "staff"]
