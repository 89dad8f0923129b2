"""archroom: the controller daemon of an RFID smart archive room; this package is the process.

The process: ``cli`` (the ``archroom`` command), ``config`` (one TOML file, validated) and
``config_reference`` (docs/configuration.md from the models), ``runtime`` (the composition root),
``services`` (what the API and the CLI use of a running room), ``supervisor`` (named services
restarted with capped backoff), ``backoff``, ``clock``, ``heap``, ``sdnotify``, ``health``
(``/healthz``) and ``tokens`` (API tokens and roles).

Messaging: ``bus`` (typed events inside the process), ``events`` (the events the room
announces), ``outbox`` (events as rows first, in the transaction of their change), ``mqtt`` (the
outbox and retained state on the broker), ``spool`` (records kept on disk while the database is
down) and ``metrics`` (Prometheus).

The room's records: ``store`` (schema, migrations, transactions on SQLite or PostgreSQL),
``ledger`` (items, tags, locations, movements, loans, passages, alarms; state, audit entry and
outbox row in one transaction), ``audit`` (the hash chain), ``room`` (a room's records at
start-up and its gauges). And ``reconcile`` (reconciliation, campaigns, spot checks, retention,
EPCIS export) and ``demo`` (the whole room on simulators). The device services live beside
their pure cores (``rfid.service``, ``stacker.service``, ``sensors.service``) and are built
with one ``device_kit.DeviceKit`` (the ledger, locations, alarms, metrics, retained state and
health the runtime hands each of them); see docs/design.md §2.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("archroom")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
