"""Every endpoint of the scenario's table answers, with a body shaped like its agent's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from abcsim import ScenarioError
from abcsim.scenario import REQUEST_TYPES, Scenario, load_scenario
from abcsim.scenario.spec import Endpoint
from abcsim.target import RunningTarget
from tests.conftest import Serve, fixed_scenario
from tests.target.client import call, run


def test_every_endpoint_answers_with_its_shape(serve: Serve) -> None:
    target = serve(fixed_scenario(5.0, workers=8))
    event = {"X-ABC-Event-Id": "1234", "X-ABC-Synthetic": "1"}

    async def main(session: aiohttp.ClientSession) -> dict[str, dict[str, Any]]:
        bodies = {}
        for request in REQUEST_TYPES:
            answer = await call(session, target, request, size=3, headers=event)
            assert answer.status == 200, (request, answer.body)
            assert answer.headers["X-ABC-Event-Id"] == "1234"
            assert answer.headers["X-ABC-Synthetic"] == "1"
            assert answer.body["request"] == request and answer.body["event_id"] == "1234"
            bodies[request] = answer.body
        return bodies

    bodies = run(main)
    assert {e.method for _, e in target.scenario.endpoints} == {"GET", "POST"}
    quotes = bodies["data_collection"]
    assert quotes["count"] == 3 and len(quotes["quotes"]) == 3
    assert set(bodies["strategy_analysis"]["signal"]) >= {"symbol", "action", "confidence"}
    assert bodies["risk_analysis"]["risk"]["positions"] == 3
    assert bodies["trade_execution"]["order"]["status"] == "accepted"
    stages = [s["stage"] for s in bodies["multi_agent_workflow"]["workflow"]["stages"]]
    assert stages == ["data_collection", "strategy_analysis", "risk_analysis", "trade_execution"]
    assert bodies["health_check"]["status"] == "ok"  # GET: size came as ?size=3
    assert bodies["health_check"]["size"] == 3


def test_size_from_body_or_query_and_bad_sizes(serve: Serve) -> None:
    target = serve(fixed_scenario(1.0, workers=8))
    _, url = target.endpoint("data_collection")

    async def main(session: aiohttp.ClientSession) -> list[tuple[int, object]]:
        out = []
        for kwargs in (
            {"json": {"size": 20}},
            {"params": {"size": "7"}},
            {"params": {"size": "7"}, "json": {"size": 9}},  # the body wins
            {},  # neither: 1
            {"json": {"size": 1500}},  # more than one answer's quotes
            {"json": {"size": 0}},
            {"json": {"size": "many"}},
            {"params": {"size": "2.5"}},
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        ):
            async with session.post(url, **kwargs) as response:
                body = await response.json()
                out.append((response.status, body.get("count", body.get("error"))))
        return out

    answers = run(main)
    assert answers[:5] == [(200, 20), (200, 7), (200, 9), (200, 1), (200, 1500)]
    assert [status for status, _ in answers[5:]] == [400, 400, 400, 400]
    assert "size" in str(answers[5][1]) and "JSON" in str(answers[8][1])


def test_a_large_request_takes_longer_per_item(serve: Serve) -> None:
    """abc_week: a strategy analysis costs 0.5 ms per item beyond the first (1,000: +499.5 ms)."""
    target = serve("abc_week")

    async def main(session: aiohttp.ClientSession) -> tuple[float, float]:
        small = await call(session, target, "strategy_analysis", size=1)
        large = await call(session, target, "strategy_analysis", size=1000)
        return small.body["service_ms"], large.body["service_ms"]

    small, large = run(main)
    assert large - small > 150.0  # the lognormal parts differ; 499.5 ms is added to one of them
    assert large >= 499.5


def test_own_endpoints(target: RunningTarget) -> None:
    async def main(session: aiohttp.ClientSession) -> list[tuple[int, str]]:
        out = []
        for path in ("/health", "/metrics", "/_admin/faults", "/nope"):
            async with session.get(target.url + path) as response:
                out.append((response.status, await response.text()))
        return out

    health, metrics, faults, missing = run(main)
    assert health[0] == 200 and '"status": "ok"' in health[1]
    assert '"memory_limit_bytes": 2147483648' in health[1]  # abc_week: 2048 MB
    assert metrics[0] == 200 and "abc_target_requests_total" in metrics[1]
    assert faults[0] == 200 and '"faults": {}' in faults[1]
    assert missing[0] == 404


def test_target_url_is_loopback_on_a_free_port(serve: Serve) -> None:
    first, second = serve("smoke"), serve("smoke")
    assert first.url.startswith("http://127.0.0.1:") and first.port > 0
    assert first.port != second.port  # two servers in one process, each its own


def _with_endpoint(request: str, method: str, path: str) -> Scenario:
    smoke = load_scenario("smoke")
    endpoints = tuple(
        (r, Endpoint(method, path) if r == request else e) for r, e in smoke.endpoints
    )
    return replace(smoke, endpoints=endpoints)


def test_scenario_paths_that_meet_the_targets_own(serve: Serve) -> None:
    # A scenario that serves GET /health itself keeps it (queued, with its service time).
    target = serve(_with_endpoint("health_check", "GET", "/health"))

    async def main(session: aiohttp.ClientSession) -> dict[str, Any]:
        return (await call(session, target, "health_check")).body

    assert run(main)["request"] == "health_check"
    for scenario, problem in (
        (_with_endpoint("risk_analysis", "GET", "/metrics"), "is the target's own path"),
        (_with_endpoint("risk_analysis", "POST", "/api/v1/agents/data-collection"), "is also"),
    ):
        with pytest.raises(ScenarioError, match=f"endpoints.risk_analysis: .*{problem}"):
            serve(scenario)


def test_paths_and_methods_not_served(target: RunningTarget) -> None:
    """What the target does not serve gets 404, or 405 with ``Allow``, as aiohttp's
    client expects of a server; GET routes answer HEAD, and ``Expect: 100-continue``
    is honoured."""
    _, data_url = target.endpoint("data_collection")

    async def main(session: aiohttp.ClientSession) -> list[tuple[int, str | None]]:
        probes = [
            ("GET", target.url + "/nope"),
            ("POST", data_url + "/"),
            ("GET", data_url),
            ("PUT", target.url + "/_admin/faults"),
            ("POST", target.url + "/health"),
            ("HEAD", target.url + "/health"),
        ]
        out = []
        for method, url in probes:
            async with session.request(method, url) as response:
                out.append((response.status, response.headers.get("Allow")))
        async with session.post(data_url, json={"size": 2}, expect100=True) as response:
            out.append((response.status, str((await response.json())["count"])))
        return out

    assert run(main) == [
        (404, None),
        (404, None),
        (405, "POST"),
        (405, "DELETE,GET,HEAD,POST"),
        (405, "GET,HEAD"),
        (200, None),
        (200, "2"),
    ]
