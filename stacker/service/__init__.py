"""The stacker in the running daemon: the Modbus shell, its journal in the store, the API's jobs.

- ``controller``: the asyncio shell that carries out the pure handshake's actions against the
  PLC, in order (journal, registers, events); its queue dispatch, shuffles and restart recovery.
- ``plc_link``: the Modbus TCP session (one input read, single-shot writes, ``retries=0``).
- ``job_queue``: the queue in sending order and the record of recent jobs.
- ``planning``: a request turned into a job (source, destination, refusals in words).
- ``occupancy``: the host's belief of the rack kept in step with job results.
- ``held_journal``: journal records held in memory, in order, while the database is away.
- ``status``: what the stacker shows (status snapshot, Prometheus counters); ``errors``: the
  refusals the API maps to 404/409/422.
- ``journal_store``: the job journal in the room's database, each state committed with its
  consequence in the ledger before the registers that follow are written.
- ``room``: the stacker tied to the rest of the room: alarms, metrics, health, MQTT and the
  jobs the API submits.

The decisions live in the pure modules of ``stacker``.
"""
