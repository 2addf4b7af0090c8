"""The console summary is Locust's, line for line, on the same requests.

The same records go into Locust's own ``RequestStats`` (in a subprocess:
importing locust monkey-patches the standard library) and into a results
frame. Response times are whole milliseconds under 100, which Locust's
histogram stores exactly, so every number can be compared — only the
percentile table's title differs, on purpose. abcsim times answered requests
only (a refusal is not a fast answer), so Locust is given each failure as a
request without a response time, as it logs a request that never got one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from abcsim.report import (
    error_report_lines,
    percentile_table_lines,
    stats_table_lines,
    summary_lines,
)
from abcsim.results import results_stats
from abcsim.results.stats import PERCENTILES, RunStats
from abcsim.scenario import load_scenario
from tests.results.frames import Req, frame

ENDPOINTS = dict(load_scenario("smoke").endpoints)
REFERENCE = Path(__file__).with_name("locust_reference.py")
DURATION_S = 10.0
SEED = 11


def _records(seed: int, n: int) -> list[Req]:
    """Requests 0.2 s apart (so they end in row order), of every outcome, 1–99 ms."""
    rng = np.random.default_rng(seed)
    requests = ["data_collection", "risk_analysis", "trade_execution", "health_check"]
    rows = []
    for i in range(n):
        request = requests[int(rng.integers(len(requests)))]
        latency = float(rng.integers(1, 100))
        size = int(rng.integers(0, 5000))
        roll = rng.random()
        if roll < 0.05:
            rows.append(Req(0.2 * i, request, None, "dropped"))
        elif roll < 0.08:
            rows.append(Req(0.2 * i, request, latency, "timeout", error="timed out after 99 ms"))
        elif roll < 0.12:
            rows.append(Req(0.2 * i, request, latency, "http_error", size, "HTTP 503"))
        else:
            rows.append(Req(0.2 * i, request, latency, "ok", size, agent="hft"))
    return rows


def _locust_record(row: Req) -> list[Any]:
    """The row as Locust would log it under abcsim's convention: a failure has no time."""
    spec = ENDPOINTS[row.request]
    answered = row.outcome == "ok" and row.latency_ms is not None
    latency = int(row.latency_ms) if answered and row.latency_ms is not None else None
    error = None if row.outcome == "ok" else row.error or row.outcome
    return [spec.method, spec.path, latency, row.bytes, error]


def _locust_tables(jobs: list[tuple[int, list[Req]]]) -> list[dict[str, Any]]:
    payload = [
        {
            "name_width": width,
            "duration_s": DURATION_S,
            "records": [_locust_record(r) for r in rows],
        }
        for width, rows in jobs
    ]
    done = subprocess.run(
        [sys.executable, str(REFERENCE)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"LOCUST_SKIP_MONKEY_PATCH": "1", "PATH": ""},
    )
    tables: list[dict[str, Any]] = json.loads(done.stdout)
    return tables


JOBS = [(80, _records(SEED, 400)), (30, _records(SEED + 1, 57)), (80, _records(SEED + 2, 3))]


@pytest.fixture(scope="module")
def locust() -> list[dict[str, Any]]:
    return _locust_tables(JOBS)


def _ours(rows: list[Req]) -> RunStats:
    return results_stats(frame(rows), ENDPOINTS, duration_s=DURATION_S)


@pytest.mark.parametrize("job", range(len(JOBS)))
def test_stats_table_is_locusts(locust: list[dict[str, Any]], job: int) -> None:
    width, rows = JOBS[job]
    assert stats_table_lines(_ours(rows), name_width=width) == locust[job]["stats"]


@pytest.mark.parametrize("job", range(len(JOBS)))
def test_error_report_is_locusts(locust: list[dict[str, Any]], job: int) -> None:
    width, rows = JOBS[job]
    assert error_report_lines(_ours(rows), name_width=width) == locust[job]["errors"]


@pytest.mark.parametrize("job", range(len(JOBS)))
def test_percentile_table_is_locusts_but_its_title(locust: list[dict[str, Any]], job: int) -> None:
    width, rows = JOBS[job]
    ours = percentile_table_lines(_ours(rows), name_width=width)
    theirs = locust[job]["percentiles"]
    assert theirs[0] == "Response time percentiles (approximated)"
    assert ours[0] == "Response time percentiles (exact, latency from the scheduled time)"
    assert ours[1:] == theirs[1:]


def test_percentiles_equal_locusts_where_it_stores_values_exactly(
    locust: list[dict[str, Any]],
) -> None:
    stats = _ours(JOBS[0][1])
    theirs = locust[0]["entry_percentiles"]
    assert len(stats.entries) == len(theirs) == 4
    for entry in stats.entries:
        assert list(entry.percentiles_ms) == theirs[f"{entry.method} {entry.name}"]


def test_the_big_job_has_every_kind_of_row() -> None:
    stats = _ours(JOBS[0][1])
    labels = {e.error for e in stats.errors}
    assert labels == {"dropped", "timed out after 99 ms", "HTTP 503"}
    assert stats.total.timed < stats.total.requests == 400  # dropped ones have no time


def test_summary_is_the_three_tables_and_the_agent_type_split() -> None:
    rows = JOBS[0][1]
    stats = _ours(rows)
    by_type = results_stats(frame(rows), ENDPOINTS, duration_s=DURATION_S, by="agent_type")
    lines = summary_lines(stats, by_agent_type=by_type)
    table = stats_table_lines(stats)
    assert lines[: len(table)] == table
    assert "Error report" in lines
    assert "By agent type" in lines
    split = lines[lines.index("By agent type") + 1 :]
    assert [line.split()[0] for line in split[2:4]] == ["hft", "trading"]
    assert split[5].split()[:2] == ["Aggregated", "400"]


def test_no_error_report_without_errors() -> None:
    rows = [Req(0.1 * i, "health_check", 2.0) for i in range(5)]
    lines = summary_lines(_ours(rows))
    assert "Error report" not in lines
    assert lines[-1] == ""


def test_service_time_is_named_in_the_title() -> None:
    rows = [Req(0.0, "health_check", 20.0, lag_ms=15.0)]
    stats = results_stats(frame(rows), ENDPOINTS, response_time="service")
    assert percentile_table_lines(stats)[0].endswith("(exact, service time from the send)")
    assert stats.total.percentiles_ms == (5.0,) * len(PERCENTILES)


def test_clock_differences_print_as_the_whole_ms_they_are() -> None:
    results = frame([Req(0.0, "health_check", 1.0)])
    results["latency"] = 1.029 - 1.0  # 28.999999999999915 ms, as a clock difference gives it
    stats = results_stats(results, ENDPOINTS)
    assert stats_table_lines(stats)[2].split("|")[1].split() == ["29", "29", "29", "29"]
