"""The Grafana dashboards are generated, current, and query only metrics the daemon has."""

import json
import re
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric

from daemon.metrics import Metrics
from grafana.generate import render

DASHBOARDS = Path(__file__).resolve().parents[1] / "grafana" / "dashboards"
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


def test_committed_dashboards_are_what_the_generator_makes() -> None:
    for name, text in render().items():
        committed = (DASHBOARDS / name).read_text(encoding="utf-8")
        assert committed == text, f"run python -m grafana.generate ({name})"


@pytest.mark.parametrize("name", sorted(render()))
def test_every_metric_a_dashboard_queries_exists_in_the_daemon(name: str) -> None:
    known = exported_names()
    dashboard = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
    queried = {
        metric
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for metric in re.findall(r"archroom_[a-z_]+", target["expr"])
    }
    queried |= {
        metric
        for variable in dashboard["templating"]["list"]
        for metric in re.findall(r"archroom_[a-z_]+", variable["query"]["query"])
    }
    assert queried, name
    assert sorted(queried - known) == []
