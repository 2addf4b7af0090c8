"""Request templates, compiled once: each event's request as one ``%`` format per part.

The scenario gives each request type a body, query and header template
(:mod:`abcsim.scenario.requests`)::

    body = { symbol = "${instrument}", side = "${side}", quantity = "${quantity}" }

Compiling turns every part into a bytes format and the list of per-event
values it needs — ``{"symbol":"%s","side":"%s","quantity":%d}`` and
(instrument, side, quantity) — so rendering an event is one C-level ``%`` per
part, with no parsing, escaping or dict building per request. The values of a
whole block of events are computed at once (:meth:`Templates.rows`): the
schedule's columns, the scheduled wall time, and the payload model's draws
(:mod:`abcsim.replay.payloads`), only those some template uses.

Values need no escaping when rendered: numbers are numbers, and every string
a field can hold (symbols, sides, agent types, ISO times, client order ids) is
checked at load to be safe, unquoted, in JSON strings, queries and headers.
What a template says literally is escaped here, once, for where it stands.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from urllib.parse import quote

import numpy as np

from abcsim.errors import ReplayError, Setting
from abcsim.replay.payloads import Draws, PayloadModel, stream_key
from abcsim.scenario.requests import PLACEHOLDER
from abcsim.scenario.spec import REQUEST_TYPES, Endpoint, PayloadSpec, Release
from abcsim.schedule.slicing import EventBlock

Row = tuple[Any, ...]
"""One event's template values, in :attr:`Templates.sources` order."""

_SAFE = re.compile(r"[A-Za-z0-9._:/-]+")  # what may stand unescaped in JSON strings and queries

# field → its % conversion, the per-event values it consumes, and whether it is a string
_NUMBERS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "event_id": (b"%d", ("event_id",)),
    "agent_id": (b"%d", ("agent_id",)),
    "size": (b"%d", ("size",)),
    "t": (b"%.3f", ("t",)),
    "quantity": (b"%d", ("quantity",)),
    "price": (b"%.*f", ("price_decimals", "price")),  # the instrument's tick decides the digits
}
_STRINGS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "agent_type": (b"%s", ("agent_type",)),
    "request": (b"%s", ("request",)),
    "time": (b"%s", ("time",)),
    "instrument": (b"%s", ("instrument",)),
    "side": (b"%s", ("side",)),
    "client_order_id": (b"", ("event_id",)),  # the replay's prefix, then %d: set at compile
}
_PAYLOAD_SOURCES = frozenset({"instrument", "side", "quantity", "price_decimals", "price"})

_DEFAULT_BODY = '{"size":"${size}","event_id":"${event_id}"}'
_DEFAULT_QUERY = (("size", "${size}"),)


@dataclass(frozen=True)
class _Slot:
    field: str
    typed: bool  # the whole JSON value: a number bare, a string in quotes


_Part = bytes | _Slot


@dataclass(frozen=True)
class Template:
    """One part of a request: a bytes format and which row values fill it."""

    fmt: bytes
    pick: Callable[[Row], Any]

    def render(self, row: Row) -> bytes:
        rendered: bytes = self.fmt % self.pick(row)
        return rendered


@dataclass(frozen=True)
class Route:
    """A request type's compiled parts."""

    method: str
    target: Template  # path and query (after the target's base path)
    header_lines: Template  # every "Name: value\r\n" line, in one format
    headers: tuple[tuple[str, Template], ...]  # the same, one by one
    body: Template | None

    @property
    def has_user_agent(self) -> bool:
        return any(name.lower() == "user-agent" for name, _ in self.headers)


