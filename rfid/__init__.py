"""Tag logic: where each tagged item is and which way it went, decided from reads alone.

The modules here are pure: they take ``TagRead`` values (``drivers.tagread``) and a clock and
return decisions, with no I/O. ``shelf`` settles each item's shelf location with hysteresis and
reports what is missing, misplaced or unknown; ``gate`` decides a passage's direction from the
reads of a door's two antennas; ``sweeps`` counts full sweeps of the shelf locations for
inventory campaigns; ``capture`` is the recording format of live reads and ``replay`` runs the
gate engine over such a recording (``archroom replay-gate``); ``config`` holds the readers',
gates' and shelf engine's settings. ``service`` is what runs them in the daemon (readers, the
desk reader, live capture). See docs/rfid-tuning.md and docs/design.md §2.
"""
