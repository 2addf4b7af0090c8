"""The SLO gate: a missed target is a breach with its figure, a met one is silent.

How a breach reads is the report's: tests/report/test_report_breaches.py.
"""

from __future__ import annotations

import math

import pytest

from abcsim.errors import ResultsError
from abcsim.results import Breach, check_slos, slo_exit_status
from abcsim.scenario.spec import Slo
from tests.results.frames import Req, frame


def _data(ms: list[float], request: str = "data_collection") -> list[Req]:
    return [Req(float(i), request, v) for i, v in enumerate(ms)]


TWENTY = [float(v) for v in range(100, 2100, 100)]  # 100 … 2000 ms: P95 is the 20th, 2000


def test_a_breached_p95_is_reported_with_figure_and_threshold() -> None:
    slo = Slo(p95_ms=(("data_collection", 500.0),), overall_p95_ms=None, error_rate=None)
    breaches = check_slos(slo, frame(_data(TWENTY)))
    assert breaches == [Breach("data_collection P95", 2000.0, 500.0, "ms")]
    assert slo_exit_status(breaches) == 1


def test_met_targets_yield_nothing() -> None:
    slo = Slo(p95_ms=(("data_collection", 2000.0),), overall_p95_ms=2000.0, error_rate=0.0)
    breaches = check_slos(slo, frame(_data(TWENTY)))
    assert breaches == []
    assert slo_exit_status(breaches) == 0


def test_overall_p95_covers_every_request_type() -> None:
    rows = [*_data([10.0] * 18), *_data([900.0, 950.0], "risk_analysis")]
    slo = Slo(p95_ms=(("data_collection", 50.0),), overall_p95_ms=800.0, error_rate=None)
    assert check_slos(slo, frame(rows)) == [Breach("overall P95", 950.0, 800.0, "ms")]


def test_error_rate_counts_dropped_timeouts_and_http_errors() -> None:
    rows = [
        *_data([10.0] * 96),
        Req(100.0, "health_check", None, "dropped"),
        Req(101.0, "health_check", 5000.0, "timeout"),
        Req(102.0, "health_check", 3.0, "http_error", error="HTTP 500"),
        Req(103.0, "health_check", 3.0, "connection_error"),
    ]
    slo = Slo(p95_ms=(), overall_p95_ms=None, error_rate=0.01)
    breaches = check_slos(slo, frame(rows))
    assert breaches == [Breach("error rate", 4.0, 1.0, "%")]
    assert check_slos(Slo((), None, 0.04), frame(rows)) == []  # 4 % is within 4 %


def test_a_request_type_with_no_samples_is_reported_not_passed() -> None:
    """risk_analysis was scheduled but never answered; trade_execution was never scheduled."""
    rows = [*_data([10.0]), Req(5.0, "risk_analysis", None, "dropped")]
    slo = Slo((("risk_analysis", 2000.0), ("trade_execution", 300.0)), None, None)
    breaches = check_slos(slo, frame(rows))
    assert [b.what for b in breaches] == ["risk_analysis P95"]
    assert all(b.unverified and math.isnan(b.figure) for b in breaches)
    assert slo_exit_status(breaches) == 1


def test_an_empty_run_cannot_pass_its_error_rate() -> None:
    breaches = check_slos(Slo((), 100.0, 0.01), frame([]))
    assert [b.what for b in breaches] == ["overall P95", "error rate"]
    assert all(b.unverified for b in breaches)


def test_service_time_can_be_gated_instead() -> None:
    rows = [Req(float(i), "data_collection", 800.0, lag_ms=700.0) for i in range(20)]
    slo = Slo((("data_collection", 500.0),), None, None)
    assert check_slos(slo, frame(rows))[0].figure == 800.0
    assert check_slos(slo, frame(rows), response_time="service") == []


def test_a_frame_that_is_not_results_is_refused() -> None:
    with pytest.raises(ResultsError, match="'outcome'"):
        check_slos(Slo((), None, 0.01), frame(_data([1.0])).drop(columns="outcome"))
