"""Extra request headers: ``--header`` and a scenario's ``[replay.headers]``, secrets included.

A staging API wants ``Authorization: Bearer …`` on every request. The value
of such a header is a secret, so it is written as ``${ABC_TOKEN}`` — on the
command line (``--header 'Authorization: Bearer ${ABC_TOKEN}'``) or in the
scenario (``[replay.headers] Authorization = "Bearer ${ABC_TOKEN}"``) — and
taken from the environment when the replay is prepared. An unset variable is
one error naming the variable and the header, never the value.

Resolved values live only in :class:`Headers`, whose ``repr`` shows names:
results metadata records the names, and no message, log or progress line
ever holds a value. A header from the command line replaces the scenario's of
the same name (case-insensitive). Names abcsim sets itself for framing or
per request (``Host``, ``Content-Length``, ``X-ABC-Event-Id``, ...) are
refused; ``User-Agent`` and ``Content-Type`` replace abcsim's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from abcsim.errors import ReplayError, Setting

HEADERS = Setting("headers")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_RESERVED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "x-abc-synthetic",
        "x-abc-event-id",
        "x-abc-agent-type",
    }
)


@dataclass(frozen=True, repr=False)
class Headers:
    """Resolved extra headers, in order; ``repr`` and ``names`` never show a value."""

    items: tuple[tuple[str, str], ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.items)

    @property
    def values(self) -> tuple[str, ...]:
        """The values, to keep them out of what is shown (see :func:`redact`)."""
        return tuple(value for _, value in self.items)

    def __repr__(self) -> str:
        return f"Headers({', '.join(self.names)})"

    def __bool__(self) -> bool:
        return bool(self.items)


NO_HEADERS = Headers()


def parse_header(text: str) -> tuple[str, str]:
    """``'Authorization: Bearer ${ABC_TOKEN}'`` → its name and its (unexpanded) value."""
    name, colon, value = text.partition(":")
    if not colon:
        raise ReplayError(HEADERS, ": expected 'Name: value', got no ':' after the name")
    return _checked_name(name.strip(), HEADERS), value.strip(" \t")


def resolve_headers(
    given: Sequence[str], scenario: Sequence[tuple[str, str]], env: Mapping[str, str]
) -> Headers:
    """The scenario's headers, then ``given`` (``Name: value``) over them, ``${VAR}`` expanded."""
    chosen: dict[str, tuple[str, str, str | Setting]] = {}
    for name, value in scenario:
        _checked_name(name, "[replay.headers]")
        chosen[name.lower()] = (name, value, "[replay.headers]")
    for text in given:
        name, value = parse_header(text)
        chosen[name.lower()] = (name, value, HEADERS)
    return Headers(tuple((n, _expand(n, v, where, env)) for n, v, where in chosen.values()))


def redact(text: str, headers: Headers) -> str:
    """``text`` with every header value (a secret, maybe) replaced by ``***``."""
    for value in headers.values:
        if value:
            text = text.replace(value, "***")
    return text


def _checked_name(name: str, where: str | Setting) -> str:
    if not _TOKEN.fullmatch(name):
        raise ReplayError(where, f": {name[:60]!r} is not a header name (letters, digits, -)")
    if name.lower() in _RESERVED:
        raise ReplayError(where, f": {name} is set by abcsim itself, not by a header option")
    return name


def _expand(name: str, value: str, where: str | Setting, env: Mapping[str, str]) -> str:
    def variable(match: re.Match[str]) -> str:
        found = env.get(match.group(1), "")
        if not found.strip():  # as everywhere in abcsim: blank is unset
            raise ReplayError(
                where, f": header {name} uses ${{{match.group(1)}}}, which is not set"
            )
        return found

    expanded = _VARIABLE.sub(variable, value)
    # checked after expansion: a variable's value could smuggle a header in (CR/LF)
    if any(c in expanded for c in "\r\n\0"):
        raise ReplayError(where, f": header {name}: its value holds a line break or NUL")
    try:
        expanded.encode("latin-1")
    except UnicodeEncodeError:
        raise ReplayError(where, f": header {name}: its value is not Latin-1 text") from None
    return expanded
