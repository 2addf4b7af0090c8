"""One request of the schedule, formatted, sent and classified.

Every request says it is synthetic (``X-ABC-Synthetic: 1``), which event it
is (``X-ABC-Event-Id``) and which agent type sent it (``X-ABC-Agent-Type``),
so the ABC system can tell replayed traffic from real traffic in its logs. A
data-collection request for 20 symbols goes out as
``POST /api/v1/agents/data-collection`` with the JSON body
``{"size": 20, "event_id": 7}``; a GET carries ``?size=20``. The result is a
status and one of the results outcomes — ``ok``, ``http_error``,
``timeout``, ``connection_error`` — with a short reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from abcsim.replay.http import HttpClient, Origin, RequestHead
from abcsim.replay.recorder import CONNECTION_ERROR, HTTP_ERROR, OK, TIMEOUT
from abcsim.scenario.spec import REQUEST_TYPES, Endpoint

_JSON = (("Content-Type", "application/json"), ("X-ABC-Synthetic", "1"))
_NO_BODY = (("X-ABC-Synthetic", "1"),)


def json_body(size: int, event_id: int) -> bytes:
    """The body of every request that has one: ``{"size": 20, "event_id": 7}``."""
    return b'{"size": %d, "event_id": %d}' % (size, event_id)


def with_size(path: str, size: int) -> str:
    """A GET's path with its size: ``/api/v1/health?size=20`` (``&size=`` after a query)."""
    return f"{path}{'&' if '?' in path else '?'}size={size}"


def request_headers(event_id: int, agent_type: str, *, has_body: bool) -> dict[str, str]:
    """The headers of one request, as a mapping (for clients that take one, e.g. Locust's)."""
    headers = dict(_JSON if has_body else _NO_BODY)
    headers["X-ABC-Event-Id"] = str(event_id)
    headers["X-ABC-Agent-Type"] = agent_type
    return headers


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: int
    nbytes: int
    error: str


@dataclass(frozen=True)
class _Route:
    head: RequestHead
    has_body: bool
    query_joint: bytes  # "?" or "&" before size=, if the path has a query already


class Client:
    """Sends schedule events to one target; a request type's fixed parts are rendered once."""

    def __init__(
        self,
        http: HttpClient,
        endpoints: tuple[tuple[str, Endpoint], ...],
        agent_types: tuple[str, ...],
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        table = dict(endpoints)
        self._http = http
        self._routes = [_route(http.origin, table[r], headers) for r in REQUEST_TYPES]
        self._agent_headers = [f"X-ABC-Agent-Type: {a}\r\n".encode() for a in agent_types]

    def render(self, event_id: int, agent_type: int, request: int, size: int) -> bytes:
        """The request's bytes, exactly as they go on the wire."""
        route = self._routes[request]
        headers = b"X-ABC-Event-Id: %d\r\n%s" % (event_id, self._agent_headers[agent_type])
        if route.has_body:
            return route.head.render(b"", headers, json_body(size, event_id))
        return route.head.render(b"%ssize=%d" % (route.query_joint, size), headers, None)

    async def send(self, event_id: int, agent_type: int, request: int, size: int) -> Answer:
        try:
            response = await self._http.request(self.render(event_id, agent_type, request, size))
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


def _route(origin: Origin, endpoint: Endpoint, extra: tuple[tuple[str, str], ...] = ()) -> _Route:
    """A request type's fixed part; ``extra`` headers (``--header``) are rendered into it
    once, replacing abcsim's own of the same name (Content-Type, say)."""
    has_body = endpoint.method != "GET"
    given = {name.lower() for name, _ in extra}
    fixed = tuple(h for h in (_JSON if has_body else _NO_BODY) if h[0].lower() not in given)
    head = RequestHead.build(origin, endpoint.method, endpoint.path, (*fixed, *extra))
    return _Route(head, has_body, b"&" if "?" in endpoint.path else b"?")


def reason(exc: BaseException) -> str:
    """A short, stable reason: the exception's kind and its first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
