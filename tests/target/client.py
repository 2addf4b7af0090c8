"""A small aiohttp client for the target tests: call an endpoint, read metrics, set faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from abcsim.target import RunningTarget

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    status: int
    ms: float  # client-side, send to end of body
    body: dict[str, Any]
    headers: dict[str, str]
    done: float  # time.perf_counter() when the body was read


def run(main: Callable[[aiohttp.ClientSession], Awaitable[T]], *, connections: int = 200) -> T:
    """Run ``main(session)`` in a fresh loop with a session of up to ``connections`` sockets."""

    async def go() -> T:
        connector = aiohttp.TCPConnector(limit=connections)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            return await main(session)

    return asyncio.run(go())


async def call(
    session: aiohttp.ClientSession,
    target: RunningTarget,
    request: str,
    *,
    size: int | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send one request of a type as the replayer would: ``size`` in a JSON body for POST,
    as ``?size=`` for GET."""
    method, url = target.endpoint(request)
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if size is not None:
        if method == "GET":
            kwargs["params"] = {"size": str(size)}
        else:
            kwargs["json"] = {"size": size}
    began = time.perf_counter()
    async with session.request(method, url, **kwargs) as response:
        body = await response.json(content_type=None)
        done = time.perf_counter()
        return Answer(response.status, (done - began) * 1000.0, body, dict(response.headers), done)


async def set_faults(
    session: aiohttp.ClientSession, target: RunningTarget, faults: dict[str, Any] | None
) -> dict[str, Any]:
    """POST the changes to ``/_admin/faults`` (None: DELETE, all off); returns the new state."""
    url = f"{target.url}/_admin/faults"
    request = session.delete(url) if faults is None else session.post(url, json=faults)
    async with request as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


async def scrape(session: aiohttp.ClientSession, target: RunningTarget) -> dict[str, float]:
    """``/metrics`` parsed with prometheus_client's parser: ``'name{a="x",b="y"}'`` → value.

    Labels are sorted by name, so ``abc_target_errors_total{reason="reset",request="x"}``.
    """
    async with session.get(f"{target.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


@contextmanager
def elapsed() -> Iterator[Callable[[], float]]:
    """``with elapsed() as ms: ...; ms()`` — wall milliseconds since the block began."""
    began = time.perf_counter()
    yield lambda: (time.perf_counter() - began) * 1000.0
