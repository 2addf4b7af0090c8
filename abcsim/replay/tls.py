"""How replay speaks TLS to an ``https://`` target: whose certificates it trusts, and its own.

By default the system's trust store verifies the server and its host name.
An internal CA is given with ``ca_file`` (then only it is trusted); a server
that wants mutual TLS gets ``client_cert`` and ``client_key`` (PEM; the key
may sit in the certificate's file). ``insecure`` verifies nothing — explicit,
warned and recorded in the results (``tls_verify=false``), since latencies
measured against an unverified server may not be the server one thinks.

:class:`TlsSettings` is plain data (it travels to replay's worker processes);
each process builds its :class:`ssl.SSLContext` once with :func:`tls_context`
and every connection of the replay reuses it. :func:`check_tls` builds one up
front, so a missing, unreadable or non-PEM file is one error before anything
is sent.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import ReplayError, Setting


@dataclass(frozen=True)
class TlsSettings:
    """Files and switches for TLS (see the module)."""

    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False

    @property
    def default(self) -> bool:
        return self == DEFAULT_TLS


DEFAULT_TLS = TlsSettings()


def check_tls(settings: TlsSettings, scheme: str) -> None:
    """Refuse settings that cannot work, and files that cannot be read, before anything is sent."""
    if settings.default:
        return
    files = ("ca_file", "client_cert", "client_key")
    given = [Setting(name) for name in files if getattr(settings, name) is not None]
    if settings.insecure:
        given.append(Setting("insecure"))
    if scheme != "https":
        raise ReplayError(given[0], ": TLS settings apply to an https:// target only")
    if settings.client_key and not settings.client_cert:
        raise ReplayError(Setting("client_key"), ": needs ", Setting("client_cert"), " too")
    if settings.insecure and settings.ca_file:
        raise ReplayError(
            Setting("insecure"), ": verifies nothing, so ", Setting("ca_file"), " means nothing"
        )
    for name in ("ca_file", "client_cert", "client_key"):
        path = getattr(settings, name)
        if path is not None:
            _readable(name, path)
    tls_context(settings)


def tls_context(settings: TlsSettings) -> ssl.SSLContext:
    """The context every connection of a replay uses (files assumed checked by check_tls)."""
    if settings.ca_file:
        try:
            context = ssl.create_default_context(cafile=settings.ca_file)
        except (ssl.SSLError, ValueError) as exc:
            raise ReplayError(
                Setting("ca_file"), f": {settings.ca_file}: not a PEM CA certificate ({_why(exc)})"
            ) from None
    else:
        context = ssl.create_default_context()
    if settings.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.client_cert:
        try:
            # a password callback, so an encrypted key fails here instead of prompting
            context.load_cert_chain(
                settings.client_cert, settings.client_key, password=_no_password
            )
        except (ssl.SSLError, ValueError) as exc:
            key = settings.client_key
            files = settings.client_cert + (f", {key}" if key else "")
            raise ReplayError(
                Setting("client_cert"),
                f": {files}: not a PEM certificate and its unencrypted key ({_why(exc)})",
            ) from None
    return context


def _readable(name: str, path: str) -> None:
    try:
        with Path(path).open("rb") as file:
            file.read(1)
    except OSError as exc:
        raise ReplayError(Setting(name), f": cannot read {path}: {exc.strerror or exc}") from None


def _no_password() -> bytes:
    return b""


def _why(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
