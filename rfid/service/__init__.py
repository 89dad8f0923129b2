"""The RFID side of the running daemon: drivers in, pure engines in the middle, ledger out.

``readers`` starts each configured reader's driver and feeds its reads to the shelf and gate
engines (``rfid.shelf``, ``rfid.gate``), turning their decisions into ledger writes, alarms and
the door sounder; ``desk`` encodes and binds a new tag at the desk reader; ``cart`` checks out
or returns every tagged box the desk reader sees, one result per box; ``capture`` records a
reader's live reads for ``archroom replay-gate``. The decisions themselves live in the pure
modules of ``rfid``; these modules only move reads and records.
"""
