"""What each request carries: the ``[endpoints]`` table with its templates, and ``[payloads]``.

A trading API wants instruments, sides, quantities, prices and client order
ids, not a bare ``size``. An endpoint says where a request type goes and,
optionally, what it sends::

    [endpoints.trade_execution]
    method = "POST"
    path = "/api/v1/agents/trade-execution"
    body = { client_order_id = "${client_order_id}", symbol = "${instrument}",
             side = "${side}", quantity = "${quantity}", price = "${price}", size = "${size}" }
    headers = { Idempotency-Key = "${client_order_id}" }

Every ``${field}`` must be one of :data:`~abcsim.scenario.spec.TEMPLATE_FIELDS`
(checked here, so a typo is an error naming ``endpoints.trade_execution.body.price``);
replay renders them (:mod:`abcsim.replay.templates`). ``[payloads]`` sets the
seeded model those fields come from (:class:`~abcsim.scenario.spec.PayloadSpec`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from abcsim.scenario.fields import Fields, check_request
from abcsim.scenario.spec import (
    DEFAULT_PAYLOADS,
    REQUEST_TYPES,
    TEMPLATE_FIELDS,
    Endpoint,
    Instrument,
    PayloadSpec,
)

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
"""``${field}`` in a template."""

URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*")
"""A path a request line can carry: a space or CR/LF would split it or smuggle a header."""

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field names
_CREDENTIAL = re.compile(r"authorization|cookie|token|secret|password|api[-_]?key", re.I)
_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_SYMBOL = re.compile(r"[A-Za-z0-9._:/-]+")  # safe unescaped in JSON strings, queries, headers
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def endpoints(f: Fields) -> tuple[tuple[str, Endpoint], ...]:
    """``[endpoints]``: one table per request type, in :data:`REQUEST_TYPES` order."""
    for request in list(f.keys()):
        check_request(f, request, request)
    out = tuple((request, _endpoint(f.table(request))) for request in REQUEST_TYPES)
    f.done()
    return out


def _endpoint(e: Fields) -> Endpoint:
    method = e.text("method").upper()
    if method not in _METHODS:
        raise e.error("method", f"must be an HTTP method, got {method!r}")
    path = e.text("path")
    if not path.startswith("/"):
        raise e.error("path", f"must start with '/', got {path!r}")
    if not URL_PATH.fullmatch(path):
        raise e.error("path", f"must be a URL path (no spaces or control characters), got {path!r}")
    body = e.mapping("body")
    if body is not None:
        if method == "GET":
            raise e.error("body", "a GET carries no body: use query")
        _check_strings(e, "body", body)
    endpoint = Endpoint(
        method=method,
        path=path,
        body=None if body is None else json.dumps(body, separators=(",", ":")),
        query=_pairs(e, "query", _TOKEN),
        headers=_pairs(e, "headers", _TOKEN),
    )
    for name, _ in endpoint.headers:
        if _CREDENTIAL.search(name):
            raise e.error(
                f"headers.{name}",
                "a credential goes in [replay.headers] as ${VAR}, read from the environment",
            )
    e.done()
    return endpoint


def _pairs(e: Fields, key: str, names: re.Pattern[str]) -> tuple[tuple[str, str], ...]:
    table = e.mapping(key) or {}
    out = []
    for name, value in table.items():
        where = f"{key}.{name}"
        if not names.fullmatch(name):
            raise e.error(where, "must be a name of letters, digits and -_.")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise e.error(where, f"must be a string or a number, got {value!r}")
        text = str(value)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise e.error(where, "must not hold control characters (CR/LF would smuggle a header)")
        if key == "headers" and not text.isascii():
            raise e.error(where, "a header value must be ASCII text")
        _check_fields(e, where, text)
        out.append((name, text))
    return tuple(out)


def _check_strings(e: Fields, where: str, value: Any) -> None:
    """Every string in a body template names only known fields."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_fields(e, f"{where}.{key}", key)
            _check_strings(e, f"{where}.{key}", item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(e, f"{where}[{i}]", item)
    elif isinstance(value, str):
        _check_fields(e, where, value)


def _check_fields(e: Fields, where: str, text: str) -> None:
    for name in PLACEHOLDER.findall(text):
        if name not in TEMPLATE_FIELDS:
            known = ", ".join(TEMPLATE_FIELDS)
            raise e.error(where, f"unknown template field ${{{name}}} (known: {known})")


def replay_headers(f: Fields) -> tuple[tuple[str, str], ...]:
    """``[replay.headers]``: name = value, ``${VAR}`` kept for replay to take from the
    environment. A credential's value must be one: the scenario's text is copied into
    every schedule and results file made from it, and a secret written there would be too."""
    headers = tuple((name, f.text(name)) for name in list(f.keys()))
    for name, value in headers:
        if _CREDENTIAL.search(name) and not _VARIABLE.search(value):
            raise f.error(
                name,
                "a credential written here would be copied into every schedule and results "
                f'file: write it as ${{VAR}} (e.g. {name} = "Bearer ${{ABC_TOKEN}}") and set VAR',
            )
    f.done()
    return headers


def payloads(f: Fields) -> PayloadSpec:
    """``[payloads]``: optional; the defaults are :data:`DEFAULT_PAYLOADS`."""
    d = DEFAULT_PAYLOADS
    listed = f.tables("instruments")
    instruments = tuple(_instrument(i) for i in listed) if listed else d.instruments
    if f.has("instruments") and not listed:
        raise f.error("instruments", "must list at least one instrument")
    f.unique([i.symbol for i in instruments], "instruments")
    spec = PayloadSpec(
        instruments=instruments,
        zipf=f.number("zipf", d.zipf, min=0.0),
        release_share=f.number("release_share", d.release_share, min=0.0, max=1.0),
        buy_share=f.number("buy_share", d.buy_share, min=0.0, max=1.0),
        lots_tail=f.number("lots_tail", d.lots_tail, above=0.0),
        max_lots=f.whole("max_lots", d.max_lots, min=1),
        spread_bps=f.number("spread_bps", d.spread_bps, min=0.0),
    )
    f.done()
    return spec


def _instrument(f: Fields) -> Instrument:
    symbol = f.text("symbol")
    if not _SYMBOL.fullmatch(symbol):
        raise f.error("symbol", f"must be letters, digits and . _ : / -, got {symbol!r}")
    instrument = Instrument(
        symbol=symbol,
        price=f.number("price", above=0.0),
        tick=f.number("tick", 0.01, above=0.0),
        lot=f.whole("lot", 1, min=1),
        moves_on=f.str_list("moves_on", ()),
    )
    f.done()
    return instrument
