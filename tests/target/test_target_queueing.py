"""The worker pool and its FIFO queue: M/G/c with a queue limit, measured from outside.

Service times are fixed (``fixed_scenario``: median = P95), so what is checked
is the queueing, not the machine's speed: tolerances are generous.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import Serve, fixed_scenario
from tests.target.client import Answer, call, run, scrape


async def _warm(session: aiohttp.ClientSession, url: str, n: int) -> None:
    """Open ``n`` keep-alive connections first, so the timed requests need no handshakes."""

    async def health() -> None:
        async with session.get(f"{url}/health") as response:
            await response.read()

    await asyncio.gather(*(health() for _ in range(n)))


def test_eight_requests_on_four_workers_take_one_and_two_service_times(serve: Serve) -> None:
    """4 workers, 100 ms each: 4 answer at ~100 ms, the 4 queued at ~200 ms."""
    target = serve(fixed_scenario(100.0, workers=4))

    async def main(session: aiohttp.ClientSession) -> list[Answer]:
        await _warm(session, target.url, 8)
        return await asyncio.gather(*(call(session, target, "risk_analysis") for _ in range(8)))

    answers = sorted(run(main), key=lambda a: a.ms)
    ms = [round(a.ms, 1) for a in answers]
    assert all(a.status == 200 for a in answers)
    assert all(90.0 <= a.ms < 180.0 for a in answers[:4]), ms
    assert all(190.0 <= a.ms < 320.0 for a in answers[4:]), ms
    queued = sorted(a.body["queued_ms"] for a in answers)
    assert all(q < 30.0 for q in queued[:4]) and all(80.0 <= q < 150.0 for q in queued[4:])


def test_queue_limit_refuses_at_once_and_nothing_else_breaks(serve: Serve) -> None:
    """2 workers, queue limit 3, 100 ms: of 10 at once, 2 + 3 are served and 5 get 503 at once."""
    target = serve(fixed_scenario(100.0, workers=2, queue_limit=3))

    async def main(
        session: aiohttp.ClientSession,
    ) -> tuple[list[Answer], list[Answer], dict[str, float]]:
        await _warm(session, target.url, 10)
        burst = await asyncio.gather(*(call(session, target, "trade_execution") for _ in range(10)))
        after = [await call(session, target, "trade_execution") for _ in range(3)]
        return list(burst), after, await scrape(session, target)

    burst, after, metrics = run(main)
    refused = [a for a in burst if a.status == 503]
    served = [a for a in burst if a.status == 200]
    assert len(refused) == 5 and len(served) == 5, sorted((a.status, round(a.ms)) for a in burst)
    assert all(a.ms < 60.0 for a in refused), [a.ms for a in refused]
    assert sorted(round(a.ms, -2) for a in served) == [100, 100, 200, 200, 300]
    assert [a.status for a in after] == [200, 200, 200]
    assert all(a.ms < 180.0 for a in after)
    assert metrics['abc_target_errors_total{reason="overload",request="trade_execution"}'] == 5
    assert metrics['abc_target_requests_total{request="trade_execution"}'] == 13
    assert metrics["abc_target_queue_length"] == 0 and metrics["abc_target_workers_busy"] == 0


def test_a_workflow_holds_a_worker_per_stage_and_requeues_between_them(serve: Serve) -> None:
    """1 worker, 100 ms per stage. A workflow, then 20 ms later a data request: the data
    request waits only for the workflow's first stage (~200 ms), the workflow's later
    stages queue behind it and it ends after five service times (~500 ms)."""
    target = serve(fixed_scenario(100.0, workers=1))

    async def main(session: aiohttp.ClientSession) -> tuple[Answer, Answer]:
        await _warm(session, target.url, 2)
        workflow = asyncio.ensure_future(call(session, target, "multi_agent_workflow"))
        await asyncio.sleep(0.02)
        data = await call(session, target, "data_collection")
        return await workflow, data

    workflow, data = run(main)
    assert 170.0 <= data.ms < 300.0, data.ms
    assert 480.0 <= workflow.ms < 700.0, workflow.ms
    assert data.done < workflow.done
    assert [s["service_ms"] for s in workflow.body["workflow"]["stages"]] == [100.0] * 4
