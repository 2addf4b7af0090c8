"""The target's pure parts: service-time draws, the FIFO pool, fault and setting parsing.

No server here: these are the pieces the server is built from, checked directly
(the pool on a real asyncio loop). Statistical checks state seed and tolerance.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from abcsim import ScenarioError, load_scenario
from abcsim.cli import flag as cli_flag
from abcsim.errors import Setting
from abcsim.scenario.service import service_streams
from abcsim.scenario.spec import REQUEST_TYPES, WORKFLOW_STAGES, ServiceTime
from abcsim.scenario.units import parse_bytes
from abcsim.target import Faults, parse_faults, resolve_target
from abcsim.target.payloads import _INSTRUMENTS, MAX_QUOTES, Payloads
from abcsim.target.pool import QueueFull, WorkerPool
from abcsim.target.service import DRAWN_AHEAD, ServiceModel, draw_ms, stage_requests

# -- service times --------------------------------------------------------------------


def test_draws_have_the_scenario_median_and_p95() -> None:
    """200,000 draws, seed 3: sample median and P95 within 1% (their standard error is ~0.2%)."""
    rng = np.random.default_rng(3)
    risk = ServiceTime(200.0, 600.0)
    draws = np.array([draw_ms(risk, 1, rng) for _ in range(200_000)])
    median, p95 = np.percentile(draws, [50, 95])
    assert median == pytest.approx(200.0, rel=0.01)
    assert p95 == pytest.approx(600.0, rel=0.01)


def test_fixed_time_and_per_item_cost() -> None:
    rng = np.random.default_rng(0)
    assert draw_ms(ServiceTime(100.0, 100.0), 1, rng) == 100.0
    assert draw_ms(ServiceTime(100.0, 100.0, per_item_ms=0.5), 1001, rng) == 600.0


def test_same_seed_same_times_and_types_do_not_disturb_each_other() -> None:
    system = load_scenario("abc_week").system
    plain = ServiceModel(system, 7)
    mixed = ServiceModel(system, 7)
    alone = [plain.stages("data_collection", 1)[0].seconds for _ in range(20)]
    interleaved = []
    for _ in range(20):
        mixed.stages("strategy_analysis", 5)  # other types' traffic in between
        interleaved.append(mixed.stages("data_collection", 1)[0].seconds)
    assert alone == interleaved
    assert ServiceModel(system, 8).stages("data_collection", 1) != plain.stages(
        "data_collection", 1
    )


def test_times_drawn_ahead_are_the_times_drawn_one_at_a_time() -> None:
    """The model draws each type's times in blocks; every request still gets the
    ``draw_ms`` time of its turn, across block ends, for each shape of distribution."""
    week = load_scenario("abc_week").system
    shapes = {
        "lognormal": week,
        "gamma": replace(
            week,
            service=tuple((r, replace(s, distribution="gamma")) for r, s in week.service),
        ),
        "fixed": replace(
            week, service=tuple((r, ServiceTime(5.0, 5.0, 0.25)) for r, _ in week.service)
        ),
    }
    picks = np.random.default_rng(5)
    for shape, system in shapes.items():
        model = ServiceModel(system, 11)
        one_at_a_time = service_streams(system, 11)
        service = dict(system.service)
        for _ in range(3 * DRAWN_AHEAD):
            request = REQUEST_TYPES[int(picks.integers(len(REQUEST_TYPES)))]
            size = int(picks.choice([1, 2, 20, 1000]))
            want = [
                (stage, draw_ms(service[stage], size, one_at_a_time[stage]) / 1000.0)
                for stage in stage_requests(request)
            ]
            got = [(s.request, s.seconds) for s in model.stages(request, size)]
            assert got == want, shape


def test_a_workflow_is_its_four_stages() -> None:
    stages = ServiceModel(load_scenario("abc_week").system, 1).stages("multi_agent_workflow", 10)
    assert tuple(s.request for s in stages) == WORKFLOW_STAGES
    assert all(s.seconds > 0 for s in stages)


# -- payloads --------------------------------------------------------------------------


def test_quotes_are_the_vectorised_formula_on_the_same_draws() -> None:
    """Quotes are built in plain Python (and one quote from a scalar draw); the figures
    are exactly numpy's ``price * (1 + normal(0, 1e-3, n))`` with a 0.5 bp half spread."""
    symbols = [symbol for symbol, _ in _INSTRUMENTS]
    prices = np.array([price for _, price in _INSTRUMENTS])
    payloads, reference = Payloads(np.random.default_rng(9)), np.random.default_rng(9)
    for size in (1, 5, 13, 1, 1500, 2):
        got = payloads.quotes(size)
        n = min(size, MAX_QUOTES)
        picks = np.arange(n) % len(_INSTRUMENTS)
        mids = prices[picks] * (1 + reference.normal(0, 1e-3, n))
        bids, asks = (mids - mids * 5e-5).tolist(), (mids + mids * 5e-5).tolist()
        assert got["count"] == size and got["truncated"] == (size > MAX_QUOTES)
        assert got["quotes"] == [
            {"symbol": symbols[i], "bid": round(bid, 5), "ask": round(ask, 5)}
            for i, bid, ask in zip(picks.tolist(), bids, asks, strict=True)
        ]


def test_timestamps_are_now_to_the_millisecond() -> None:
    payloads = Payloads(np.random.default_rng(0))
    for _ in range(50):
        before = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        stamp = payloads.now()
        after = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        assert before <= stamp <= after and stamp.endswith("+00:00") and len(stamp) == 29


# -- the pool --------------------------------------------------------------------------


def test_pool_serves_strictly_first_come_first_served() -> None:
    """1 worker: 20 requests queue in arrival order and are served in exactly that order."""

    async def main() -> tuple[list[int], list[int]]:
        pool = WorkerPool(workers=1, queue_limit=100)
        order: list[int] = []
        arrivals: list[int] = []

        async def request(i: int) -> None:
            arrivals.append(i)
            async with pool.worker():
                order.append(i)
                await asyncio.sleep(0)

        first = asyncio.ensure_future(request(0))
        await asyncio.sleep(0)  # 0 holds the worker
        tasks = [asyncio.ensure_future(request(i)) for i in range(1, 20)]
        await asyncio.gather(first, *tasks)
        return order, arrivals

    order, arrivals = asyncio.run(main())
    assert order == arrivals == list(range(20))


def test_a_newcomer_never_overtakes_the_queue() -> None:
    """The worker freed by ``release`` belongs to the oldest waiter at once: a request
    arriving in the same instant queues behind it (a semaphore could let it in first)."""

    async def main() -> None:
        pool = WorkerPool(workers=1, queue_limit=10)
        await pool.acquire()
        oldest = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        pool.release()
        newcomer = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        assert oldest.done() and not newcomer.done()
        assert (pool.busy, pool.queued) == (1, 1)
        pool.release()
        await newcomer
        pool.release()

    asyncio.run(main())


def test_pool_refuses_beyond_the_queue_limit_but_not_a_later_stage() -> None:
    async def main() -> None:
        pool = WorkerPool(workers=1, queue_limit=1)
        await pool.acquire()
        waiting = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        assert (pool.busy, pool.queued) == (1, 1)
        with pytest.raises(QueueFull):
            await pool.acquire()
        stage = asyncio.ensure_future(pool.acquire(admit=False))  # already admitted
        await asyncio.sleep(0)
        assert pool.queued == 2
        pool.release()
        await waiting
        pool.release()
        await stage
        pool.release()
        assert (pool.busy, pool.queued) == (0, 0)

    asyncio.run(main())


def test_a_cancelled_waiter_leaves_the_queue_and_takes_no_worker() -> None:
    async def main() -> None:
        pool = WorkerPool(workers=1, queue_limit=5)
        await pool.acquire()
        cancelled = asyncio.ensure_future(pool.acquire())
        behind = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert pool.queued == 1
        pool.release()
        await behind  # the worker went to the one still waiting
        pool.release()
        assert (pool.busy, pool.queued) == (0, 0)

    asyncio.run(main())


# -- faults and settings ----------------------------------------------------------------


def test_fault_flags_parse() -> None:
    flags = "error_rate=0.02 spike_rate=0.1 spike_ms=250 stall=10:20 reset_rate=0.5 leak_bytes=64K"
    faults = parse_faults(flags.split())
    assert faults == Faults(0.02, 0.1, 250.0, (10.0, 20.0), 0.5, 65536)
    assert faults.describe() == (
        "error_rate=0.02, spike_rate=0.1, stall=10:20, reset_rate=0.5, leak_bytes=65536, "
        "spike_ms=250"
    )
    assert parse_faults(["error_rate=0.5", "error_rate=off"]) == Faults()
    assert Faults().describe() == "none" and Faults().active() == {}
    assert Faults().with_fault("stall", [1, 2.5]).stall == (1.0, 2.5)


@pytest.mark.parametrize(
    ("flag", "field", "hint"),
    [
        ("latency=1", "latency", "unknown fault"),
        ("error_rate", "error_rate", "NAME=VALUE"),
        ("error_rate=-0.1", "error_rate", "fraction"),
        ("reset_rate=nan", "reset_rate", "fraction"),
        ("spike_ms=-5", "spike_ms", "> 0"),
        ("stall=20:10", "stall", "A < B"),
        ("stall=5", "stall", "A:B"),
        ("leak_bytes=lots", "leak_bytes", "size"),
    ],
)
def test_bad_fault_flags_name_the_fault(flag: str, field: str, hint: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_faults([flag])
    assert (caught.value.source, caught.value.field) == (Setting("faults"), field)
    assert caught.value.render(cli_flag).startswith(f"--fault: {field}: ")
    assert hint in caught.value.problem


def test_settings_precedence_scenario_then_environment_then_flags() -> None:
    week = load_scenario("abc_week")
    assert resolve_target(week, {}).workers == 32
    env = {"ABC_MAX_CONCURRENT_REQUESTS": "12", "ABC_MEMORY_LIMIT": "512M"}
    from_env = resolve_target(week, env)
    assert (from_env.workers, from_env.memory_limit_bytes) == (12, 512 * 2**20)
    flagged = resolve_target(week, env, workers=3, queue_limit=0, seed=9)
    assert (flagged.workers, flagged.queue_limit, flagged.seed) == (3, 0, 9)
    assert resolve_target(week, {}).memory_limit_bytes == 2048 * 2**20
    assert resolve_target(week, {}).seed == week.seed
    for bad in ({"ABC_MAX_CONCURRENT_REQUESTS": "0"}, {"ABC_MEMORY_LIMIT": "huge"}):
        with pytest.raises(ScenarioError) as caught:
            resolve_target(week, bad)
        assert caught.value.source == next(iter(bad))


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("65536", 65536),
        ("64K", 65536),
        ("512M", 512 * 2**20),
        ("2G", 2**31),
        ("2Gi", 2**31),
        ("1.5G", 3 * 2**29),
        ("10B", 10),
        ("1KiB", 1024),
    ],
)
def test_byte_sizes(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "G", "lots", "-1M", "3iB"])
def test_bad_byte_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_bytes(text)
