"""Each fault does what it says, and the admin endpoint switches it on and off at runtime.

Fault draws use the target's seed (1 unless stated), so the counts are reproducible.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.conftest import Serve, fixed_scenario
from tests.target.client import Answer, call, run, scrape, set_faults


def test_error_rate_gives_500s_then_switches_off(serve: Serve) -> None:
    target = serve(
        fixed_scenario(1.0, workers=16, queue_limit=1000), faults=["error_rate=0.3"], seed=1
    )

    async def main(session: aiohttp.ClientSession) -> tuple[list[int], list[int], dict[str, float]]:
        faulty = await asyncio.gather(*(call(session, target, "risk_analysis") for _ in range(200)))
        await set_faults(session, target, {"error_rate": "off"})
        healthy = [await call(session, target, "risk_analysis") for _ in range(20)]
        return (
            [a.status for a in faulty],
            [a.status for a in healthy],
            await scrape(session, target),
        )

    faulty, healthy, metrics = run(main)
    assert set(faulty) == {200, 500}
    assert 40 <= faulty.count(500) <= 80  # 0.3 of 200 = 60; binomial sd 6.5
    assert healthy == [200] * 20
    errors = metrics['abc_target_errors_total{reason="error",request="risk_analysis"}']
    assert errors == faulty.count(500)


def test_latency_spikes_hold_a_fraction_for_a_duration(serve: Serve) -> None:
    target = serve(fixed_scenario(10.0, workers=64))

    async def main(session: aiohttp.ClientSession) -> tuple[list[Answer], list[Answer]]:
        await set_faults(session, target, {"spike_rate": 0.5, "spike_ms": 300})
        spiky = await asyncio.gather(*(call(session, target, "trade_execution") for _ in range(40)))
        await set_faults(session, target, {"spike_rate": "off"})
        calm = await asyncio.gather(*(call(session, target, "trade_execution") for _ in range(20)))
        return list(spiky), list(calm)

    spiky, calm = run(main)
    slow = [a for a in spiky if a.body["service_ms"] > 100.0]
    assert 8 <= len(slow) <= 32  # half of 40
    assert all(a.body["service_ms"] == 310.0 and a.ms >= 300.0 for a in slow)
    assert all(a.ms < 250.0 for a in spiky if a not in slow)
    assert all(a.status == 200 and a.body["service_ms"] == 10.0 for a in calm)


def test_stall_window_holds_every_request_until_its_end(serve: Serve) -> None:
    """A stall from +0.4 s to +1.2 s (from when it is set): a request before it is
    unaffected; one in service as it begins and two arriving inside it all answer at
    its end; one after it is normal. Service is a fixed 50 ms."""
    target = serve(fixed_scenario(50.0, workers=8))

    async def main(session: aiohttp.ClientSession) -> dict[str, Answer]:
        loop = asyncio.get_running_loop()
        uptime = (await set_faults(session, target, {}))["uptime_s"]
        now = loop.time()  # ~ the server's uptime `uptime`
        await set_faults(session, target, {"stall": [uptime + 0.4, uptime + 1.2]})

        async def at(offset_s: float, name: str) -> tuple[str, Answer]:
            await asyncio.sleep(now + offset_s - loop.time())
            return name, await call(session, target, "data_collection")

        moments = {"before": 0.1, "straddling": 0.38, "inside": 0.6, "late": 1.0, "after": 1.4}
        return dict(await asyncio.gather(*(at(t, name) for name, t in moments.items())))

    answers = run(main)
    timings = {name: round(a.ms) for name, a in answers.items()}
    assert all(a.status == 200 for a in answers.values())
    assert answers["before"].ms < 150.0 and answers["after"].ms < 150.0, timings
    # Straddling (in service at +0.4), inside and late all end together at +1.2 (+50 ms).
    ends = sorted(answers[n].done for n in ("straddling", "inside", "late"))
    assert ends[-1] - ends[0] < 0.15, timings
    assert answers["straddling"].ms >= 700.0, timings  # sent at +0.38
    assert answers["inside"].ms >= 550.0, timings  # sent at +0.6
    assert answers["late"].ms >= 180.0, timings  # sent at +1.0


def test_stall_switched_off_releases_waiting_requests(serve: Serve) -> None:
    target = serve(fixed_scenario(10.0, workers=8))

    async def main(session: aiohttp.ClientSession) -> tuple[Answer, float]:
        state = await set_faults(session, target, {})
        await set_faults(session, target, {"stall": [0, state["uptime_s"] + 60]})
        waiting = asyncio.ensure_future(call(session, target, "data_collection"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        switched = asyncio.get_running_loop().time()
        await set_faults(session, target, {"stall": "off"})
        answer = await waiting
        return answer, asyncio.get_running_loop().time() - switched

    answer, after_off = run(main)
    assert answer.status == 200 and answer.ms >= 300.0
    assert after_off < 0.2


def test_connection_resets(serve: Serve) -> None:
    target = serve(fixed_scenario(5.0, workers=8), faults=["reset_rate=1"])

    async def main(session: aiohttp.ClientSession) -> tuple[list[str], list[int], dict[str, float]]:
        failures = []
        for _ in range(5):
            with pytest.raises(aiohttp.ClientConnectionError) as caught:
                await call(session, target, "trade_execution")
            failures.append(type(caught.value).__name__)
        await set_faults(session, target, {"reset_rate": 0})
        healthy = [(await call(session, target, "trade_execution")).status for _ in range(5)]
        return failures, healthy, await scrape(session, target)

    failures, healthy, metrics = run(main)
    assert len(failures) == 5
    assert healthy == [200] * 5
    assert metrics['abc_target_errors_total{reason="reset",request="trade_execution"}'] == 5
    assert metrics['abc_target_requests_total{request="trade_execution"}'] == 10


def test_memory_leak_grows_resident_memory_and_stops_when_off(serve: Serve) -> None:
    target = serve(fixed_scenario(1.0, workers=8))
    mib = 2**20

    async def main(session: aiohttp.ClientSession) -> list[dict[str, float]]:
        before = await scrape(session, target)
        await set_faults(session, target, {"leak_bytes": "1M"})
        for _ in range(48):
            await call(session, target, "data_collection")
        leaking = await scrape(session, target)
        await set_faults(session, target, {"leak_bytes": "off"})
        for _ in range(10):
            await call(session, target, "data_collection")
        return [before, leaking, await scrape(session, target)]

    before, leaking, after = run(main)
    assert before["abc_target_leaked_bytes"] == 0
    assert leaking["abc_target_leaked_bytes"] == 48 * mib
    grew = leaking["process_resident_memory_bytes"] - before["process_resident_memory_bytes"]
    assert grew >= 32 * mib, grew / mib
    assert after["abc_target_leaked_bytes"] == 48 * mib  # off: no more leaks (none freed either)


def test_admin_rejects_unknown_or_bad_faults_and_changes_nothing(serve: Serve) -> None:
    target = serve(fixed_scenario(1.0), faults=["error_rate=0.1"])
    url = f"{target.url}/_admin/faults"

    async def main(session: aiohttp.ClientSession) -> list[tuple[int, str]]:
        out = []
        for body in ({"nope": 1}, {"spike_rate": 0.5, "error_rate": 7}, [1, 2], {"stall": "5:2"}):
            async with session.post(url, json=body) as response:
                out.append((response.status, await response.text()))
        async with session.get(url) as response:
            out.append((response.status, await response.text()))
        async with session.delete(url) as response:
            out.append((response.status, await response.text()))
        return out

    *bad, current, cleared = run(main)
    assert [status for status, _ in bad] == [400] * 4
    assert "unknown fault" in bad[0][1] and "error_rate" in bad[1][1] and "stall" in bad[3][1]
    assert '"faults": {"error_rate": 0.1}' in current[1]  # spike_rate was not half-applied
    assert '"faults": {}' in cleared[1]
