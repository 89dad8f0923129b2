"""The automated stacker (AS/RS crane) over Modbus TCP.

``registers`` is the PLC register map (docs/design.md §4.3), ``handshake`` the host's pure state
machine, ``journal`` the job records written before anything reaches the PLC, ``cells`` the
rack's occupancy, ``stations`` what stands at the pick/drop stations (and whether a retrieval
may go there now), ``recovery`` what a restarted host does with unfinished jobs; these are
pure. ``service`` holds the asyncio shell the daemon runs (controller, journal in the store,
the stacker in the room). See docs/stacker.md.
"""
