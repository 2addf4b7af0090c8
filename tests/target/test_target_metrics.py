"""``GET /metrics`` parses with prometheus_client's parser and counts what was sent."""

from __future__ import annotations

import asyncio

import aiohttp

from abcsim.scenario import REQUEST_TYPES
from tests.conftest import Serve, fixed_scenario
from tests.target.client import call, run, scrape

SENT = {
    "data_collection": 7,
    "strategy_analysis": 3,
    "risk_analysis": 2,
    "trade_execution": 5,
    "multi_agent_workflow": 1,
    "health_check": 4,
}


def test_counters_match_the_requests_sent(serve: Serve) -> None:
    target = serve(
        fixed_scenario(2.0, workers=8),
        env={"ABC_MAX_CONCURRENT_REQUESTS": "6", "ABC_MEMORY_LIMIT": "512M"},
    )
    _, data_url = target.endpoint("data_collection")

    async def main(session: aiohttp.ClientSession) -> tuple[dict[str, float], dict[str, float]]:
        before = await scrape(session, target)
        for request, n in SENT.items():
            await asyncio.gather(*(call(session, target, request, size=2) for _ in range(n)))
        for _ in range(2):  # bad sizes: counted as requests and as errors
            async with session.post(data_url, json={"size": -1}) as response:
                assert response.status == 400
        return before, await scrape(session, target)

    before, after = run(main)
    for request in REQUEST_TYPES:
        assert before[f'abc_target_requests_total{{request="{request}"}}'] == 0
        sent = SENT[request] + (2 if request == "data_collection" else 0)
        assert after[f'abc_target_requests_total{{request="{request}"}}'] == sent, request
        count = after[f'abc_target_request_duration_seconds_count{{request="{request}"}}']
        assert count == sent, request
        for reason in ("error", "overload", "reset"):
            assert after[f'abc_target_errors_total{{reason="{reason}",request="{request}"}}'] == 0
    bad = after['abc_target_errors_total{reason="bad_request",request="data_collection"}']
    assert bad == 2
    # The workflow's four 2 ms stages take at least 8 ms: its one observation is above 5 ms.
    bucket = 'abc_target_request_duration_seconds_bucket{le="%s",request="multi_agent_workflow"}'
    assert after[bucket % "0.005"] == 0 and after[bucket % "+Inf"] == 1
    assert after["abc_target_in_flight"] == 0 and after["abc_target_queue_length"] == 0
    assert after["abc_target_workers"] == 6  # from ABC_MAX_CONCURRENT_REQUESTS over [system]
    assert after["abc_target_memory_limit_bytes"] == 512 * 2**20  # from ABC_MEMORY_LIMIT
    assert after["process_cpu_seconds_total"] > 0
    assert after["process_resident_memory_bytes"] > 10 * 2**20


def test_gauges_show_a_busy_server(serve: Serve) -> None:
    """2 workers, 300 ms each, 5 requests at once: mid-way 5 in flight, 2 busy, 3 queued."""
    target = serve(fixed_scenario(300.0, workers=2))

    async def main(session: aiohttp.ClientSession) -> dict[str, float]:
        load = [asyncio.ensure_future(call(session, target, "risk_analysis")) for _ in range(5)]
        await asyncio.sleep(0.15)
        during = await scrape(session, target)
        await asyncio.gather(*load)
        return during

    during = run(main)
    assert during["abc_target_in_flight"] == 5
    assert during["abc_target_workers_busy"] == 2
    assert during["abc_target_queue_length"] == 3
