"""Keeping the garbage collector out of the way of a long-running daemon.

What start-up builds (the shelf engine's tables for a million tags, caches, the application)
lives as long as the process. CPython's full collections walk every tracked object, and with a
million of them a collection pauses the event loop for tens of milliseconds at unpredictable
moments, which shows as tail latency of the API and of gate decisions. ``gc.freeze()`` moves the
objects alive now into a permanent generation that collections skip; what is allocated later
is collected as usual.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
