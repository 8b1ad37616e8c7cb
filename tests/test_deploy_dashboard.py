"""deploy/grafana/socialid.json asks only for metrics the service exports, and shows
every one it exports: read from /metrics of an app started in-process."""

from __future__ import annotations

import json
import re
from typing import Any

from service.ops.metrics import Metrics
from tests.deployfiles import DEPLOY
from tests.helpers import AppClient

DASHBOARD = DEPLOY / "grafana" / "socialid.json"
# The series a family of each type has, by suffix to its name in the TYPE line (where
# counters already end in _total, and an Info is a gauge ending in _info).
SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
METRIC_NAME = re.compile(r"\b(socialid_[a-z0-9_]+)\b")


async def _exported(client: AppClient) -> dict[str, str]:
    """Every series name /metrics can hold, mapped to its family."""
    resp = await client.get("/metrics")
    assert resp.status == 200
    series: dict[str, str] = {}
    for line in (await resp.text()).splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ")
            if family.endswith("_created"):
                continue  # the client library's creation time of a histogram: not ours
            for suffix in SUFFIXES[kind]:
                series[family + suffix] = family
    return series


def _targets() -> list[tuple[str, str]]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            found.append((panel["title"], target["expr"]))
    return found


async def test_every_panel_names_only_exported_metrics(client: AppClient) -> None:
    exported = await _exported(client)
    # Every family of service/ops/metrics.py is served (none hides in another registry).
    assert len(set(exported.values())) == len(list(Metrics().registry.collect()))
    for title, expr in _targets():
        names = METRIC_NAME.findall(expr)
        assert names, f"{title}: no socialid metric in {expr!r}"
        unknown = [n for n in names if n not in exported]
        assert not unknown, f"{title}: {unknown} not exported by the service"


async def test_every_exported_metric_has_a_panel(client: AppClient) -> None:
    exported = await _exported(client)
    shown = {exported[n] for _, expr in _targets() for n in METRIC_NAME.findall(expr)}
    missing = set(exported.values()) - shown
    assert not missing, f"exported but on no panel: {sorted(missing)}"


def test_panels_read_the_chosen_prometheus_and_do_not_overlap() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells
