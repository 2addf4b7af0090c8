"""The target's HTTP/1.1 server (abcsim.target.http) spoken to byte by byte.

A router of small handlers is served on 127.0.0.1 in the test's own event loop
(the one the target runs on) and raw sockets send exactly the bytes each case
needs: pipelined requests, ``Connection: close``, HTTP/1.0, ``Expect``, chunked
and oversized bodies, malformed requests, idle and shutting-down connections.
(The target's own routes, with an independent client: test_target_endpoints.py.)
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from abcsim import eventloop
from abcsim.target.http import MAX_BODY, HttpServer, Request, Response, Router, json_response

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _echo(request: Request) -> Response:
    body = {
        "method": request.method,
        "path": request.path,
        "n": request.query("n"),
        "body": request.body.decode(),
        "type": request.content_type,
    }
    return json_response(body, headers={"X-Seen": request.headers.get("x-abc", "-")})


async def _slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query("ms") or 0) / 1000.0)
    return json_response({"slept_ms": request.query("ms")})


async def _boom(request: Request) -> Response:
    raise RuntimeError("a handler bug")


@asynccontextmanager
async def _serving(*, keepalive_s: float = 60.0) -> AsyncIterator[tuple[HttpServer, int]]:
    router = Router()
    for method in ("GET", "POST"):
        router.add(method, "/echo", _echo)
    router.add("GET", "/slow", _slow)
    router.add("GET", "/boom", _boom)
    server = HttpServer(router, keepalive_s=keepalive_s)
    sock = socket.create_server(("127.0.0.1", 0))
    await server.start(sock)
    try:
        yield server, sock.getsockname()[1]
    finally:
        await server.close(grace_s=1.0)
        sock.close()


def _run(test: Callable[[HttpServer, int], Awaitable[None]], **kwargs: Any) -> None:
    async def main() -> None:
        async with _serving(**kwargs) as (server, port):
            await asyncio.wait_for(test(server, port), timeout=20)

    eventloop.run(main())


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-case names), body (by Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    return int(status_line.split()[1]), headers, await reader.readexactly(size)


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True if the server closed the connection (EOF or reset) within 5 s."""
    try:
        return await asyncio.wait_for(reader.read(1), timeout=5) == b""
    except ConnectionResetError:
        return True


