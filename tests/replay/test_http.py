"""The lean HTTP/1.1 client against real servers on 127.0.0.1.

Each test starts a raw asyncio server that answers as a given kind of server
would — keep-alive, ``Connection: close``, chunked, length by close, truncated,
silent, malformed — and checks what the client makes of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from abcsim.replay.client import Answer, Client
from abcsim.replay.http import (
    USER_AGENT,
    HttpClient,
    Origin,
    ProtocolError,
    RequestHead,
    ServerDisconnectedError,
)
from abcsim.replay.keepalive import IdleLimit
from abcsim.replay.recorder import CONNECTION_ERROR, HTTP_ERROR, OK, TIMEOUT
from abcsim.replay.templates import Templates
from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.scenario.spec import Endpoint

T = TypeVar("T")
Answerer = Callable[[bytes], bytes | None]  # a whole request -> the bytes to answer, None: hang
OK_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request (head, and a body by Content-Length), or None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _against(handle: Handler, client_side: Callable[[HttpClient], Awaitable[T]], *,
             timeout_s: float) -> T:  # fmt: skip
    """Run ``client_side`` against a loopback server of ``handle`` on a free port."""

    async def main() -> T:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        http = HttpClient(Origin.parse(f"http://127.0.0.1:{port}"), timeout_s=timeout_s)
        try:
            return await client_side(http)
        finally:
            http.close()
            server.close()

    return asyncio.run(main())


def _run_with_server(
    answer: Answerer, client_side: Callable[[HttpClient], Awaitable[T]]
) -> tuple[T, int, list[bytes]]:
    """Serve ``answer`` on a free port and run ``client_side`` against it; returns its
    result, how many connections the server accepted and the requests it received."""
    received: list[bytes] = []
    accepted = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            while (request := await _read_request(reader)) is not None:
                received.append(request)
                reply = answer(request)
                if reply is None:
                    await asyncio.sleep(3600)  # hang: the client's deadline must end it
                writer.write(reply or b"")
                await writer.drain()
                if b"Connection: close" in (reply or b"") or b"HTTP/1.0" in (reply or b""):
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    return _against(handle, client_side, timeout_s=1.0), accepted, received


def _get(path: str = "/x") -> bytes:
    return RequestHead.build(Origin("http", "h", 80, ""), "GET", path).render(b"", b"", None)


def test_keep_alive_reuses_one_connection() -> None:
    async def twenty(http: HttpClient) -> list[int]:
        return [(await http.request(_get())).nbytes for _ in range(20)]

    sizes, accepted, _ = _run_with_server(lambda _: OK_ANSWER, twenty)
    assert sizes == [5] * 20
    assert accepted == 1


def test_concurrent_requests_open_one_connection_each() -> None:
    async def eight(http: HttpClient) -> int:
        answers = await asyncio.gather(*(http.request(_get()) for _ in range(8)))
        assert [a.status for a in answers] == [200] * 8
        return http.connections

    open_after, accepted, _ = _run_with_server(lambda _: OK_ANSWER, eight)
    assert accepted == open_after == 8


def test_connection_close_is_honoured_and_the_next_request_reconnects() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def three(http: HttpClient) -> list[int]:
        return [(await http.request(_get())).status for _ in range(3)]

    statuses, accepted, _ = _run_with_server(lambda _: closing, three)
    assert statuses == [200, 200, 200]
    assert accepted == 3


def test_chunked_and_close_delimited_bodies_are_counted() -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    )
    by_close = b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * 1000

    async def one(http: HttpClient) -> tuple[int, int]:
        answer = await http.request(_get())
        return answer.status, answer.nbytes

    assert _run_with_server(lambda _: chunked, one)[0] == (201, 7)
    assert _run_with_server(lambda _: by_close, one)[0] == (200, 1000)


def test_a_truncated_answer_is_a_disconnect_not_a_short_success() -> None:
    truncated = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\nonly ten b"

    async def one(http: HttpClient) -> None:
        await http.request(_get())

    with pytest.raises(ServerDisconnectedError):
        _run_with_server(lambda _: truncated, one)


def test_a_malformed_answer_is_a_protocol_error_and_the_connection_is_dropped() -> None:
    async def one(http: HttpClient) -> int:
        with pytest.raises(ProtocolError):
            await http.request(_get())
        return http.connections

    assert _run_with_server(lambda _: b"SMTP ready\r\n\r\n", one)[0] == 0


def test_a_silent_server_times_out_and_the_connection_is_not_reused() -> None:
    async def one(http: HttpClient) -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(TimeoutError):
            await http.request(_get())
        return loop.time() - began, http.connections

    (waited, open_after), _, _ = _run_with_server(lambda _: None, one)
    assert 0.9 <= waited < 3.0  # timeout_s is 1.0; generous above for a loaded machine
    assert open_after == 0


def test_a_refused_connection_raises_oserror() -> None:
    async def main() -> None:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()  # the port is free now: nobody listens
        http = HttpClient(Origin.parse(f"http://127.0.0.1:{port}"), timeout_s=1.0)
        with pytest.raises(ConnectionRefusedError):
            await http.request(_get())

    asyncio.run(main())


def test_origin_and_host_header() -> None:
    assert Origin.parse("http://127.0.0.1:8080/abc/") == Origin("http", "127.0.0.1", 8080, "/abc")
    assert Origin.parse("https://staging.abc.internal").port == 443
    assert Origin.parse("http://[::1]:9000").host_header == "[::1]:9000"
    assert Origin.parse("http://example.test:80").host_header == "example.test"
    with pytest.raises(ValueError, match="expected http"):
        Origin.parse("ftp://example.test")


class _Sender:
    """A Client with the scenario's templates, sending made-up events."""

    def __init__(self, http: HttpClient, endpoints: tuple[tuple[str, Endpoint], ...]) -> None:
        spec = load_scenario("smoke")
        self.templates = Templates(
            endpoints,
            ("trading", "hft"),
            seed=spec.seed,
            schedule_start=spec.start,
            payloads=spec.payloads,
        )
        self.client = Client(http, self.templates)

    async def send(self, event_id: int, agent_type: int, request: int, size: int) -> Answer:
        row = self.templates.row(event_id, request, size=size, agent_type=agent_type)
        return await self.client.send(request, row)


