"""One request of the schedule, rendered, sent and classified.

Every request says it is synthetic (``X-ABC-Synthetic: 1``), which event it
is (``X-ABC-Event-Id``) and which agent type sent it (``X-ABC-Agent-Type``),
so the ABC system can tell replayed traffic from real traffic in its logs.
What else it carries is the scenario's request template
(:mod:`abcsim.replay.templates`): with none, a data-collection request for 20
symbols goes out as ``POST /api/v1/agents/data-collection`` with the JSON body
``{"size":20,"event_id":7}``, and a GET carries ``?size=20``. The result is a
status and one of the results outcomes — ``ok``, ``http_error``,
``timeout``, ``connection_error`` — with a short reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from abcsim.replay.http import HttpClient, RequestHead
from abcsim.replay.recorder import CONNECTION_ERROR, HTTP_ERROR, OK, TIMEOUT
from abcsim.replay.templates import Row, Templates


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: int
    nbytes: int
    error: str


class Client:
    """Sends schedule events to one target, each rendered from its request type's templates."""

    def __init__(self, http: HttpClient, templates: Templates) -> None:
        self._http = http
        self._routes = [
            (RequestHead.build(http.origin, r.method, user_agent=not r.has_user_agent), r)
            for r in templates.routes
        ]

    def render(self, request: int, row: Row) -> bytes:
        """The request's bytes, exactly as they go on the wire."""
        head, route = self._routes[request]
        body = None if route.body is None else route.body.render(row)
        return head.render(route.target.render(row), route.header_lines.render(row), body)

    async def send(self, request: int, row: Row) -> Answer:
        try:
            response = await self._http.request(self.render(request, row))
        except TimeoutError:
            return Answer(0, TIMEOUT, 0, "timeout")
        except OSError as exc:  # refused, reset, closed early, malformed answer
            return Answer(0, CONNECTION_ERROR, 0, reason(exc))
        return answered(response.status, response.nbytes)


def answered(status: int, nbytes: int) -> Answer:
    """An answer as results record it: ``ok``, or ``http_error`` with ``HTTP 503``."""
    if status >= 400:
        return Answer(status, HTTP_ERROR, nbytes, f"HTTP {status}")
    return Answer(status, OK, nbytes, "")


def reason(exc: BaseException) -> str:
    """A short, stable reason: the exception's kind and its first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