def _get(path: str, *extra: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: t", *extra, "", ""]
    return "\r\n".join(lines).encode()


def test_pipelined_requests_are_answered_in_order() -> None:
    """A slow request first, a quick one behind it: the answers keep the order."""

    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/slow?ms=100") + _get("/echo?n=2") + _get("/echo?n=3"))
        answers = [await _answer(reader) for _ in range(3)]
        assert [json.loads(body) for _, _, body in answers] == [
            {"slept_ms": "100"},
            {"method": "GET", "path": "/echo", "n": "2", "body": "", "type": ""},
            {"method": "GET", "path": "/echo", "n": "3", "body": "", "type": ""},
        ]
        assert all("connection" not in h and h["date"].endswith("GMT") for _, h, _ in answers)
        writer.close()

    _run(test)


def test_close_is_honoured_and_http_1_0_closes() -> None:
    async def test(server: HttpServer, port: int) -> None:
        for request in (
            _get("/echo", "Connection: close"),
            b"GET /echo HTTP/1.0\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, headers, _ = await _answer(reader)
            assert (status, headers["connection"]) == (200, "close")
            assert await _closed(reader)
            writer.close()
        # HTTP/1.0 that asks for keep-alive keeps the connection
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = await _answer(reader)
            assert status == 200 and "connection" not in headers
        writer.close()

    _run(test)


def test_bodies_plain_chunked_and_percent_encoded_paths() -> None:
    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        plain = b'{"size": 3}'
        writer.write(
            b"POST /e%%63ho?n=1 HTTP/1.1\r\nHost: t\r\nX-ABC: 7\r\n"
            b"Content-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(plain), plain)
        )
        status, headers, body = await _answer(reader)
        assert status == 200 and headers["x-seen"] == "7"
        assert json.loads(body) == {
            "method": "POST",
            "path": "/echo",
            "n": "1",
            "body": '{"size": 3}',
            "type": "application/json",
        }
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
        )
        status, _, body = await _answer(reader)
        assert status == 200 and json.loads(body)["body"] == "abcdefg"
        writer.close()

    _run(test)


def test_head_404_405_and_a_failing_handler() -> None:
    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/slow?ms=1"))
        body = (await _answer(reader))[2]
        writer.write(b"HEAD /slow?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n" + _get("/slow?ms=1"))
        # HEAD: the GET's headers, Content-Length included, and no body
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert f"Content-Length: {len(body)}\r\n".encode() in head
        assert (await _answer(reader))[2] == body  # the next answer follows at once
        answers = []
        for request in (
            _get("/nowhere"),
            b"DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n",
            b"POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
            _get("/boom"),
            _get("/echo"),  # still served on the same connection
        ):
            writer.write(request)
            answers.append(await _answer(reader))
        assert [(s, h.get("allow")) for s, h, _ in answers] == [
            (404, None),
            (405, "GET,HEAD,POST"),
            (405, "GET,HEAD"),
            (500, None),
            (200, None),
        ]
        assert json.loads(answers[3][2]) == {"error": "internal server error"}
        writer.close()

    _run(test)


def test_expect_100_continue_and_unmet_expectations() -> None:
    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hi")
        status, _, body = await _answer(reader)
        assert status == 200 and json.loads(body)["body"] == "hi"
        writer.write(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nExpect: x-y\r\n\r\n")
        assert (await _answer(reader))[0] == 417
        assert await _closed(reader)  # an answer the handler never saw ends the connection
        writer.close()

    _run(test)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
    ],
    ids=["malformed", "bad-length", "too-large"],
)
def test_bad_requests_get_an_answer_and_the_connection_closes(
    request_bytes: bytes, status: int
) -> None:
    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/echo?n=1") + request_bytes)
        if status == 413:
            writer.write(b"x" * (MAX_BODY + 1))
        first, second = await _answer(reader), await _answer(reader)
        assert (first[0], second[0], second[1]["connection"]) == (200, status, "close")
        assert "error" in json.loads(second[2])
        assert await _closed(reader)
        writer.close()

    _run(test)


def test_an_upgrade_is_answered_once_over_http_1_1_then_closed() -> None:
    """What ``curl --http2`` sends (h2c): the request gets its HTTP/1.1 answer, only one."""

    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/echo", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c"))
        status, headers, _ = await _answer(reader)
        assert (status, headers["connection"]) == (200, "close")
        assert await _closed(reader)
        writer.close()

    _run(test)


def test_a_client_that_half_closes_still_gets_its_answers() -> None:
    """``printf ... | nc -N``: the last request, then EOF; the answers still come."""

    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/slow?ms=50") + _get("/slow?ms=20"))
        writer.write_eof()
        first, second = await _answer(reader), await _answer(reader)
        assert (first[0], second[0], second[1]["connection"]) == (200, 200, "close")
        assert await _closed(reader)
        writer.close()

    _run(test)


def test_idle_connections_are_closed() -> None:
    async def test(server: HttpServer, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_get("/echo"))
        assert (await _answer(reader))[0] == 200
        assert await _closed(reader)  # idle for 0.2 s: the sweep closes it
        assert not server.connections
        writer.close()

    _run(test, keepalive_s=0.2)


def test_shutdown_finishes_what_is_in_service_within_the_grace() -> None:
    """close(grace): idle connections close at once, a request that ends within the
    grace gets its answer (with ``Connection: close``), one that would not is cut off."""

    async def main() -> None:
        async with _serving() as (server, port):
            streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
            (idle, _), (quick, quick_w), (slow, slow_w) = streams
            quick_w.write(_get("/slow?ms=300"))
            slow_w.write(_get("/slow?ms=30000"))
            while sum(c.serving is not None for c in server.connections) < 2:
                await asyncio.sleep(0.01)
            closing = asyncio.ensure_future(server.close(grace_s=1.0))
            assert await _closed(idle)
            status, headers, _ = await _answer(quick)
            assert (status, headers["connection"]) == (200, "close")
            assert await _closed(slow)
            await closing
            assert not server.connections
            for _, writer in streams:
                writer.close()

    eventloop.run(asyncio.wait_for(main(), timeout=20))
