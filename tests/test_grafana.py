"""The Grafana dashboards and the alert rules are generated, current, and query only metrics the
daemon has; every dashboard query follows the room variable, and counts show no fractions."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics_core import Metric

from daemon.metrics import Metrics
from grafana.generate import DASHBOARDS, render
from grafana.rules import GROUPS

GRAFANA = Path(__file__).resolve().parents[1] / "grafana"
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def exported_names() -> set[str]:
    names: set[str] = set()
    metric: Metric
    for metric in Metrics().registry.collect():
        names.update(metric.name + suffix for suffix in SUFFIXES.get(metric.type, ("",)))
    return names


def load(name: str) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(
        (GRAFANA / "dashboards" / name).read_text(encoding="utf-8")
    )
    return dashboard


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expression) of every panel target."""
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def test_committed_files_are_what_the_generator_makes() -> None:
    for name, text in render().items():
        committed = (GRAFANA / name).read_text(encoding="utf-8")
        assert committed == text, f"run python -m grafana.generate ({name})"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_metric_a_dashboard_queries_exists_in_the_daemon(name: str) -> None:
    known = exported_names()
    dashboard = load(name)
    queried = {m for _, expr in queries(dashboard) for m in re.findall(r"archroom_[a-z_]+", expr)}
    queried |= {
        metric
        for variable in dashboard["templating"]["list"]
        for metric in re.findall(r"archroom_[a-z_]+", variable["query"]["query"])
    }
    assert queried, name
    assert sorted(queried - known) == []


def test_every_metric_an_alert_rule_queries_exists_in_the_daemon() -> None:
    known = exported_names()
    queried = {m for g in GROUPS for r in g.rules for m in re.findall(r"archroom_[a-z_]+", r.expr)}
    assert sorted(queried - known) == []


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_query_of_every_dashboard_follows_the_room_variable(name: str) -> None:
    dashboard = load(name)
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["room"]
    unfiltered = [title for title, expr in queries(dashboard) if '{room=~"$room"' not in expr]
    assert unfiltered == []


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_counts_from_increase_are_rounded_and_shown_without_decimals(name: str) -> None:
    for panel in load(name)["panels"]:
        for target in panel["targets"]:
            if "increase(" in target["expr"]:
                assert target["expr"].startswith("round("), panel["title"]
                assert panel["fieldConfig"]["defaults"]["decimals"] == 0, panel["title"]


def test_no_panel_uses_http_request_units() -> None:
    units = {
        p["fieldConfig"]["defaults"]["unit"] for name in DASHBOARDS for p in load(name)["panels"]
    }
    assert not {u for u in units if u in ("reqps", "rps", "reqpm")}


def test_climate_panels_draw_each_rooms_own_limits_and_summarise_the_series() -> None:
    panels = {p["title"]: p for p in load("climate.json")["panels"]}
    for title, limit in (
        ("Temperature", "archroom_climate_temperature_limit_celsius"),
        ("Relative humidity", "archroom_climate_humidity_limit_ratio"),
        ("Temperature swing over 24 h", "archroom_climate_temperature_limit_celsius"),
        ("Humidity swing over 24 h", "archroom_climate_humidity_limit_ratio"),
    ):
        panel = panels[title]
        assert any(limit in t["expr"] for t in panel["targets"]), title
        assert panel["options"]["legend"]["calcs"] == ["min", "max", "mean"], title
        assert panel["fieldConfig"]["overrides"], title  # limits drawn as dashed lines
        assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "off"
