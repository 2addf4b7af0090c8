"""The fast path against the SimPy reference, request for request; the closed forms themselves.

Equality is exact on continuous random inputs (no two events at one instant),
compared to 1e-9 s; both models break ties between simultaneous events
differently, which such inputs never have.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from abcsim.plan.analytic import (
    allen_cunneen_wait,
    erlang_b,
    erlang_c,
    littles_law,
    mg1_mean_wait,
    mmc_mean_wait,
    mmc_response_percentile,
    mmc_response_tail,
    mmc_wait_percentile,
)
from abcsim.plan.engine import decide
from abcsim.plan.fcfs import FcfsModel, Served
from abcsim.plan.reference import ReferenceModel
from abcsim.plan.workload import Workload, workload_from_arrays
from abcsim.scenario import load_scenario
from abcsim.schedule.slicing import EventBlock
from tests.helpers import run_arrays


def _busy_workload(
    n: int, *, seed: int, load: float, workers: int, replicas: int = 1, workflows: float = 0.0
) -> Workload:
    """Poisson arrivals, lognormal spells, a share of 4-stage workflows; ``load`` ≈ utilisation."""
    rng = np.random.default_rng(seed)
    first = rng.lognormal(math.log(0.03), 0.8, n)
    flags = rng.random(n) < workflows
    later = rng.lognormal(math.log(0.01), 0.5, (int(flags.sum()), 3))
    mean_busy = (first.sum() + later.sum()) / n
    rate = load * workers * replicas / mean_busy
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    return workload_from_arrays(t, first, later, flags)


def _assert_same(fast: Served, slow: Served) -> None:
    np.testing.assert_array_equal(fast.refused, slow.refused)
    np.testing.assert_allclose(fast.end, slow.end, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast.queue, slow.queue)
    np.testing.assert_array_equal(fast.replica, slow.replica)


@pytest.mark.parametrize(
    ("replicas", "balancer", "queue_limit", "workflows"),
    [
        (1, "round_robin", 10**9, 0.0),
        (1, "round_robin", 12, 0.0),
        (1, "round_robin", 12, 0.15),
        (3, "round_robin", 8, 0.1),
        (3, "shortest_queue", 8, 0.1),
        (4, "shortest_queue", 0, 0.05),
    ],
)
def test_fast_path_equals_the_simpy_model_request_for_request(
    replicas: int, balancer: str, queue_limit: int, workflows: float
) -> None:
    """30,000 requests at 95% load (seed 5): queues form, fill and refuse; every end agrees."""
    work = _busy_workload(
        30_000, seed=5, load=0.95, workers=4, replicas=replicas, workflows=workflows
    )
    sizes = {"replicas": replicas, "workers": 4, "queue_limit": queue_limit, "balancer": balancer}
    fast = FcfsModel(**sizes).serve(work)  # type: ignore[arg-type]
    slow = ReferenceModel(**sizes).serve(work)  # type: ignore[arg-type]
    _assert_same(fast, slow)
    if queue_limit < 100:
        assert fast.refused.sum() > 0, "the case should exercise the queue limit"
    assert int(fast.queue.max()) > 0 or queue_limit == 0


def test_blocks_streamed_equal_the_whole_and_workflows_span_blocks() -> None:
    work = _busy_workload(20_000, seed=6, load=0.9, workers=3, replicas=2, workflows=0.2)
    whole = FcfsModel(replicas=2, workers=3, queue_limit=50).serve(work)
    model = FcfsModel(replicas=2, workers=3, queue_limit=50)
    parts = []
    for low, high in itertools.pairwise([*range(0, len(work), 1_777), len(work)]):
        mask = np.zeros(len(work), bool)
        mask[low:high] = True
        parts += [served for _, served in model.feed(work.take(mask))]
    parts += [served for _, served in model.finish()]
    _assert_same(Served.concat(parts), whole)


def test_a_real_schedule_through_both_models() -> None:
    """The smoke scenario's busiest two hours on 3 workers: draws, workflows, 503s and all."""
    scenario = load_scenario("smoke")
    system = replace(scenario.system, workers=3, queue_limit=20)
    arrays = run_arrays(scenario, start="2026-01-12T13:00", hours=2)
    block = EventBlock(
        arrays["event_id"],
        arrays["t"],
        arrays["agent_id"],
        arrays["agent_type"],
        arrays["request"],
        arrays["size"],
    )
    halves = [
        block.take(np.arange(len(block)) < len(block) // 2),
        block.take(np.arange(len(block)) >= len(block) // 2),
    ]
    fast = list(decide(halves, system, seed=3))
    slow = list(decide([block], system, seed=3, reference=True))
    _assert_same(Served.concat(d.served for d in fast), slow[0].served)
    outcomes = np.concatenate([d.rows.outcome for d in fast])
    assert (outcomes == 1).any(), "some refused (503)"
    assert (np.concatenate([d.work.workflow for d in fast])).any()


def test_refusals_happen_exactly_when_the_queue_is_full() -> None:
    """1 worker, limit 2, five arrivals 0.1 s apart, each 1 s: 0 served, 1-2 wait, 3-4 refused."""
    t = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    served = FcfsModel(workers=1, queue_limit=2).serve(workload_from_arrays(t, np.ones(5)))
    np.testing.assert_array_equal(served.refused, [False, False, False, True, True])
    np.testing.assert_allclose(served.end[:3], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(served.queue, [0, 1, 2, 2, 2])


def test_arrivals_out_of_order_are_refused() -> None:
    model = FcfsModel(workers=1, queue_limit=1)
    model.feed(workload_from_arrays(np.array([5.0]), np.ones(1)))
    with pytest.raises(ValueError, match="time order"):
        model.feed(workload_from_arrays(np.array([4.0]), np.ones(1)))


# -- the closed forms ------------------------------------------------------------------------


def test_erlang_b_and_c_known_values() -> None:
    """Textbook values: B(2, 1) = 1/5, C(2, 1) = 1/3; C(1, a) = a (M/M/1 waits with prob. ρ)."""
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert 0 < erlang_c(400, 380.0) < 1  # large c: no overflow


def test_mm1_closed_forms() -> None:
    """M/M/1: W = ρ/(μ − λ); the response time is exponential of rate μ − λ."""
    lam, mu = 0.8, 1.0
    assert mmc_mean_wait(lam, mu, 1) == pytest.approx(0.8 / 0.2)
    assert mmc_response_tail(3.0, lam, mu, 1) == pytest.approx(math.exp(-0.2 * 3.0))
    assert mmc_response_percentile(0.95, lam, mu, 1) == pytest.approx(math.log(20) / 0.2)
    assert mmc_wait_percentile(0.95, lam, mu, 1) == pytest.approx(math.log(0.8 / 0.05) / 0.2)
    assert mmc_wait_percentile(0.5, 0.1, 1.0, 1) == 0.0  # fewer than half wait at all


def test_pollaczek_khinchine_and_allen_cunneen_agree_with_mmc_where_exact() -> None:
    lam, c = 3.2, 4
    exact = mmc_mean_wait(lam, 1.0, c)
    assert allen_cunneen_wait(lam, 1.0, c, 1.0, 1.0) == pytest.approx(exact)
    assert mg1_mean_wait(0.8, 1.0, 2.0) == pytest.approx(mmc_mean_wait(0.8, 1.0, 1))
    assert mg1_mean_wait(0.8, 1.0, 1.0) == pytest.approx(mmc_mean_wait(0.8, 1.0, 1) / 2)  # M/D/1
    assert littles_law(10.0, 0.25) == 2.5


def test_unstable_systems_are_refused() -> None:
    with pytest.raises(ValueError, match="unstable"):
        mmc_mean_wait(4.0, 1.0, 4)
