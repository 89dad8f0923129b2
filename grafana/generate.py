"""Generate the Grafana dashboards in ``grafana/dashboards/`` (``python -m grafana.generate``).

The dashboards are data, but writing five JSON files by hand invites drift between panels;
this module is their single source. A test regenerates them and fails if the committed JSON
differs, and checks every metric a panel queries exists in the daemon's registry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "archroom-prometheus"}
HERE = Path(__file__).parent


def _target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def timeseries(
    title: str,
    targets: list[tuple[str, str]],
    *,
    unit: str = "short",
    thresholds: Sequence[tuple[float | None, str]] | None = None,
    width: int = 12,
    description: str = "",
) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps},
                "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            _target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(targets)
        ],
    }


def stat(
    title: str,
    expr: str,
    *,
    legend: str = "",
    unit: str = "short",
    thresholds: Sequence[tuple[float | None, str]] | None = None,
    mappings: list[dict[str, Any]] | None = None,
    width: int = 6,
) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    return {
        "type": "stat",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 4, "w": width},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps},
                "mappings": mappings or [],
            },
            "overrides": [],
        },
        "options": {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background"},
        "targets": [_target(expr, legend)],
    }


def dashboard(
    uid: str, title: str, panels: list[dict[str, Any]], *, room_variable: bool = True
) -> dict[str, Any]:
    x = y = 0
    row_height = 0
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
        w, h = panel["gridPos"]["w"], panel["gridPos"]["h"]
        if x + w > 24:
            x, y = 0, y + row_height
            row_height = 0
        panel["gridPos"].update({"x": x, "y": y})
        x += w
        row_height = max(row_height, h)
    templating: list[dict[str, Any]] = []
    if room_variable:
        templating.append(
            {
                "name": "room",
                "label": "Room",
                "type": "query",
                "datasource": DATASOURCE,
                "query": {
                    "query": "label_values(archroom_climate_temperature_celsius, room)",
                    "refId": "rooms",
                },
                "refresh": 2,
                "includeAll": True,
                "multi": True,
                "current": {"text": "All", "value": "$__all"},
            }
        )
    return {
        "uid": uid,
        "title": title,
        "tags": ["archroom"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": templating},
        "panels": panels,
    }


UP_MAPPING = [
    {
        "type": "value",
        "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}},
    }
]
MODE_MAPPING = [
    {
        "type": "value",
        "options": {
            "0": {"text": "off", "color": "red"},
            "1": {"text": "manual", "color": "orange"},
            "2": {"text": "semi-auto", "color": "yellow"},
            "3": {"text": "auto", "color": "green"},
            "4": {"text": "maintenance", "color": "orange"},
        },
    }
]
PAPER_TEMP = [(None, "blue"), (14, "green"), (24, "red")]
PAPER_RH = [(None, "orange"), (45, "green"), (60, "red")]


def _quantile(q: float, histogram: str, window: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket[{window}])))"


def climate() -> dict[str, Any]:
    sel = '{room=~"$room"}'
    return dashboard(
        "archroom-climate",
        "archroom: climate",
        [
            timeseries(
                "Temperature",
                [(f"archroom_climate_temperature_celsius{sel}", "{{room}} {{sensor}}")],
                unit="celsius",
                thresholds=PAPER_TEMP,
                description=(
                    "Threshold lines: paper stacks 14-24 °C (JGJ 25-2010 §5.2);"
                    " other classes differ."
                ),
            ),
            timeseries(
                "Relative humidity",
                [(f"archroom_climate_humidity_ratio{sel} * 100", "{{room}} {{sensor}}")],
                unit="percent",
                thresholds=PAPER_RH,
                description="Threshold lines: paper stacks 45-60 % RH (JGJ 25-2010 §5.2).",
            ),
            timeseries(
                "Dew point",
                [(f"archroom_climate_dew_point_celsius{sel}", "{{room}} {{sensor}}")],
                unit="celsius",
            ),
            timeseries(
                "Preservation Index",
                [
                    (f"archroom_climate_preservation_index_years{sel}", "PI {{room}}"),
                    (f"archroom_climate_twpi_years{sel}", "TWPI {{window}} {{room}}"),
                ],
                unit="y",
                thresholds=[(None, "red"), (45, "yellow"), (75, "green")],
                description="Ratings: >= 75 good, 45-75 ok, < 45 risk.",
            ),
            timeseries(
                "Hours at mould risk",
                [(f"archroom_climate_mould_risk_seconds{sel} / 3600", "{{room}} {{window}}")],
                unit="h",
            ),
            stat(
                "Sensors down",
                "count(archroom_sensor_up == 0) or vector(0)",
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat(
                "Climate alarms",
                'sum(archroom_alarms_active{kind=~"climate.*|sensor.*"}) or vector(0)',
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat(
                "Rejected sensor values (1 h)",
                "sum(increase(archroom_sensor_rejected_values_total[1h])) or vector(0)",
                thresholds=[(None, "green"), (1, "orange")],
            ),
        ],
    )


def rfid() -> dict[str, Any]:
    return dashboard(
        "archroom-rfid",
        "archroom: RFID readers and gates",
        [
            timeseries(
                "Reads per second by reader",
                [("rate(archroom_rfid_reads_total[1m])", "{{reader}}")],
                unit="reqps",
            ),
            timeseries(
                "Malformed frames per minute",
                [("rate(archroom_rfid_frame_errors_total[5m]) * 60", "{{reader}}")],
                thresholds=[(None, "green"), (1, "orange")],
            ),
            stat(
                "Readers down",
                "count(archroom_rfid_reader_up == 0) or vector(0)",
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat("Readers up", "sum(archroom_rfid_reader_up)"),
            stat(
                "Unauthorized removals (24 h)",
                "sum(increase(archroom_gate_alarms_total[24h])) or vector(0)",
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat(
                "Passages (24 h)", "sum(increase(archroom_gate_passages_total[24h])) or vector(0)"
            ),
            timeseries(
                "Gate passages per hour",
                [
                    (
                        "sum by (gate, direction) (increase(archroom_gate_passages_total[1h]))",
                        "{{gate}} {{direction}}",
                    )
                ],
            ),
            timeseries(
                "Unauthorized-removal alarms per hour",
                [("sum by (gate) (increase(archroom_gate_alarms_total[1h]))", "{{gate}}")],
                thresholds=[(None, "green"), (1, "red")],
            ),
        ],
        room_variable=False,
    )


def stacker() -> dict[str, Any]:
    return dashboard(
        "archroom-stacker",
        "archroom: stacker",
        [
            stat("PLC link", "archroom_stacker_up", mappings=UP_MAPPING),
            stat("Mode", "archroom_stacker_mode", mappings=MODE_MAPPING),
            stat(
                "Stacker alarms",
                'sum(archroom_alarms_active{kind=~"stacker.*"}) or vector(0)',
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat("Jobs (24 h)", "sum(increase(archroom_stacker_jobs_total[24h])) or vector(0)"),
            timeseries(
                "Jobs per hour by kind and result",
                [
                    (
                        "sum by (kind, result) (increase(archroom_stacker_jobs_total[1h]))",
                        "{{kind}} {{result}}",
                    )
                ],
            ),
            timeseries(
                "Job duration (strobe to done)",
                [
                    (
                        _quantile(0.5, "archroom_stacker_job_duration_seconds", "1h"),
                        "p50",
                    ),
                    (
                        _quantile(0.95, "archroom_stacker_job_duration_seconds", "1h"),
                        "p95",
                    ),
                ],
                unit="s",
            ),
            timeseries(
                "Faults and exceptions per hour",
                [("sum by (code) (increase(archroom_stacker_faults_total[1h]))", "{{code}}")],
            ),
        ],
        room_variable=False,
    )


def ledger() -> dict[str, Any]:
    return dashboard(
        "archroom-items",
        "archroom: items, loans and inventory",
        [
            timeseries("Items by state", [("archroom_items", "{{state}}")]),
            timeseries(
                "Loans", [("archroom_loans_open", "open"), ("archroom_loans_overdue", "overdue")]
            ),
            stat("Open loans", "archroom_loans_open"),
            stat(
                "Overdue loans",
                "archroom_loans_overdue",
                thresholds=[(None, "green"), (1, "orange")],
            ),
            stat(
                "Missing items",
                'archroom_items{state="missing"}',
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat(
                "Days since the last full inventory",
                "(time() - max(archroom_inventory_last_timestamp_seconds)) / 86400",
                thresholds=[(None, "green"), (150, "orange"), (183, "red")],
                unit="d",
            ),
            timeseries(
                "Inventory campaign coverage",
                [("archroom_inventory_coverage_ratio * 100", "{{room}}")],
                unit="percent",
            ),
            timeseries(
                "Discrepancies in the last reconciliation",
                [("archroom_reconciliation_discrepancies", "{{discrepancy}}")],
            ),
        ],
        room_variable=False,
    )


def operations() -> dict[str, Any]:
    return dashboard(
        "archroom-operations",
        "archroom: alarms and operations",
        [
            stat(
                "Active alarms",
                "sum(archroom_alarms_active) or vector(0)",
                thresholds=[(None, "green"), (1, "red")],
            ),
            stat("MQTT broker", "archroom_mqtt_connected", mappings=UP_MAPPING),
            stat(
                "Events waiting for MQTT",
                "archroom_outbox_pending",
                thresholds=[(None, "green"), (100, "orange")],
            ),
            stat("Version", "archroom_build_info", legend="{{version}}"),
            timeseries("Active alarms by kind", [("archroom_alarms_active", "{{kind}}")]),
            timeseries(
                "Outbox: events not yet delivered", [("archroom_outbox_pending", "pending")]
            ),
            timeseries(
                "Event loop lag (p99 over 5 min)",
                [
                    (
                        _quantile(0.99, "archroom_event_loop_lag_seconds", "5m"),
                        "p99",
                    )
                ],
                unit="s",
                thresholds=[(None, "green"), (0.05, "orange"), (0.25, "red")],
            ),
            timeseries(
                "Service restarts per hour",
                [
                    (
                        "sum by (service) (increase(archroom_service_restarts_total[1h]))",
                        "{{service}}",
                    )
                ],
            ),
        ],
        room_variable=False,
    )


DASHBOARDS = {
    "climate.json": climate,
    "rfid.json": rfid,
    "stacker.json": stacker,
    "items.json": ledger,
    "operations.json": operations,
}


def render() -> dict[str, str]:
    return {
        name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main() -> None:
    for name, text in render().items():
        (HERE / "dashboards" / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
