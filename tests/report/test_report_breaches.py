"""The SLO verdict's lines: a breach with its figure and target, an unverified one said so."""

from __future__ import annotations

import math

from abcsim.report import format_breaches
from abcsim.results import Breach, check_slos
from abcsim.scenario.spec import Slo
from tests.results.frames import Req, frame


def test_a_breached_p95_reads_with_figure_and_threshold() -> None:
    lines = format_breaches([Breach("data_collection P95", 2000.0, 500.0, "ms")])
    assert lines == ["SLO breached: data_collection P95 2000 ms > 500 ms"]


def test_no_breach_no_line() -> None:
    assert format_breaches([]) == []


def test_an_error_rate_reads_in_percent_with_two_decimals() -> None:
    lines = format_breaches([Breach("error rate", 4.0, 1.0, "%")])
    assert lines == ["SLO breached: error rate 4.00% > 1.00%"]


def test_a_target_with_no_samples_reads_as_unverified() -> None:
    lines = format_breaches([Breach("risk_analysis P95", math.nan, 2000.0, "ms")])
    assert lines == ["SLO unverified: risk_analysis P95: no samples (target 2000 ms)"]


def test_close_figures_get_the_decimals_that_tell_them_apart() -> None:
    lines = format_breaches([Breach("overall P95", 500.25, 500.0, "ms")])
    assert lines == ["SLO breached: overall P95 500.2 ms > 500.0 ms"]


def test_the_lines_of_a_checked_run() -> None:
    """check_slos's breaches, in its order, one line each."""
    rows = [Req(float(i), "data_collection", 2000.0) for i in range(20)]
    rows.append(Req(20.0, "health_check", None, "dropped"))
    slo = Slo((("data_collection", 500.0),), None, 0.01)
    assert format_breaches(check_slos(slo, frame(rows))) == [
        "SLO breached: data_collection P95 2000 ms > 500 ms",
        "SLO breached: error rate 4.76% > 1.00%",
    ]