def _client(http: HttpClient, endpoints: tuple[tuple[str, Endpoint], ...]) -> _Sender:
    return _Sender(http, endpoints)


def test_replay_requests_carry_the_headers_and_body_on_the_wire() -> None:
    """A POST with a JSON body and a GET with ?size=, as the target and Locust read them."""
    endpoints = dict(load_scenario("smoke").endpoints)
    endpoints["health_check"] = Endpoint("GET", "/health?deep=1")
    table = tuple(endpoints.items())
    post, get = REQUEST_TYPES.index("data_collection"), REQUEST_TYPES.index("health_check")

    async def two(http: HttpClient) -> list[int]:
        client = _client(http, table)
        first = await client.send(41, 1, post, 20)
        second = await client.send(42, 0, get, 3)
        return [first.outcome, second.outcome]

    outcomes, _, wire = _run_with_server(lambda _: OK_ANSWER, two)
    assert outcomes == [OK, OK]
    head, body = wire[0].split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST " + endpoints["data_collection"].path.encode() + b" HTTP/1.1"
    assert body == b'{"size":20,"event_id":41}'
    for header in (
        b"Host: 127.0.0.1:",
        b"X-ABC-Synthetic: 1",
        b"X-ABC-Event-Id: 41",
        b"X-ABC-Agent-Type: hft",
        b"Content-Type: application/json",
        b"Content-Length: 25",
        f"User-Agent: {USER_AGENT}".encode(),
    ):
        assert any(line.startswith(header) for line in lines), header
    get_lines = wire[1].split(b"\r\n")
    assert get_lines[0] == b"GET /health?deep=1&size=3 HTTP/1.1"
    assert b"X-ABC-Agent-Type: trading" in get_lines
    assert not any(line.startswith(b"Content-Length") for line in get_lines)


def test_answers_are_classified_as_replay_outcomes() -> None:
    answers = iter(
        [
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
            None,
            b"junk\r\n\r\n",
        ]
    )
    endpoints = load_scenario("smoke").endpoints

    async def three(http: HttpClient) -> list[tuple[int, int, str]]:
        client = _client(http, endpoints)
        found = []
        for event in range(3):
            answer = await client.send(event, 0, 0, 1)
            found.append((answer.outcome, answer.status, answer.error))
        return found

    found, _, _ = _run_with_server(lambda _: next(answers), three)
    assert found[0] == (HTTP_ERROR, 503, "HTTP 503")
    assert found[1] == (TIMEOUT, 0, "timeout")
    assert found[2][0] == CONNECTION_ERROR and found[2][2].startswith("ProtocolError: malformed")


