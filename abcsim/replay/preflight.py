"""The preflight: one request to the system's health endpoint before the clock starts.

A replay against a system that is down, that answers 401 to a missing token,
or whose certificate is not trusted would otherwise run its whole window and
record 100% errors ("SLO breached"). One ``GET`` of the health endpoint (the
scenario's ``health_check`` path by default), over the replay's own TLS
settings and headers, finds that first: the problem is one
:class:`~abcsim.errors.ReplayError` naming the host and the reason, before
anything is scheduled and before a results file exists.

The answer also says whether the system is in performance mode (the
reference target answers ``{"status": "ok", "performance_mode": true}``),
which the order guard (:func:`abcsim.replay.safety.check_orders_health`)
needs. It is sent with the standard library's blocking client, not replay's
asyncio one: it is one request, and it also runs inside Locust's master,
under gevent, where a second event loop has no business.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
from dataclasses import dataclass

from abcsim.errors import ReplayError, Setting
from abcsim.replay.headers import Headers, redact
from abcsim.replay.http import USER_AGENT, Origin
from abcsim.replay.tls import TlsSettings, tls_context

PREFLIGHT_TIMEOUT_S = 10.0
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Health:
    """What the health endpoint answered."""

    status: int
    performance_mode: bool | None  # None: the answer does not say


def preflight(
    target: str,
    path: str,
    *,
    headers: Headers,
    tls: TlsSettings,
    timeout_s: float = PREFLIGHT_TIMEOUT_S,
) -> Health:
    """``GET target+path`` once; a system that is down or answers an error is a ReplayError."""
    origin = Origin.parse(target)
    where = origin.host_header
    if origin.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            origin.host, origin.port, timeout=timeout_s, context=tls_context(tls)
        )
    else:
        connection = http.client.HTTPConnection(origin.host, origin.port, timeout=timeout_s)
    sent = {"User-Agent": USER_AGENT, "X-ABC-Synthetic": "1", **dict(headers.items)}
    try:
        connection.request("GET", origin.base_path + path, headers=sent)
        answer = connection.getresponse()
        body = answer.read(65536)
    except ssl.SSLCertVerificationError as exc:
        message = exc.verify_message or _first_line(exc)
        raise ReplayError(
            f"preflight: {where}: its TLS certificate is not trusted: {message} (its CA: ",
            Setting("ca_file"),
            ")",
        ) from None
    except ssl.SSLError as exc:
        raise ReplayError(
            f"preflight: {where}: the TLS handshake failed: {redact(_first_line(exc), headers)}"
        ) from None
    except ConnectionRefusedError:
        raise ReplayError(f"preflight: {where}: connection refused (is it running?)") from None
    except TimeoutError:
        raise ReplayError(f"preflight: {where}: no answer within {timeout_s:g} s") from None
    except socket.gaierror as exc:
        raise ReplayError(f"preflight: {where}: cannot resolve the host ({exc.strerror})") from None
    except (OSError, http.client.HTTPException) as exc:
        reason = redact(_first_line(exc), headers)
        raise ReplayError(f"preflight: {where}: the health request failed: {reason}") from None
    finally:
        connection.close()
    if answer.status >= 400:
        said = redact(_said(body), headers)
        hint = " (a missing or wrong token? see " if answer.status in (401, 403) else ""
        raise ReplayError(
            f"preflight: {where}: GET {origin.base_path}{path} answered HTTP {answer.status}"
            f"{f' ({said})' if said else ''}{hint}",
            *((Setting("headers"), ")") if hint else ()),
        )
    return Health(answer.status, _performance_mode(body))


def _performance_mode(body: bytes) -> bool | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    mode = answer.get("performance_mode") if isinstance(answer, dict) else None
    return mode if isinstance(mode, bool) else None


def _said(body: bytes) -> str:
    """A short reason from an error page: its <title> (nginx's '400 No required SSL
    certificate was sent'), or a one-line body."""
    title = _TITLE.search(body)
    text = title.group(1) if title else body.strip()
    if b"\n" in text or len(text) > 120:
        return ""
    return text.decode("utf-8", "replace")


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__
