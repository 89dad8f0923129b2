"""The climate simulator on a pty, shared with the sensor tests (tests/sensors/conftest.py)."""

from tests.sensors.conftest import climate_sim, serial_line

__all__ = ["climate_sim", "serial_line"]