def _closes_when_reused(
    client_side: Callable[[HttpClient], Awaitable[T]], *, first: bool = True, partial: bytes = b""
) -> tuple[T, int]:
    """A server that answers the first request on a connection (unless not ``first``), and
    resets the connection when the next one arrives, unread and unanswered (or after
    ``partial``, the start of an answer): to the client, exactly a server that closed an
    idle keep-alive connection as the request went out (gunicorn at 2 s idle)."""
    accepted = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        if await _read_request(reader) is None:
            return
        if first:
            writer.write(OK_ANSWER)
            await writer.drain()
            await reader.read(1)  # the next request is here: drop the connection under it
        writer.write(partial)
        await writer.drain()
        writer.transport.abort()

    return _against(handle, client_side, timeout_s=2.0), accepted


def _post(key: bool) -> bytes:
    headers = (("Idempotency-Key", "abc-1-42"),) if key else ()
    head = RequestHead.build(Origin("http", "h", 80, ""), "POST", "/orders", headers)
    return head.render(b"", b"", b'{"side":"buy"}')


@pytest.mark.parametrize(
    ("request_bytes", "safe"),
    [(_get(), True), (_post(key=True), True), (_post(key=False), False)],
    ids=["GET", "POST with Idempotency-Key", "POST without"],
)
def test_a_request_on_a_connection_closed_while_idle_is_resent_only_when_safe(
    request_bytes: bytes, safe: bool
) -> None:
    """Sent again on a fresh connection, and counted, when the method is idempotent or the
    request has an Idempotency-Key; otherwise the failure is recorded, not hidden."""

    async def two(http: HttpClient) -> tuple[list[str], int]:
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append(str((await http.request(request_bytes)).status))
            except ConnectionError as exc:
                outcomes.append(type(exc).__name__)
        return outcomes, http.resent

    (outcomes, resent), accepted = _closes_when_reused(two)
    if safe:
        assert (outcomes, resent, accepted) == (["200", "200"], 1, 2)
    else:
        assert outcomes[0] == "200" and outcomes[1] != "200"
        assert (resent, accepted) == (0, 1)


def test_a_fresh_connection_or_a_begun_answer_is_not_resent() -> None:
    """Only a *reused* connection may have been closed while idle, and only before any of
    the answer came: a new connection that fails, or an answer cut short, is the server's
    failure to record."""

    async def two(http: HttpClient) -> tuple[list[str], int]:
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append(str((await http.request(_get())).status))
            except ConnectionError as exc:
                outcomes.append(type(exc).__name__)
        return outcomes, http.resent

    (outcomes, resent), accepted = _closes_when_reused(two, first=False)
    assert outcomes == ["ServerDisconnectedError"] * 2 and (resent, accepted) == (0, 2)
    begun = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"
    (outcomes, resent), accepted = _closes_when_reused(two, partial=begun)
    assert outcomes == ["200", "ServerDisconnectedError"] and (resent, accepted) == (0, 1)


def test_the_idle_limit_is_learned_from_the_server_closing_idle_connections() -> None:
    """A server that closes connections idle for 0.6 s: once the client has seen it do so,
    it reuses a connection only while younger than half that (0.3 s), so it never writes
    onto one at the moment the server closes it; a Keep-Alive header teaches it at once."""
    accepted = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            while True:
                request = await asyncio.wait_for(_read_request(reader), 0.6)
                if request is None:
                    break
                writer.write(OK_ANSWER)
                await writer.drain()
        except TimeoutError:
            pass  # idle for 0.6 s: closed, as gunicorn does after its keep-alive time
        finally:
            writer.close()

    async def main() -> tuple[list[int], float]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        http = HttpClient(Origin.parse(f"http://127.0.0.1:{port}"), timeout_s=2.0)
        seen = []
        try:
            for pause in (0.0, 0.9, 0.45, 0.0):  # the server closes the first one in the 0.9
                await asyncio.sleep(pause)
                await http.request(_get())
                seen.append(accepted)
            return seen, http.idle_limit.limit_s
        finally:
            http.close()
            server.close()

    seen, limit = asyncio.run(main())
    assert limit == pytest.approx(0.3, abs=0.05)
    # a new connection after the close, another after 0.45 s (past the limit), then reuse
    assert seen == [1, 2, 3, 3]


def test_a_keep_alive_header_sets_the_idle_limit() -> None:
    limit = IdleLimit()
    assert limit.limit_s == 1.0  # nothing known yet
    limit.server_says(b"timeout=4, max=100")
    assert limit.limit_s == 2.0
    limit.server_kept(300.0)  # keeping one through 300 s does not lift a stated timeout
    assert limit.limit_s == 2.0
    unknown = IdleLimit()
    unknown.server_kept(120.0)
    assert unknown.limit_s == 60.0
