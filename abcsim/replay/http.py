"""A lean HTTP/1.1 client for one origin: keep-alive connections on asyncio protocols.

Replay spends its CPU per request on building the request, writing it, and
parsing the answer. A general client (aiohttp's ``ClientSession``) does far
more per request than a replayer needs — URL objects, header multidicts,
cookie jars, redirects, tracing, a stream reader per response — and costs
about 170 µs of CPU a request; that put one replay process *below* Locust's
FastHttpUser. This client does only what replay needs:

- one origin (``http://host:port`` or ``https://``), fixed at creation;
- the request is bytes the caller formats (:class:`RequestHead` pre-renders
  everything but the per-request headers and body);
- the answer is its status, body size and whether the connection may be
  reused — parsed by ``httptools`` (llhttp, the parser Node.js uses), in C;
- keep-alive connections are reused last-in first-out, so a light load runs
  on a few warm connections; a connection is opened when none is idle, and the
  caller bounds how many are in flight (replay's ``--max-in-flight``);
- each request has a total deadline (connect + send + answer); on a timeout,
  a stop or a malformed answer the connection is aborted, never reused.

A server closes a keep-alive connection it has left idle (gunicorn after
2 s, nginx after 75 s), and a request may go out on it just then. Three
defences. *Avoid the moment*: an idle connection is reused only while younger
than a limit learned from the server (:mod:`abcsim.replay.keepalive`).
*Avoid the corpse*: one idle for more than a quarter of a second is polled
before it is reused, and one whose server has closed it (its FIN waiting,
unread, while the loop was busy sending a burst) is dropped for another —
urllib3's check; one ``poll`` call, never paid at high rates. *Resend*: when
a reused connection still closes or resets before a single byte of the
answer, the request is sent again on a fresh connection, within its
deadline, if that is safe: the method is idempotent (RFC 9110 §9.2.2), or the
request carries an ``Idempotency-Key`` header, which tells the server to keep
a second copy from acting twice (Go's net/http follows the same rule). Each
is counted (:attr:`HttpClient.resent`).

What it does not do, by design: redirects (a replayed request that is
redirected is recorded with its 3xx, as the system answered), cookies,
compression (no ``Accept-Encoding`` is sent, so ``nbytes`` is the body as
sent), proxies, and any other retry — a request that fails is a failure to
record. An answer delimited by the server closing the connection (no length,
not chunked) ends when the connection does.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections import deque
from dataclasses import dataclass
from importlib import metadata
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

from abcsim.replay.keepalive import KEEP_AT_MOST_S, IdleLimit

USER_AGENT = f"abcsim/{metadata.version('abcsim')}"


_FRAMING_HEADERS = (b"content-length", b"transfer-encoding")
_CHECK_IDLE_S = 0.25  # idle longer than this, a connection is polled before reuse
_MAX_IDLE = 1024  # idle connections kept at most (resting ones included)
_POLLRDHUP = getattr(select, "POLLRDHUP", 0)  # Linux: the peer's FIN, without reading
_IDEMPOTENT = (b"GET ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"TRACE ")
_IDEMPOTENCY_KEY = b"\r\nidempotency-key:"


class ProtocolError(ConnectionError):
    """The server's answer is not valid HTTP/1.1."""


