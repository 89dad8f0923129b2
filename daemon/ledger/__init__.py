"""The room's records: catalogue, tags, locations, movements, loans, alarms, history.

Every change goes through ``Ledger.transaction``: the state change, its audit entry and its
outbox event commit together or not at all.
"""
