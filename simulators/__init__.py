"""Devices that speak the real wire protocols, for tests, the demo and ``archroom simulate``.

``uhfreader18`` is a UHFReader18 / CF-RU5102 (or four-antenna UHFReader288) reader on a pty or
a TCP port; ``llrp_gate`` a two-antenna LLRP door reader whose tag traffic follows a script;
``stacker_plc`` a stacker PLC serving the register map of docs/stacker.md over Modbus TCP, with
motion times, exceptions and its record of executed jobs; ``climate`` temperature and humidity
sensors of the built-in profiles on a Modbus RTU line or Modbus TCP (``climate_room``: a room's
air and the relay module of its actuators); ``modbus`` is what the Modbus ones share (a device's
answer to a request, a listening server); ``gate_model`` and ``shelf_model`` are physical models
of a door gate's and a bay's reads on the radio of ``rf``. They import nothing of the
daemon, the API or the device services (an import-linter contract), so the daemon is tested
against devices, not against itself.
"""
