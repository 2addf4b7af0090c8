"""Per-endpoint statistics on hand-made results with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from abcsim.errors import ResultsError
from abcsim.results import (
    PERCENTILES,
    RunClock,
    exact_percentiles,
    results_stats,
    stats_by_agent_type,
)
from abcsim.results.stats import percentile_ranks
from abcsim.scenario import load_scenario
from abcsim.scenario.spec import Endpoint
from tests.results.frames import Req, frame, meta

ENDPOINTS = load_scenario("smoke").endpoints
DATA = "/api/v1/agents/data-collection"
TRADE = "/api/v1/agents/trade-execution"

ROWS = [
    Req(0.0, "data_collection", 10.0, bytes=100),
    Req(1.0, "data_collection", 30.0, bytes=300),
    Req(2.0, "data_collection", 20.0, "http_error", 50, "HTTP 503"),
    Req(3.0, "data_collection", None, "dropped"),
    Req(4.0, "trade_execution", 250.0, bytes=40, agent="hft"),
    Req(5.0, "trade_execution", 5000.0, "timeout", error="timed out after 5 s", agent="hft"),
]


def test_counts_times_sizes_and_rates() -> None:
    stats = results_stats(frame(ROWS), ENDPOINTS, duration_s=10.0)
    data, trade = stats.entries
    assert (data.method, data.name, trade.name) == ("POST", DATA, TRADE)
    # the 503 and the drop are counted, not timed: a refusal is not a 20 ms answer
    assert (data.requests, data.failures, data.timed) == (4, 2, 2)
    assert data.avg_ms == pytest.approx(20.0)
    assert (data.min_ms, data.max_ms, data.median_ms) == (10.0, 30.0, 30.0)
    assert data.avg_bytes == 450 / 4  # over every request, as Locust
    assert (data.rps, data.fail_per_s) == (0.4, 0.2)
    assert data.fail_ratio == 0.5
    total = stats.total
    assert (total.method, total.name) == ("", "Aggregated")
    assert (total.requests, total.failures, total.timed) == (6, 3, 3)
    assert total.max_ms == 250.0  # the 5 s timeout is a failure, not a time
    assert total.percentile(0.5) == 30.0  # sorted 10 30 250: position int(1.5) = 1
    assert total.percentile(1.0) == 250.0


def test_default_duration_runs_to_the_last_response() -> None:
    stats = results_stats(frame(ROWS), ENDPOINTS)
    assert stats.duration_s == pytest.approx(10.0)  # the 5 s timeout scheduled at t = 5
    assert stats.total.rps == pytest.approx(0.6)


def test_clock_maps_schedule_time_to_run_time() -> None:
    rows = [Req(3600.0, "health_check", 100.0), Req(3660.0, "health_check", 100.0)]
    clock = RunClock.from_meta(meta(window=(3600.0, 7200.0), speed=60.0))
    stats = results_stats(frame(rows), ENDPOINTS, clock=clock)
    assert stats.duration_s == pytest.approx(1.1)  # a minute of schedule is a second of run
    assert stats.clock.wall_start == meta().wall_start


def test_percentiles_are_exact_not_locusts_buckets() -> None:
    rows = [Req(i, "risk_analysis", ms) for i, ms in enumerate([147.0, 3432.0, 58760.0])]
    entry = results_stats(frame(rows), ENDPOINTS).entries[0]
    # Locust would keep these as 150, 3400 and 59000.
    assert entry.percentile(0.5) == 3432.0
    assert entry.percentile(1.0) == 58760.0
    assert entry.min_ms == 147.0


def test_percentile_rule_against_numpy() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(3.0, 1.0, size=1001)
    ours = exact_percentiles(values)
    ordered = np.sort(values)
    for p, got in zip(PERCENTILES, ours, strict=True):
        assert got == ordered[min(int(1001 * p), 1000)]
        if not float(1001 * p).is_integer():  # there the rule is numpy's inverted CDF
            assert got == np.quantile(values, p, method="inverted_cdf")
    # on whole n·p one rank higher than the inverted CDF: the median of 1..10 is 6
    assert exact_percentiles(np.arange(1.0, 11.0), (0.5,))[0] == 6.0
    assert np.quantile(np.arange(1.0, 11.0), 0.5, method="inverted_cdf") == 5.0


def test_percentiles_ignore_missing_times_and_handle_none() -> None:
    assert exact_percentiles([np.nan, 4.0, np.nan], (0.5, 1.0)).tolist() == [4.0, 4.0]
    assert np.isnan(exact_percentiles([np.nan], (0.5,))).all()
    assert percentile_ranks(0).tolist() == [0] * len(PERCENTILES)


def test_service_time_option_leaves_out_the_send_lag() -> None:
    rows = [Req(0.0, "health_check", 50.0, lag_ms=45.0), Req(1.0, "health_check", 10.0)]
    latency = results_stats(frame(rows), ENDPOINTS)
    service = results_stats(frame(rows), ENDPOINTS, response_time="service")
    assert latency.total.max_ms == 50.0
    assert service.total.max_ms == pytest.approx(10.0)
    assert service.total.min_ms == pytest.approx(5.0)
    assert service.response_time == "service"
    with pytest.raises(ValueError, match="response_time"):
        results_stats(frame(rows), ENDPOINTS, response_time="wall")  # type: ignore[arg-type]


def test_errors_grouped_by_endpoint_and_reason_in_order_of_first_occurrence() -> None:
    rows = [
        Req(0.0, "data_collection", 900.0, "timeout"),  # ends at 0.9 s
        Req(0.1, "data_collection", 10.0, "http_error", error="HTTP 503"),  # ends first
        Req(0.5, "data_collection", 10.0, "http_error", error="HTTP 503"),
        Req(0.6, "trade_execution", None, "dropped"),  # "when" is its scheduled time
        Req(0.7, "health_check", 1.0, "connection_error", error="connection refused"),
        Req(0.8, "trade_execution", None, "dropped", error="stopped"),
        Req(0.9, "trade_execution", None, "dropped", error="dropped: max in flight"),
    ]
    errors = results_stats(frame(rows), ENDPOINTS).errors
    assert [(e.name, e.error, e.occurrences) for e in errors] == [
        (DATA, "HTTP 503", 2),
        (TRADE, "dropped", 1),
        ("/api/v1/health", "connection refused", 1),
        (TRADE, "dropped: stopped", 1),
        (DATA, "timeout", 1),  # ends at 0.9 s, ties with the next in row order
        (TRADE, "dropped: max in flight", 1),
    ]
    assert errors[0].first_seen_s == pytest.approx(0.11)
    assert errors[0].last_seen_s == pytest.approx(0.51)
    assert errors[1].label == f"POST {TRADE}: dropped"


def test_two_request_types_on_one_endpoint_are_one_row() -> None:
    endpoints = dict(ENDPOINTS) | {"risk_analysis": Endpoint("POST", DATA)}
    rows = [Req(0.0, "data_collection", 1.0), Req(1.0, "risk_analysis", 2.0)]
    stats = results_stats(frame(rows), endpoints)
    assert [(e.name, e.requests) for e in stats.entries] == [(DATA, 2)]


def test_a_request_type_without_an_endpoint_is_named_by_itself() -> None:
    rows = [Req(0.0, "health_check", 1.0)]
    stats = results_stats(frame(rows), {})
    assert [(e.method, e.name) for e in stats.entries] == [("", "health_check")]


def test_split_by_agent_type_adds_up() -> None:
    results = frame(ROWS)
    by_type = stats_by_agent_type(results, ENDPOINTS)
    assert list(by_type) == ["trading", "hft"]  # the categories' order, present ones only
    whole = results_stats(results, ENDPOINTS)
    assert {s.duration_s for s in by_type.values()} == {whole.duration_s}
    assert sum(s.total.rps for s in by_type.values()) == pytest.approx(whole.total.rps)
    assert by_type["hft"].total.requests == 2
    rows = results_stats(results, ENDPOINTS, by="agent_type")
    assert [(e.method, e.name, e.requests) for e in rows.entries] == [
        ("", "hft", 2),
        ("", "trading", 4),
    ]
    assert rows.total == whole.total


def test_an_empty_frame_gives_zeros_not_errors() -> None:
    stats = results_stats(frame([]), ENDPOINTS)
    assert stats.entries == ()
    assert (stats.total.requests, stats.total.rps, stats.duration_s) == (0, 0.0, 0.0)
    assert math.isnan(stats.total.avg_ms)


def test_a_frame_without_results_columns_is_refused() -> None:
    with pytest.raises(ResultsError, match="column 'latency'"):
        results_stats(frame(ROWS).drop(columns="latency"), ENDPOINTS)
