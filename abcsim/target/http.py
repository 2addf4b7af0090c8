"""A lean HTTP/1.1 server for the reference target: asyncio protocols and httptools.

The target stands in for the ABC API on the same machine as the load
generators it is measured against, so every microsecond it spends on HTTP is
capacity taken from them. On aiohttp's server (its low-level ``web.Server``)
the target cost 228 µs of CPU per request under open-loop replay on a 2-core
machine, most of it in aiohttp's request, response and stream objects; this
server keeps only what the target needs — httptools (llhttp, in C) parses, an
answer goes out as one ``write`` of one bytes object — and the same requests
cost 112 µs (``bench/replay.py`` prints the target's CPU per request).

What a client may expect of it, as of any HTTP/1.1 server:

- **keep-alive and pipelining**: a connection's requests are answered one at a
  time in the order they came; reading pauses while more than
  :data:`MAX_PIPELINED` wait;
- ``Connection: close`` and HTTP/1.0 are honoured; so is
  ``Expect: 100-continue`` (other expectations get 417);
- request bodies, chunked ones too, up to :data:`MAX_BODY` (more: 413, then the
  connection closes); a malformed request gets 400 and the connection closes;
- ``HEAD`` is answered as ``GET`` without the body; a path not served gets 404,
  a method not served 405 with ``Allow``; every answer has ``Content-Length``
  and ``Date``;
- a connection idle for :data:`KEEPALIVE_S` is closed;
- :meth:`HttpServer.close` stops accepting, closes idle connections, lets
  requests in service finish for a grace period and then aborts the rest.

A request whose client has gone is served to the end all the same, as a real
server's worker would be; only its answer is dropped.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl, unquote

import httptools

MAX_BODY = 1024**2
"""The largest request body accepted, in bytes (aiohttp's default too)."""
MAX_PIPELINED = 32
"""Requests a connection may have waiting before the server stops reading it."""
KEEPALIVE_S = 75.0
"""A connection idle this long is closed (as nginx's and aiohttp's default)."""
BACKLOG = 1024
"""Connections the kernel holds for the server before it accepts them. asyncio's
``create_server`` would listen again with its default of 100: a load generator's
first burst of connections beyond that is dropped, and each one retried only a
second later (a TCP SYN retransmission) shows as a second of latency."""
SERVER = "abcsim-target"

_log = logging.getLogger("abcsim.target")


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request: header names are lower case, the path is percent-decoded."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    transport: asyncio.Transport

    @property
    def content_type(self) -> str:
        """The media type of the body, e.g. ``application/json`` ('' if none is given)."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    def query(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        for key, value in parse_qsl(self.query_string, keep_blank_values=True):
            if key == name:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` if it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Response:
    """An answer: ``Content-Length``, ``Date`` and ``Server`` are added when it is sent."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer whose body is ``data`` as JSON."""
    return Response(status, json.dumps(data).encode(), "application/json", headers or {})


Handler = Callable[[Request], Awaitable[Response]]


class Router:
    """Handlers by method and exact path; ``HEAD`` finds the ``GET`` handler."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._allowed: dict[str, set[str]] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method path`` with ``handler``; ``ValueError`` if it cannot be served."""
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError(f"a path must start with '/', got {path!r}")
        if (method, path) in self._handlers:
            raise ValueError(f"{method} {path} is served already")
        self._handlers[(method, path)] = handler
        self._allowed.setdefault(path, set()).update(
            {method, "HEAD"} if method == "GET" else {method}
        )

    def find(self, method: str, path: str) -> Handler:
        """The handler for ``method path``: its own, or one answering 404 or 405."""
        handler = self._handlers.get((method, path))
        if handler is None and method == "HEAD":
            handler = self._handlers.get(("GET", path))
        if handler is not None:
            return handler
        allowed = self._allowed.get(path)
        if allowed is None:
            return _fixed(json_response({"error": f"not found: {path}"}, status=404))
        allow = ",".join(sorted(allowed))
        body = {"error": f"{method} is not served at {path}", "allow": allow}
        return _fixed(json_response(body, status=405, headers={"Allow": allow}))


def _fixed(response: Response) -> Handler:
    async def answer(request: Request) -> Response:
        return response

    return answer


# -- rendering -----------------------------------------------------------------------------

_STATUS_LINES: dict[int, bytes] = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus
}


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} Unknown\r\n".encode()


