"""The digest: a file read in batches gives the same statistics as the whole frame at once.

Seed 5: 20,000 requests of four types from three agent types, 7% failures of
three kinds, 2% dropped, 1% cut off by a stop. Read back 1,000 rows at a
time, every figure of Locust's table, the error report and the SLO verdict
must equal those of the frame in one piece — exactly, not within a tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from abcsim.results import (
    ResultsWriter,
    RunClock,
    check_digest,
    check_slos,
    digest_file,
    digest_frame,
    digest_stats,
    read_results,
)
from abcsim.results.digest import not_sent, select
from abcsim.scenario import load_scenario
from abcsim.scenario.spec import Slo
from tests.results.frames import AGENT_TYPES, Req, batch, meta

ENDPOINTS = load_scenario("smoke").endpoints
SEED = 5
SLO = Slo((("data_collection", 60.0), ("risk_analysis", 900.0)), 400.0, 0.05)


def _rows(n: int) -> list[Req]:
    rng = np.random.default_rng(SEED)
    requests = ["data_collection", "risk_analysis", "trade_execution", "health_check"]
    rows = []
    for i in range(n):
        request = requests[int(rng.integers(4))]
        agent = AGENT_TYPES[int(rng.integers(3))]
        ms = float(rng.lognormal(3.5, 1.0))
        roll = rng.random()
        t = 0.001 * i
        if roll < 0.03:
            rows.append(Req(t, request, ms, "http_error", 10, "HTTP 503", agent=agent))
        elif roll < 0.05:
            rows.append(Req(t, request, 5000.0, "timeout", error="timeout", agent=agent))
        elif roll < 0.07:
            rows.append(Req(t, request, None, "dropped", error="lateness", agent=agent))
        elif roll < 0.08:
            rows.append(Req(t, request, None, "dropped", error="stopped", agent=agent))
        else:
            rows.append(Req(t, request, ms, "ok", int(rng.integers(1000)), agent=agent))
    return rows


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digest") / "r.parquet"
    rows = _rows(20_000)
    with ResultsWriter(path, meta()) as out:
        for first in range(0, len(rows), 3_000):
            out.write(batch(rows[first : first + 3_000], first))
    return path


@pytest.mark.parametrize("by", ["endpoint", "agent_type"])
def test_a_file_in_batches_gives_the_frames_statistics_exactly(results: Path, by: str) -> None:
    clock = RunClock.from_meta(meta())
    streamed = digest_file(results, clock=clock, batch_rows=1_000, leave_out_not_sent=True)
    frame = read_results(results)
    whole = digest_frame(frame[~not_sent(frame)], clock=clock)
    assert streamed.not_sent == int(not_sent(frame).sum()) > 100
    a = digest_stats(streamed, ENDPOINTS, by=by)  # type: ignore[arg-type]
    b = digest_stats(whole, ENDPOINTS, by=by)  # type: ignore[arg-type]
    assert a.entries == b.entries and a.errors == b.errors and a.duration_s == b.duration_s
    # the average sums batch by batch: equal to the last float bits, not always to the bit
    assert a.total.percentiles_ms == b.total.percentiles_ms
    assert a.total.avg_ms == pytest.approx(b.total.avg_ms, rel=1e-12)
    assert check_digest(SLO, streamed) == check_slos(SLO, frame[~not_sent(frame)])
    assert {e.error for e in a.errors} == {"HTTP 503", "timeout", "dropped: lateness"}


def test_select_is_the_kth_of_the_merged_values() -> None:
    """Ranks 0 … n-1 of 5 sorted arrays (ties across them included) against a merge."""
    rng = np.random.default_rng(SEED)
    arrays = [np.sort(rng.integers(0, 50, size).astype(float)) for size in (0, 1, 17, 200, 33)]
    merged = np.sort(np.concatenate(arrays))
    assert [select(arrays, k) for k in range(merged.size)] == merged.tolist()
    with pytest.raises(ValueError, match="beyond"):
        select(arrays, merged.size)
