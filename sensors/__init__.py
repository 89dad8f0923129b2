"""Climate of the archive rooms: sensor polling, archival limits and alarms, preservation metrics.

``profiles`` says how to read a sensor, ``bus`` polls the sensors of one Modbus bus,
``schedule`` decides who is polled next and who is down, ``limits`` holds the JGJ 25-2010
storage classes, ``alarms`` and ``fluctuation`` decide when an alarm is raised or cleared,
``derived`` computes dew point, Preservation Index and mould risk, ``history`` folds readings
into per-minute aggregates, ``monitor`` ties the pure parts together for the daemon, and
``control`` decides which of a room's actuators (dehumidifier, humidifier, cooling, heating) to
switch.
"""
