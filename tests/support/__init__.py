"""What tests share, in one place (no test imports another folder's conftest).

- ``poll``: ``eventually``, the one way to wait for something a test is not told about.
- ``room``: ``RoomBuilder``, the one room rig (a daemon on one TOML file composed of device
  fragments over the real store, broker and simulators), ``Room``, and the rooms most tests
  use (``start_room``, ``reader_room``).
- ``mqtt``: a subscriber collecting what the room publishes, a reader of retained topics.
- ``catalogue``: valid item records and the API calls that create, tag and locate them.

Processes and services (the daemon in or out of this process, Mosquitto, PostgreSQL) are in
``tests.harness`` and ``tests.services``; the fixtures every test gets are in
``tests/conftest.py``.
"""
