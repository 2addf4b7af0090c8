"""One HTTP request of the schedule, sent with aiohttp and classified.

Every request says it is synthetic (``X-ABC-Synthetic: 1``) and which event
it is (``X-ABC-Event-Id``), so the ABC system can tell replayed traffic
from real traffic in its logs. A data-collection request for 20 symbols goes
out as ``POST /api/v1/agents/data-collection`` with body ``{"size": 20, ...}``;
a GET carries ``?size=20``. The result is a status and one of the results
outcomes — ``ok``, ``http_error``, ``timeout``, ``connection_error`` — with a
short reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from abcsim.replay.recorder import CONNECTION_ERROR, HTTP_ERROR, OK, TIMEOUT
from abcsim.scenario.spec import REQUEST_TYPES, Endpoint


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: int
    nbytes: int
    error: str


class Client:
    """Sends schedule events to one target over one shared session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        endpoints: tuple[tuple[str, Endpoint], ...],
        agent_types: tuple[str, ...],
    ) -> None:
        table = dict(endpoints)
        base = base_url.rstrip("/")
        self._session = session
        self._routes = [(table[r].method, base + table[r].path) for r in REQUEST_TYPES]
        self._agent_types = agent_types

    async def send(self, event_id: int, agent_type: int, request: int, size: int) -> Answer:
        method, url = self._routes[request]
        headers = {
            "X-ABC-Synthetic": "1",
            "X-ABC-Event-Id": str(event_id),
            "X-ABC-Agent-Type": self._agent_types[agent_type],
        }
        body = {"size": size, "event_id": event_id} if method != "GET" else None
        params = {"size": str(size)} if method == "GET" else None
        try:
            async with self._session.request(
                method, url, json=body, params=params, headers=headers, allow_redirects=False
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    return Answer(
                        response.status, HTTP_ERROR, len(payload), f"HTTP {response.status}"
                    )
                return Answer(response.status, OK, len(payload), "")
        except TimeoutError:
            return Answer(0, TIMEOUT, 0, "timeout")
        except (aiohttp.ClientError, OSError) as exc:
            return Answer(0, CONNECTION_ERROR, 0, reason(exc))


def reason(exc: BaseException) -> str:
    """A short, stable reason: the exception's kind and its first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
