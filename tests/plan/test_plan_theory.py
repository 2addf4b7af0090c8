"""The fast path against queueing theory: M/M/c (Erlang C), M/D/1 and M/G/1 (Pollaczek–Khinchine).

Each case is n Poisson arrivals (rate λ, mean service 1, so utilisation
ρ = λ / c) through c FCFS workers with no queue limit, seed 2026 + its row in
:data:`CASES`. The count of each case is chosen so that the 3% tolerance is
about three standard errors of its mean wait (and asserted to be at least 2.5):
the standard error is measured by batch means over 50 batches. The hardest
case, 16 workers at 50% (under 1% of requests wait, and those briefly), needs
36 million requests; the 99 million in all take about a minute of CPU, spread
over two processes. The P95 response time is far less noisy (its standard
error is under 0.5% in every case).

* M/M/c mean wait within 3% of Erlang C's C(c, a) / (cμ − λ), and P95 of the
  response time (wait + service) within 3% of the closed form's;
* M/D/1 and M/G/1 (lognormal service, σ = 1, cs² = e − 1) mean wait within 3%
  of Pollaczek–Khinchine's λE[S²] / (2(1 − ρ));
* Little's law on every run: the time-average number in the system over
  [0, T] (T the last arrival) within 1% of λW.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from abcsim.plan.analytic import mg1_mean_wait, mmc_mean_wait, mmc_response_percentile
from tests.plan.queues import QueueRun, run_queue, service_second_moment

TOLERANCE = 0.03
SEVERAL = 2.5  # the tolerance is at least this many standard errors
LITTLE_TOLERANCE = 0.01
SEED = 2026

# (service, workers, utilisation, requests)
CASES: tuple[tuple[str, int, float, int], ...] = (
    ("exponential", 1, 0.5, 1_000_000),
    ("exponential", 1, 0.8, 2_000_000),
    ("exponential", 1, 0.9, 8_000_000),
    ("exponential", 4, 0.5, 3_000_000),
    ("exponential", 4, 0.8, 4_000_000),
    ("exponential", 4, 0.9, 10_000_000),
    ("exponential", 16, 0.5, 36_000_000),
    ("exponential", 16, 0.8, 8_000_000),
    ("exponential", 16, 0.9, 14_000_000),
    ("fixed", 1, 0.5, 1_000_000),
    ("fixed", 1, 0.8, 2_000_000),
    ("lognormal:1.0", 1, 0.5, 2_000_000),
    ("lognormal:1.0", 1, 0.8, 8_000_000),
)
MMC = [case for case in CASES if case[0] == "exponential"]
PK = [case for case in CASES if case[0] != "exponential"]


def _run(case: tuple[str, int, float, int]) -> QueueRun:
    service, workers, rho, n = case
    return run_queue(
        rate=rho * workers, workers=workers, service=service, n=n, seed=SEED + CASES.index(case)
    )


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, int, float, int], QueueRun]:
    """Every case, the longest first, over two processes (the machine's cores)."""
    order = sorted(CASES, key=lambda case: -case[3])
    context = multiprocessing.get_context("spawn")  # no threads of other tests carried over
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        return dict(zip(order, pool.map(_run, order), strict=True))


def _name(case: tuple[str, int, float, int]) -> str:
    service, workers, rho, n = case
    return f"{service}-c{workers}-rho{rho}-n{n // 1_000_000}M"


@pytest.mark.slow
@pytest.mark.parametrize("case", MMC, ids=_name)
def test_mmc_mean_wait_and_p95_response_match_erlang_c(
    runs: dict[tuple[str, int, float, int], QueueRun], case: tuple[str, int, float, int]
) -> None:
    _, c, rho, _ = case
    run = runs[case]
    wait = mmc_mean_wait(rho * c, 1.0, c)
    p95 = mmc_response_percentile(0.95, rho * c, 1.0, c)
    assert run.wait_se / wait < TOLERANCE / SEVERAL, "too few requests for the tolerance"
    assert run.mean_wait == pytest.approx(wait, rel=TOLERANCE)
    assert run.p95_response == pytest.approx(p95, rel=TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("case", PK, ids=_name)
def test_md1_and_mg1_mean_wait_match_pollaczek_khinchine(
    runs: dict[tuple[str, int, float, int], QueueRun], case: tuple[str, int, float, int]
) -> None:
    service, _, rho, _ = case
    run = runs[case]
    wait = mg1_mean_wait(rho, 1.0, service_second_moment(service))
    assert run.wait_se / wait < TOLERANCE / SEVERAL, "too few requests for the tolerance"
    assert run.mean_wait == pytest.approx(wait, rel=TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=_name)
def test_littles_law_holds_on_every_run(
    runs: dict[tuple[str, int, float, int], QueueRun], case: tuple[str, int, float, int]
) -> None:
    run = runs[case]
    assert run.little_l == pytest.approx(run.little_lambda_w, rel=LITTLE_TOLERANCE)
