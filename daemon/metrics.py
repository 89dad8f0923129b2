"""The daemon's Prometheus metrics (docs/design.md §6.4): one registry per daemon, base units.

Labels stay bounded: reader, gate, sensor, room and kind names come from the configuration;
EPCs, references and user names never become labels.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from daemon import __version__

ITEM_STATES = ("on_shelf", "on_loan", "in_stacker", "missing", "unknown")


class Metrics:
    """Every metric of one daemon. ``room`` is the room the daemon owns (``ArchroomConfig.room``):
    ``archroom_build_info`` carries it, so dashboards and alert rules can place series that
    have no ``room`` label of their own (readers, the stacker, the outbox) by joining on the
    scrape target: ``... * on (instance, job) group_left (room) archroom_build_info``."""

    def __init__(self, room: str = "room-1") -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.room = room
        self.build_info = Gauge(
            "archroom_build_info",
            "Build of the running daemon, and the room it owns",
            ["version", "room"],
            registry=r,
        )
        self.build_info.labels(version=__version__, room=room).set(1)
        self.database_replica_lag = Gauge(
            "archroom_database_replica_lag_seconds",
            "How far the read replica is behind the primary (NaN: it does not answer)",
            registry=r,
        )
        self.rfid_reads = Counter(
            "archroom_rfid_reads", "Tag reads received", ["reader"], registry=r
        )
        self.rfid_reader_up = Gauge(
            "archroom_rfid_reader_up", "Reader link is up", ["reader"], registry=r
        )
        self.rfid_frame_errors = Counter(
            "archroom_rfid_frame_errors", "Malformed reader frames dropped", ["reader"], registry=r
        )
        self.gate_passages = Counter(
            "archroom_gate_passages", "Gate passages decided", ["gate", "direction"], registry=r
        )
        self.gate_alarms = Counter(
            "archroom_gate_alarms", "Unauthorized removals detected", ["gate"], registry=r
        )
        self.items = Gauge("archroom_items", "Catalogued items by state", ["state"], registry=r)
        self.loans_open = Gauge("archroom_loans_open", "Open loans", registry=r)
        self.loans_overdue = Gauge(
            "archroom_loans_overdue", "Open loans past their due date", registry=r
        )
        self.stacker_up = Gauge(
            "archroom_stacker_up", "Stacker PLC reachable and alive", registry=r
        )
        self.stacker_mode = Gauge("archroom_stacker_mode", "Stacker MODE register", registry=r)
        self.stacker_jobs = Counter(
            "archroom_stacker_jobs", "Stacker jobs finished", ["kind", "result"], registry=r
        )
        self.stacker_job_duration = Histogram(
            "archroom_stacker_job_duration_seconds",
            "Stacker job duration from strobe to done",
            buckets=(5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600),
            registry=r,
        )
        self.stacker_faults = Counter(
            "archroom_stacker_faults", "Stacker faults and exceptions by code", ["code"], registry=r
        )
        self.climate_temperature = Gauge(
            "archroom_climate_temperature_celsius", "Temperature", ["room", "sensor"], registry=r
        )
        self.climate_humidity = Gauge(
            "archroom_climate_humidity_ratio",
            "Relative humidity (0-1)",
            ["room", "sensor"],
            registry=r,
        )
        self.climate_dew_point = Gauge(
            "archroom_climate_dew_point_celsius", "Dew point", ["room", "sensor"], registry=r
        )
        self.climate_pi = Gauge(
            "archroom_climate_preservation_index_years", "Preservation Index", ["room"], registry=r
        )
        self.sensor_up = Gauge(
            "archroom_sensor_up", "Sensor answers", ["room", "sensor"], registry=r
        )
        self.sensor_rejected = Counter(
            "archroom_sensor_rejected_values",
            "Out-of-range sensor values rejected",
            ["sensor"],
            registry=r,
        )
        self.climate_twpi = Gauge(
            "archroom_climate_twpi_years",
            "Time-weighted Preservation Index over a window (24h, 30d)",
            ["room", "window"],
            registry=r,
        )
        self.climate_mould_risk = Gauge(
            "archroom_climate_mould_risk_seconds",
            "Time at mould risk over a window (24h, 30d)",
            ["room", "window"],
            registry=r,
        )
        self.climate_temperature_limit = Gauge(
            "archroom_climate_temperature_limit_celsius",
            "The room's temperature limits: bound min, max, and swing (largest 24 h max-min)",
            ["room", "bound"],
            registry=r,
        )
        self.climate_humidity_limit = Gauge(
            "archroom_climate_humidity_limit_ratio",
            "The room's relative humidity limits (0-1): bound min, max, and swing",
            ["room", "bound"],
            registry=r,
        )
        self.climate_temperature_swing = Gauge(
            "archroom_climate_temperature_swing_celsius",
            "Highest minus lowest room temperature over the last 24 h",
            ["room"],
            registry=r,
        )
        self.climate_humidity_swing = Gauge(
            "archroom_climate_humidity_swing_ratio",
            "Highest minus lowest room relative humidity over the last 24 h (0-1)",
            ["room"],
            registry=r,
        )
        self.climate_bus_up = Gauge(
            "archroom_climate_bus_up", "Climate sensor bus link is up", ["bus"], registry=r
        )
        self.climate_actuator_on = Gauge(
            "archroom_climate_actuator_on",
            "Climate actuator switched on (1) or off (0), as read back from its output",
            ["room", "actuator"],
            registry=r,
        )
        self.climate_actuator_runtime = Counter(
            "archroom_climate_actuator_runtime_seconds",
            "Time the climate actuator has run",
            ["room", "actuator"],
            registry=r,
        )
        self.climate_actuator_write_failures = Counter(
            "archroom_climate_actuator_write_failures",
            "Switches of a climate actuator that failed (no answer, refused, wrong read-back)",
            ["room", "actuator"],
            registry=r,
        )
        self.sensor_readings = Counter(
            "archroom_sensor_readings", "Sensor readings accepted", ["sensor"], registry=r
        )
        self.sensor_errors = Counter(
            "archroom_sensor_errors",
            "Sensor polls that failed (timeout, error-answer)",
            ["sensor", "error"],
            registry=r,
        )
        self.alarms_active = Gauge("archroom_alarms_active", "Active alarms", ["kind"], registry=r)
        self.outbox_pending = Gauge(
            "archroom_outbox_pending", "Events not yet delivered to MQTT", registry=r
        )
        self.mqtt_connected = Gauge(
            "archroom_mqtt_connected", "MQTT broker connection is up", registry=r
        )
        self.inventory_last = Gauge(
            "archroom_inventory_last_timestamp_seconds",
            "End of the last full inventory",
            ["room"],
            registry=r,
        )
        self.inventory_coverage = Gauge(
            "archroom_inventory_coverage_ratio",
            "Locations swept / locations to sweep in the current (or last) inventory campaign",
            ["room"],
            registry=r,
        )
        self.reconciliation_discrepancies = Gauge(
            "archroom_reconciliation_discrepancies",
            "Discrepancies found by the last reconciliation run, by class",
            ["discrepancy"],
            registry=r,
        )
        self.reconciliation_last = Gauge(
            "archroom_reconciliation_last_timestamp_seconds",
            "End of the last reconciliation run",
            ["room"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "archroom_event_loop_lag_seconds",
            "Delay of the event loop in waking a timer",
            buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5),
            registry=r,
        )
        self.bus_dropped = Gauge(
            "archroom_bus_dropped_events",
            "Events dropped by in-process subscribers that fell behind (should stay 0)",
            registry=r,
        )
        self.service_restarts = Counter(
            "archroom_service_restarts",
            "Supervised services restarted after a crash",
            ["service"],
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def names(self) -> set[str]:
        """Every sample name this registry can emit (for checking dashboards against it)."""
        return {s.name for m in self.registry.collect() for s in m.samples} | {
            m.name for m in self.registry.collect()
        }