class Templates:
    """Every request type's compiled templates, and the per-event values they read."""

    def __init__(
        self,
        endpoints: Sequence[tuple[str, Endpoint]],
        agent_types: Sequence[str],
        *,
        seed: int,
        schedule_start: dt.datetime,
        payloads: PayloadSpec,
        releases: Sequence[Release] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._prefix = b"abc-%08x-" % (int(stream_key(seed, 99)) & 0xFFFFFFFF)
        self._sources: list[str] = ["event_id"]  # always: X-ABC-Event-Id
        table = dict(endpoints)
        parts = [_route_parts(table[r], headers) for r in REQUEST_TYPES]
        self.routes = tuple(self._compile(*p) for p in parts)
        self.sources = tuple(self._sources)
        if "agent_type" in self.sources:
            _check_agent_types(agent_types)
        self._agent_types = np.array([a.encode() for a in agent_types], dtype=object)
        self._requests = np.array([r.encode() for r in REQUEST_TYPES], dtype=object)
        self._start_us = np.datetime64(schedule_start.replace(tzinfo=None), "us")
        self._model = (
            PayloadModel(payloads, seed, schedule_start, releases)
            if _PAYLOAD_SOURCES & set(self.sources)
            else None
        )
        self._symbols = np.array([i.symbol.encode() for i in payloads.instruments], dtype=object)
        self._decimals = np.array([i.decimals for i in payloads.instruments], dtype=np.int64)

    # -- compiling ------------------------------------------------------------
    def _compile(
        self,
        method: str,
        target: list[_Part],
        headers: list[tuple[str, list[_Part]]],
        body: list[_Part] | None,
    ) -> Route:
        lines: list[_Part] = []
        for name, parts in headers:
            lines += [name.encode("latin-1") + b": ", *parts, b"\r\n"]
        return Route(
            method,
            self._template(target),
            self._template(lines),
            tuple((name, self._template(parts)) for name, parts in headers),
            None if body is None else self._template(body),
        )

    def _template(self, parts: list[_Part]) -> Template:
        fmt: list[bytes] = []
        sources: list[str] = []
        for part in parts:
            if isinstance(part, bytes):
                fmt.append(part.replace(b"%", b"%%"))
                continue
            conversion, needs = _NUMBERS.get(part.field) or _STRINGS[part.field]
            if part.field == "client_order_id":
                conversion = self._prefix + b"%d"
            quoted = part.typed and part.field in _STRINGS
            fmt.append(b'"%s"' % conversion if quoted else conversion)
            sources.extend(needs)
        indices = [self._source(s) for s in sources]
        return Template(b"".join(fmt), _picker(indices))

    def _source(self, name: str) -> int:
        if name not in self._sources:
            self._sources.append(name)
        return self._sources.index(name)

    # -- rendering ------------------------------------------------------------
    def rows(self, block: EventBlock) -> Iterator[Row]:
        """Each event's values: computed for the whole block at once, handed out per event."""
        draws = self._model.draw(block.event_id, block.t) if self._model is not None else None
        return zip(*(self._column(name, block, draws) for name in self.sources), strict=True)

    def row(
        self,
        event_id: int,
        request: int,
        *,
        size: int,
        agent_type: int = 0,
        agent_id: int = 0,
        t: float = 0.0,
    ) -> Row:
        """One event's values, for a request made up on the spot (the suite's users)."""
        block = EventBlock(
            event_id=np.array([event_id], np.int64),
            t=np.array([t], np.float64),
            agent_id=np.array([agent_id], np.int32),
            agent_type=np.array([agent_type], np.int8),
            request=np.array([request], np.int8),
            size=np.array([size], np.int32),
        )
        return next(self.rows(block))

    def _column(self, name: str, block: EventBlock, draws: Draws | None) -> list[Any]:
        if name in ("event_id", "agent_id", "size", "t"):
            return getattr(block, name).tolist()  # type: ignore[no-any-return]
        if name == "agent_type":
            return self._agent_types[block.agent_type].tolist()  # type: ignore[no-any-return]
        if name == "request":
            return self._requests[block.request].tolist()  # type: ignore[no-any-return]
        if name == "time":
            when = self._start_us + np.round(block.t * 1e6).astype("timedelta64[us]")
            text = np.datetime_as_string(when, unit="ms", timezone="UTC")
            return np.char.encode(text, "ascii").tolist()  # type: ignore[no-any-return]
        assert draws is not None
        if name == "instrument":
            return self._symbols[draws.instrument].tolist()  # type: ignore[no-any-return]
        if name == "side":
            return np.where(draws.buy, b"buy", b"sell").tolist()  # type: ignore[no-any-return]
        if name == "price_decimals":
            return self._decimals[draws.instrument].tolist()  # type: ignore[no-any-return]
        return getattr(draws, name).tolist()  # type: ignore[no-any-return]  # quantity, price

    def parts(self, request: int, row: Row) -> tuple[str, str, dict[str, str], bytes | None]:
        """Method, path with query (after the target's base path), headers and body: for
        clients that build requests themselves (Locust's)."""
        route = self.routes[request]
        headers = {name: t.render(row).decode("latin-1") for name, t in route.headers}
        body = None if route.body is None else route.body.render(row)
        return route.method, route.target.render(row).decode("latin-1"), headers, body


def _picker(indices: list[int]) -> Callable[[Row], Any]:
    if not indices:
        return lambda row: ()
    return itemgetter(*indices)


def _check_agent_types(names: Sequence[str]) -> None:
    """An agent type a template sends must need no escaping where it goes."""
    for name in names:
        if not _SAFE.fullmatch(name):
            raise ReplayError(
                Setting("scenario"),
                f": the agent type {name!r} cannot go in a request unescaped "
                "(letters, digits and . _ : / - only)",
            )


# -- from an endpoint to parts ------------------------------------------------------


def _route_parts(
    endpoint: Endpoint, extra: Sequence[tuple[str, str]]
) -> tuple[str, list[_Part], list[tuple[str, list[_Part]]], list[_Part] | None]:
    has_body = endpoint.method != "GET"
    body_text = endpoint.body if endpoint.body is not None else _DEFAULT_BODY
    query = endpoint.query or (() if endpoint.templated or has_body else _DEFAULT_QUERY)
    target: list[_Part] = [endpoint.path.encode("latin-1")]
    joint = "&" if "?" in endpoint.path else "?"
    for i, (name, value) in enumerate(query):
        target.append(f"{joint if i == 0 else '&'}{quote(name, safe='')}=".encode())
        target.extend(_text_parts(value, lambda s: quote(s, safe="").encode()))
    own = [("X-ABC-Synthetic", "1")]
    if has_body:
        own.insert(0, ("Content-Type", "application/json"))
    own += [("X-ABC-Event-Id", "${event_id}"), ("X-ABC-Agent-Type", "${agent_type}")]
    # the endpoint's headers over abcsim's own, --header and [replay.headers] over both
    merged: dict[str, tuple[str, str]] = {}
    for name, value in (*own, *endpoint.headers):
        merged[name.lower()] = (name, value)
    headers = [(name, _text_parts(value, _latin1)) for name, value in merged.values()]
    for name, value in extra:  # fixed values, ${VAR} already taken from the environment
        headers = [h for h in headers if h[0].lower() != name.lower()]
        headers.append((name, [value.encode("latin-1")]))
    body = _json_parts(json.loads(body_text)) if has_body else None
    return endpoint.method, target, headers, body


def _latin1(text: str) -> bytes:
    return text.encode("latin-1")


def _text_parts(text: str, literal: Callable[[str], bytes]) -> list[_Part]:
    """``"abc-${side}"`` → [b"abc-", _Slot("side", typed=False)]."""
    parts: list[_Part] = []
    at = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(literal(text[at : match.start()]))
        parts.append(_Slot(match.group(1), typed=False))
        at = match.end()
    parts.append(literal(text[at:]))
    return [p for p in parts if p != b""]


def _json_parts(value: Any) -> list[_Part]:
    """A body template as compact JSON, with its ``${field}`` strings as slots."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return [_Slot(whole.group(1), typed=True)]
        return [b'"', *_text_parts(value, _json_inside), b'"']
    if isinstance(value, dict):
        parts: list[_Part] = [b"{"]
        for i, (key, item) in enumerate(value.items()):
            key_parts = [b'"', *_text_parts(str(key), _json_inside), b'"']
            parts += [b"," if i else b"", *key_parts, b":", *_json_parts(item)]
        return [*parts, b"}"]
    if isinstance(value, list):
        parts = [b"["]
        for i, item in enumerate(value):
            parts += [b"," if i else b"", *_json_parts(item)]
        return [*parts, b"]"]
    return [json.dumps(value).encode()]


def _json_inside(text: str) -> bytes:
    """Literal text inside a JSON string, escaped (no quotes around it)."""
    return json.dumps(text)[1:-1].encode()