class ServerDisconnectedError(ConnectionError):
    """The server closed the connection before it answered in full."""


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host, port and the base path in front of every path."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """``http://127.0.0.1:8080/abc`` → Origin("http", "127.0.0.1", 8080, "/abc")."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected http(s)://HOST[:PORT][/BASE], got {url!r}")
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, parts.port or default, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class RequestHead:
    """The fixed part of one kind of request, rendered once: request line and fixed headers.

    ``render(query, extra_headers, body)`` adds what changes per request. For
    ``POST /api/v1/agents/data-collection``::

        POST /api/v1/agents/data-collection HTTP/1.1\\r\\n
        Host: 127.0.0.1:8080\\r\\n  User-Agent: abcsim/0.1.0\\r\\n  ...fixed headers...
        X-ABC-Event-Id: 42\\r\\n  Content-Length: 27\\r\\n\\r\\n{"size": 1, "event_id": 42}
    """

    before_query: bytes  # "POST /base/path"
    after_query: bytes  # " HTTP/1.1\r\nHost: ...\r\n<fixed headers>"

    @classmethod
    def build(
        cls,
        origin: Origin,
        method: str,
        path: str = "",
        headers: tuple[tuple[str, str], ...] = (),
        *,
        user_agent: bool = True,
    ) -> RequestHead:
        """``user_agent=False``: the caller sends its own ``User-Agent`` per request."""
        given = {name.lower() for name, _ in headers}
        theirs = not user_agent or "user-agent" in given  # theirs wins
        agent = [] if theirs else [("User-Agent", USER_AGENT)]
        lines = [("Host", origin.host_header), *agent, *headers]
        fixed = "".join(f"{name}: {value}\r\n" for name, value in lines)
        return cls(
            f"{method} {origin.base_path}{path}".encode("latin-1"),
            f" HTTP/1.1\r\n{fixed}".encode("latin-1"),
        )

    def render(self, query: bytes, headers: bytes, body: bytes | None) -> bytes:
        """The whole request. ``headers`` are complete ``Name: value\\r\\n`` lines."""
        if body is None:
            return b"%s%s%s%s\r\n" % (self.before_query, query, self.after_query, headers)
        return b"%s%s%s%sContent-Length: %d\r\n\r\n%s" % (
            self.before_query,
            query,
            self.after_query,
            headers,
            len(body),
            body,
        )


@dataclass(frozen=True)
class Response:
    """What replay keeps of an answer."""

    status: int
    nbytes: int


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request on it at a time."""

    def __init__(self, limit: IdleLimit) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._limit = limit  # told when the server closes it idle, or states its timeout
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiter: asyncio.Future[Response] | None = None
        self.heard = False  # any byte of an answer to the request in flight
        self.idle_since = 0.0  # loop time it went back to the idle list
        self._nbytes = 0
        self._headers_done = False
        self._length_known = False  # Content-Length or chunked: the answer says where it ends

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing was asked: a server talking out of turn
            self.abort()
            return
        self.heard = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"malformed answer: {exc}"))

    def eof_received(self) -> bool | None:
        return False  # close our side too: a half-closed connection cannot be reused

    def connection_lost(self, exc: Exception | None) -> None:
        closed_by_server = not self.closed  # not by us (abort), nor after "Connection: close"
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is None and closed_by_server and self.idle_since:
            self._limit.server_closed(asyncio.get_running_loop().time() - self.idle_since)
        if waiter is None or waiter.done():
            return
        if exc is None and self._headers_done and not self._length_known:
            # an answer without a length ends where the connection does (RFC 9112 §6.3)
            waiter.set_result(Response(self._parser.get_status_code(), self._nbytes))
        else:
            waiter.set_exception(exc or ServerDisconnectedError("the server closed the connection"))

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self._nbytes = 0
        self._headers_done = self._length_known = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) in (14, 17) and name.lower() in _FRAMING_HEADERS:
            self._length_known = True
        elif len(name) == 10 and name.lower() == b"keep-alive":
            self._limit.server_says(value)

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._nbytes += len(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        if not self._parser.should_keep_alive():
            self.closed = True  # "Connection: close" (or HTTP/1.0): this was its last answer
            if self.transport is not None:
                self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self._parser.get_status_code(), self._nbytes))

    # -- used by the pool
    def send(self, data: bytes, waiter: asyncio.Future[Response]) -> None:
        assert self.transport is not None
        self._waiter = waiter
        self.heard = False
        self.transport.write(data)

    def dropped_by_peer(self) -> bool:
        """Whether the server has closed this idle connection (or says anything unasked):
        readable while idle means either, and either way it cannot carry a request."""
        if self.transport is None:
            return True
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | _POLLRDHUP)
        return bool(poller.poll(0))

    def abort(self) -> None:
        """Drop the connection at once (a timed-out or cancelled request may still be answered)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.abort()


