"""The stacker in the running daemon: the Modbus shell, its journal in the store, the API's jobs.

``controller`` is the asyncio shell that carries out the pure handshake's actions against the
PLC over Modbus TCP; ``journal_store`` is the job journal in the room's database, each state
committed with its consequence in the ledger before the registers that follow are written;
``room`` ties them to the rest of the room: alarms, metrics, health, MQTT and the jobs the API
submits. The decisions live in the pure modules of ``stacker``.
"""
