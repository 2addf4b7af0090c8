"""The per-second history, rebuilt after the run, against brute force on every second."""

from __future__ import annotations

import math

import numpy as np
import pytest

from abcsim.results import exact_percentiles, stats_history
from abcsim.results.history import HistoryRow
from abcsim.scenario import load_scenario
from tests.results.frames import Req, frame

ENDPOINTS = load_scenario("smoke").endpoints
SEED = 3
DURATION_S = 30.0


@pytest.fixture(scope="module")
def rows() -> list[Req]:
    """1,500 requests over 30 s: lognormal latencies (some over a second), 5 % dropped."""
    rng = np.random.default_rng(SEED)
    requests = ["data_collection", "risk_analysis", "health_check"]
    out = []
    for t in np.sort(rng.uniform(0.0, 28.0, 1500)):
        request = requests[int(rng.integers(3))]
        if rng.random() < 0.05:
            out.append(Req(float(t), request, None, "dropped"))
        else:
            ms = float(rng.lognormal(4.0, 1.2))
            outcome = "timeout" if ms > 1500 else "ok"
            out.append(Req(float(t), request, ms, outcome, int(rng.integers(100)), lag_ms=ms / 4))
    return out


def _answered(row: Req) -> bool:
    """Timed in every table: answered requests only (a timeout is a failure, not a time)."""
    return row.outcome == "ok" and row.latency_ms is not None


def _ends(rows: list[Req]) -> np.ndarray:
    return np.array([r.t + (r.latency_ms or 0.0) / 1000 for r in rows])


def _check_cumulative(row: HistoryRow, rows: list[Req], done: np.ndarray) -> None:
    mine = [r for r, d in zip(rows, done, strict=True) if d]
    times = np.array([r.latency_ms for r in mine if _answered(r)], dtype=float)
    assert row.requests == len(mine)
    assert row.failures == sum(r.outcome != "ok" for r in mine)
    if times.size:
        assert row.median_ms == round(exact_percentiles(times, (0.5,))[0])
        assert row.avg_ms == pytest.approx(times.mean())
        assert (row.min_ms, row.max_ms) == pytest.approx((times.min(), times.max()))
    assert row.avg_bytes == pytest.approx(sum(r.bytes for r in mine) / len(mine) if mine else 0)


def test_aggregated_rows_are_cumulative_like_locusts(rows: list[Req]) -> None:
    history = stats_history(frame(rows), ENDPOINTS, duration_s=DURATION_S)
    assert [h.second for h in history] == list(range(31))
    assert {h.name for h in history} == {"Aggregated"}
    ends = _ends(rows)
    counts = np.bincount(np.clip(np.floor(ends), 0, 29).astype(int), minlength=30)
    for h in history:
        k = h.second
        done = np.floor(ends) < k
        _check_cumulative(h, rows, done)
        times = [r.latency_ms for r, d in zip(rows, done, strict=True) if d and _answered(r)]
        if h.requests:
            want = np.rint(exact_percentiles(np.array(times, dtype=float))).astype(int)
            assert h.percentiles_ms == tuple(want.tolist())
        else:
            assert h.percentiles_ms is None
        window = counts[max(k - 12, 0) : max(k - 2, 0)]
        assert h.rps == pytest.approx(window.mean() if window.size else 0.0)


def test_full_history_has_endpoint_rows_with_ten_second_windows(rows: list[Req]) -> None:
    history = stats_history(frame(rows), ENDPOINTS, duration_s=DURATION_S, full_history=True)
    names = ["/api/v1/agents/data-collection", "/api/v1/agents/risk-analysis", "/api/v1/health"]
    assert [h.name for h in history[:4]] == [*names, "Aggregated"]
    assert len(history) == 4 * 31
    ends = _ends(rows)
    paths = np.array([dict(ENDPOINTS)[r.request].path for r in rows])
    for h in history[4 * 12 : 4 * 14]:  # seconds 12 and 13: a full window behind them
        here = paths == h.name if h.name != "Aggregated" else np.ones(len(rows), bool)
        second = np.floor(ends)
        in_window = here & (second >= h.second - 10) & (second < h.second)
        times = [r.latency_ms for r, w in zip(rows, in_window, strict=True) if w and _answered(r)]
        want = np.rint(exact_percentiles(np.array(times, dtype=float))).astype(int)
        assert h.percentiles_ms == tuple(want.tolist())
        _check_cumulative(h, rows, here & (second < h.second))


def test_users_are_requests_in_flight(rows: list[Req]) -> None:
    history = stats_history(frame(rows), ENDPOINTS, duration_s=DURATION_S)
    sent = [(r.t + r.lag_ms / 1000, r.t + r.latency_ms / 1000) for r in rows if r.latency_ms]
    for h in history:
        assert h.users == sum(start <= h.second < end for start, end in sent)
    assert max(h.users for h in history) > 0


def test_default_length_runs_to_the_last_response(rows: list[Req]) -> None:
    history = stats_history(frame(rows), ENDPOINTS)
    assert history[-1].second == math.ceil(_ends(rows).max())
    assert history[-1].requests == len(rows)


def test_an_empty_run_has_two_empty_rows() -> None:
    history = stats_history(frame([]), ENDPOINTS)
    assert [(h.second, h.requests, h.percentiles_ms) for h in history] == [
        (0, 0, None),
        (1, 0, None),
    ]


def test_percentiles_over_thousands_of_distinct_milliseconds() -> None:
    rng = np.random.default_rng(SEED + 1)
    ms = rng.uniform(0.0, 20_000.0, 3000)  # ~2,600 distinct whole ms: several histogram blocks
    rows = [Req(float(i) / 300, "risk_analysis", float(v)) for i, v in enumerate(ms)]
    history = stats_history(frame(rows), ENDPOINTS, full_history=True)
    ends = _ends(rows)
    for h in history[-2:]:
        last = h.second
        cumulative = ms[np.floor(ends) < last]
        window = ms[(np.floor(ends) < last) & (np.floor(ends) >= last - 10)]
        assert h.median_ms == round(exact_percentiles(cumulative, (0.5,))[0])
        want = np.rint(exact_percentiles(window)).astype(int)
        assert h.percentiles_ms == tuple(want.tolist())