class HttpClient:
    """Sends requests to one origin over reused keep-alive connections (see the module doc)."""

    def __init__(
        self,
        origin: Origin,
        *,
        timeout_s: float,
        connect_timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.origin = origin
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        # one context for every connection (its session cache and loaded CA with it);
        # the system's trust store unless the caller built one (abcsim.replay.tls)
        self._ssl: ssl.SSLContext | None = None
        if origin.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._idle: deque[_Connection] = deque()  # the most recently used at the right
        self._open: set[_Connection] = set()
        self.idle_limit = IdleLimit()
        self.resent = 0  # requests sent again after a server closed an idle connection

    @property
    def connections(self) -> int:
        """Connections open now, idle or busy."""
        return len(self._open)

    async def request(self, data: bytes) -> Response:
        """Send ``data`` (a whole request) and wait for the answer, within ``timeout_s``.

        Raises ``TimeoutError`` past the deadline, ``OSError`` (``ConnectionError``
        among them) when the connection fails or the answer is malformed.
        """
        now = asyncio.get_running_loop().time()
        deadline = now + self.timeout_s
        connection = self._reusable(now)
        if connection is not None:
            try:
                return await self._exchange(connection, data, deadline)
            except ConnectionError:
                if connection.heard or not _replayable(data):
                    raise
                self.resent += 1  # closed while idle, as we sent: again, on a fresh one
        return await self._exchange(await self._connect(deadline), data, deadline)

    def _reusable(self, now: float) -> _Connection | None:
        """The most recently used idle connection that is safe to reuse, if any.

        Older ones are idle longer still: past the limit they rest, unused, until the
        server closes them (which teaches the limit) or they are retired.
        """
        limit = self.idle_limit.limit_s
        found = None
        while self._idle:
            connection = self._idle[-1]
            idle = now - connection.idle_since
            if not connection.closed and idle > limit:
                break
            self._idle.pop()
            if connection.closed or (idle > _CHECK_IDLE_S and connection.dropped_by_peer()):
                connection.abort()
                self._open.discard(connection)
                continue
            found = connection
            break
        self._retire(now)
        return found

    def _retire(self, now: float) -> None:
        """Close connections resting too long (the server kept them: that teaches the limit)."""
        while self._idle and (
            self._idle[0].closed
            or len(self._idle) > _MAX_IDLE
            or now - self._idle[0].idle_since > KEEP_AT_MOST_S
        ):
            connection = self._idle.popleft()
            if not connection.closed and now - connection.idle_since > KEEP_AT_MOST_S:
                self.idle_limit.server_kept(now - connection.idle_since)
            connection.abort()
            self._open.discard(connection)

    async def _exchange(self, connection: _Connection, data: bytes, deadline: float) -> Response:
        """One request on ``connection``; it goes back to the idle list if it may be reused."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            connection.send(data, waiter)
            response = await waiter
        except BaseException:  # timeout, stop, reset: what is on the wire is lost
            connection.abort()
            self._open.discard(connection)
            raise
        finally:
            timer.cancel()
        if connection.closed:
            self._open.discard(connection)
        else:
            connection.idle_since = loop.time()
            self._idle.append(connection)
        return response

    async def _connect(self, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        budget = min(self.connect_timeout_s, deadline - loop.time())
        opening = loop.create_connection(
            lambda: _Connection(self.idle_limit),
            self.origin.host,
            self.origin.port,
            ssl=self._ssl,
            server_hostname=self.origin.host if self._ssl else None,
        )
        _, connection = await asyncio.wait_for(opening, max(budget, 0.0))
        self._open.add(connection)
        return connection

    def close(self) -> None:
        """Abort every connection (at the end of a replay nothing is in flight)."""
        for connection in self._open:
            connection.abort()
        self._open.clear()
        self._idle.clear()


def _replayable(data: bytes) -> bool:
    """Safe to send twice: an idempotent method, or an ``Idempotency-Key`` header."""
    if data.startswith(_IDEMPOTENT):
        return True
    head = data[: data.find(b"\r\n\r\n")]
    return _IDEMPOTENCY_KEY in head.lower()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
