"""The performance-mode guard: no orders to a system whose health does not say it simulates them.

The reference target reports ``ABC_PERFORMANCE_MODE`` in its health answer;
run with it false, a replay of trade executions is refused before anything
is sent (only the preflight's health request reaches it), unless the loud
override is given; with performance mode on (the default) it runs as before.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq

from abcsim.results import read_results
from abcsim.target import RunningTarget
from tests.conftest import Serve
from tests.helpers import error_line, run_cli, uniform_schedule


def _received(target: RunningTarget) -> dict[str, float]:
    """Requests the target has received, by request type (its Prometheus counter)."""
    counts: dict[str, float] = {}
    for metric in target.state.metrics.registry.collect():
        if metric.name == "abc_target_requests":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    kind = sample.labels.get("request", "?")
                    counts[kind] = counts.get(kind, 0.0) + sample.value
    return {k: v for k, v in counts.items() if v}


def test_the_health_answer_says_performance_mode(serve: Serve) -> None:
    for env, mode in (({}, True), ({"ABC_PERFORMANCE_MODE": "false"}, False)):
        target = serve("smoke", env=env)
        with urllib.request.urlopen(f"{target.url}/api/v1/health", timeout=10) as answer:
            health = json.load(answer)
        assert health["status"] == "ok" and health["performance_mode"] is mode


def test_orders_to_a_system_not_in_performance_mode_are_refused(
    serve: Serve, tmp_path: Path
) -> None:
    schedule = uniform_schedule(
        tmp_path / "s.parquet", rate=20, seconds=1, request="trade_execution"
    )
    target = serve("smoke", env={"ABC_PERFORMANCE_MODE": "false"})
    line = error_line(run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path))
    assert line.startswith("error: 127.0.0.1 would receive "), line
    assert "multi_agent_workflow and trade_execution" in line
    assert "performance_mode: false" in line
    assert "--allow-orders-without-performance-mode" in line
    assert not (tmp_path / "s.results.parquet").exists()
    assert _received(target) == {"health_check": 1.0}  # the preflight's, nothing else

    sent = run_cli("replay", str(schedule), "-t", target.url, "-q",
                   "--allow-orders-without-performance-mode", cwd=tmp_path)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "WARNING: --allow-orders-without-performance-mode" in sent.stderr
    assert (read_results(tmp_path / "s.results.parquet")["outcome"] == "ok").all()
    metadata = pq.read_schema(tmp_path / "s.results.parquet").metadata
    assert metadata[b"abcsim.orders_without_performance_mode"] == b"true"
    assert _received(target).get("trade_execution") == 20


def test_orders_to_a_system_in_performance_mode_go_as_before(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(
        tmp_path / "s.parquet", rate=20, seconds=1, request="trade_execution"
    )
    target = serve("smoke")
    result = run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (read_results(tmp_path / "s.results.parquet")["outcome"] == "ok").all()
    metadata = pq.read_schema(tmp_path / "s.results.parquet").metadata
    assert b"abcsim.orders_without_performance_mode" not in metadata