_SERVER_HEADER = f"Server: {SERVER}\r\n".encode()


class _Clock:
    """The ``Date`` header's value, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._date = b""

    def date(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._date = email.utils.formatdate(second, usegmt=True).encode()
        return self._date


def render(response: Response, date: bytes, *, head: bool = False, close: bool = False) -> bytes:
    """The answer's bytes: status line, headers, and the body unless ``head``."""
    body = response.body
    parts = [
        _status_line(response.status),
        b"Content-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\n"
        % (response.content_type.encode(), len(body), date),
        _SERVER_HEADER,
    ]
    for name, value in response.headers.items():
        parts.append(f"{name}: {value}\r\n".encode("latin-1"))
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    if not head:
        parts.append(body)
    return b"".join(parts)


# -- connections ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pending:
    """A request waiting for its turn on its connection."""

    request: Request
    keep_alive: bool
    answer: Response | None = None  # decided already (a 413, say): no handler runs


class _Connection(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[_Pending] = deque()
        self.serving: asyncio.Task[None] | None = None
        self._reading_paused = False
        self._refused = False  # an answer ends the connection: read no more
        self._writable: asyncio.Future[None] | None = None  # set while writing is paused
        self._closing = False  # answer what is in hand, then close
        self._eof = False  # the client has sent all it will send
        self.idle_since = self._loop.time()
        self._begin()

    def _begin(self) -> None:
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._in_message = False

    @property
    def idle(self) -> bool:
        """Nothing in service, waiting or half received."""
        return self.serving is None and not self._in_message

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses).
        self._transport = cast(asyncio.Transport, transport)
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._waiting.clear()  # requests not started yet have no one to answer
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # bytes read before reading paused, past the last answer
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # llhttp passed the request up already: it is answered over HTTP/1.1, and
            # then the connection closes (no upgrades here; what follows is not HTTP).
            self._stop_reading()
            if self._waiting:
                self._waiting[-1] = replace(self._waiting[-1], keep_alive=False)
            else:
                self._closing = True
        except httptools.HttpParserError as exc:
            self._refuse(400, f"malformed request: {exc}")

    def eof_received(self) -> bool | None:
        """The client sent its last request: answer what is in hand, then close."""
        if self.serving is None:
            return None  # nothing to answer: the transport closes
        self._eof = True
        return True  # keep the sending half open for the answers

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        self._begin()
        self._in_message = True

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        known = self._headers.get(key)
        self._headers[key] = text if known is None else f"{known}, {text}"

    def on_headers_complete(self) -> None:
        expect = self._headers.get("expect", "")
        # Only when nothing is ahead of it: a 100 must not overtake earlier answers.
        ahead = self.serving is not None or self._waiting
        if expect.lower() == "100-continue" and not ahead and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size <= MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        assert self._transport is not None
        self._in_message = False
        try:
            url = httptools.parse_url(self._url)
        except httptools.HttpParserInvalidURLError:
            self._refuse(400, f"malformed URL: {self._url[:200]!r}")
            return
        path = url.path.decode("latin-1") if url.path else "/"
        request = Request(
            method=self._parser.get_method().decode("ascii"),
            path=unquote(path) if "%" in path else path,
            query_string=url.query.decode("latin-1") if url.query else "",
            headers=self._headers,
            body=b"".join(self._body),
            transport=self._transport,
        )
        self._queue(request, self._parser.should_keep_alive(), self._early_answer(request))

    def _early_answer(self, request: Request) -> Response | None:
        """An answer given without the handler: a body too large, an unmet expectation."""
        if self._body_size > MAX_BODY:
            return json_response({"error": f"the body is over {MAX_BODY} bytes"}, status=413)
        expect = request.headers.get("expect")
        if expect is not None and expect.lower() != "100-continue":
            return json_response({"error": f"cannot meet Expect: {expect}"}, status=417)
        return None

    # -- serving

    def _queue(self, request: Request, keep_alive: bool, answer: Response | None) -> None:
        assert self._transport is not None
        if answer is not None:
            # An answer decided early ends the connection: what follows it in the
            # stream may not even be a request, so nothing more is read or parsed.
            self._stop_reading()
            keep_alive = False
        elif len(self._waiting) >= MAX_PIPELINED and not self._reading_paused:
            self._transport.pause_reading()
            self._reading_paused = True
        self._waiting.append(_Pending(request, keep_alive, answer))
        if self.serving is None:
            self.serving = self._loop.create_task(self._serve())

    def _stop_reading(self) -> None:
        assert self._transport is not None
        self._transport.pause_reading()
        self._reading_paused = self._refused = True

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be parsed (after any ahead of it), then close."""
        assert self._transport is not None
        nothing = Request("GET", "/", "", {}, b"", self._transport)
        self._queue(nothing, False, json_response({"error": message}, status=status))

    async def _serve(self) -> None:
        transport = self._transport
        assert transport is not None
        try:
            while self._waiting:
                pending = self._waiting.popleft()
                few = len(self._waiting) <= MAX_PIPELINED // 2
                if self._reading_paused and few and not self._refused:
                    transport.resume_reading()
                    self._reading_paused = False
                answer = pending.answer
                if answer is None:
                    answer = await self._answer(pending.request)
                if self._writable is not None:  # the client reads slower than we write
                    await self._writable
                if transport.is_closing():  # the client left, or the handler aborted
                    return
                last = self._eof and not self._waiting
                close = self._closing or last or not pending.keep_alive
                transport.write(self._render(answer, pending.request, close))
                if close:
                    transport.close()
                    return
        finally:
            self.serving = None
            self.idle_since = self._loop.time()

    def _render(self, answer: Response, request: Request, close: bool) -> bytes:
        date = self._server.clock.date()
        try:
            return render(answer, date, head=request.method == "HEAD", close=close)
        except Exception:  # a header value that is not latin-1, say: a handler's bug
            _log.exception("%s %s: cannot send its answer", request.method, request.path)
            failed = json_response({"error": "internal server error"}, status=500)
            return render(failed, date, head=request.method == "HEAD", close=close)

    async def _answer(self, request: Request) -> Response:
        try:
            return await self._server.router.find(request.method, request.path)(request)
        except Exception:
            _log.exception("%s %s failed", request.method, request.path)
            return json_response({"error": "internal server error"}, status=500)

    # -- closing

    def close_when_idle(self) -> None:
        """Close now if idle, else after the answer in hand."""
        self._closing = True
        if self.idle and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Cut the connection off, unless it is closing already (flushing its answer)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()
        if self.serving is not None:
            self.serving.cancel()


class HttpServer:
    """Serves a :class:`Router` on a listening socket."""

    def __init__(self, router: Router, *, keepalive_s: float = KEEPALIVE_S) -> None:
        self.router = router
        self.keepalive_s = keepalive_s
        self.connections: set[_Connection] = set()
        self.clock = _Clock()
        self._server: asyncio.AbstractServer | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket, backlog: int = BACKLOG) -> None:
        """Accept connections on ``sock`` (bound), with ``backlog`` waiting to be accepted."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), sock=sock, backlog=backlog
        )
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Close connections idle for ``keepalive_s`` (checked ten times as often, so
        serving a request costs no timer)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.keepalive_s / 10)
            now = loop.time()
            for connection in list(self.connections):
                if connection.idle and now - connection.idle_since > self.keepalive_s:
                    connection.close_when_idle()

    async def close(self, grace_s: float) -> None:
        """Stop accepting; give requests in service ``grace_s`` to finish; abort the rest."""
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in list(self.connections):
            connection.close_when_idle()
        busy = {c.serving for c in self.connections if c.serving is not None}
        if busy:
            await asyncio.wait(busy, timeout=grace_s)
        for connection in list(self.connections):
            connection.abort()
        await asyncio.gather(*busy, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
