"""What a replay may do before it sends anything: which hosts, how fast.

Replay goes to loopback freely. Any other host — a staging cluster, say
``staging.abc.internal`` — must be allowed (``--allow-host``) or in the
scenario's allow-list, or the replay refuses before its first request. And a
hard ceiling on the request rate catches ``--speed 600`` typed for
``--speed 60``: the busiest wall-clock second of the planned slice is
computed up front and compared with it. And nothing that places orders goes
to a system that does not say it simulates them (:func:`check_orders_health`).

Refusals name the settings at fault as :class:`~abcsim.errors.Setting` parts
(``target``, ``allow_hosts``, ``max_rate``): the CLI shows its flags, a Locust
process its variables.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from abcsim.errors import ReplayError, Setting
from abcsim.scenario.environment import env_value, switch

TARGET = Setting("target")

ORDER_REQUESTS = ("trade_execution", "multi_agent_workflow")
"""Requests that place orders: a workflow's last stage is a trade execution."""


def target_host(url: str) -> str:
    """The host of a target URL; refuses anything but ``http(s)://host[:port][/base]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReplayError(TARGET, f": expected http://HOST[:PORT], got {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ReplayError(TARGET, f": bad port in {url!r}") from None
    if port == 0:  # not "any port": a request to port 0 goes nowhere, or to port 80
        raise ReplayError(TARGET, f": port 0 is no port to send to, in {url!r}")
    if parts.query or parts.fragment:  # the endpoints' paths are appended to it: say so
        raise ReplayError(
            TARGET, f": a base URL takes no query or fragment ('?…', '#…'), got {url!r}"
        )
    return parts.hostname


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, allowed: Iterable[str]) -> None:
    """Refuse a non-loopback target that is not explicitly allowed."""
    host = target_host(url)
    if is_loopback(host) or host in set(allowed):
        return
    raise ReplayError(
        TARGET,
        f": {host} is not loopback; name it with ",
        Setting("allow_hosts"),
        f" {host} (or in the scenario's [replay] allow_hosts) to replay against it",
    )


def check_rate(peak_per_second: float, max_rate: float, speed: float, scale: float) -> None:
    """Refuse a slice whose busiest second would exceed ``max_rate``."""
    if peak_per_second > max_rate:
        raise ReplayError(
            Setting("speed"),
            f" {speed:g} ",
            Setting("scale"),
            f" {scale:g}: the busiest second would send {peak_per_second:,.0f} requests, "
            f"over the ceiling of {max_rate:,.0f}/s (raise ",
            Setting("max_rate"),
            " if that is really meant)",
        )


def performance_mode(env: Mapping[str, str]) -> bool:
    """``ABC_PERFORMANCE_MODE``: does the system under test simulate its orders?"""
    return env_value(env, "ABC_PERFORMANCE_MODE", switch, False)


def check_orders(url: str, requests: Iterable[str], env: Mapping[str, str]) -> None:
    """Refuse to send order-placing ``requests`` to a non-loopback system unless
    ``ABC_PERFORMANCE_MODE=true`` (the suite's word that the system simulates orders).

    The check that needs no connection: the suite's Locust users make it, and
    replay makes it first (before its preflight contacts the host), then
    :func:`check_orders_health` on the system's own answer.
    """
    orders = sorted(set(requests) & set(ORDER_REQUESTS))
    host = target_host(url)
    if not orders or is_loopback(host) or performance_mode(env):
        return
    raise ReplayError(
        f"ABC_PERFORMANCE_MODE: {host} would receive {' and '.join(orders)} requests, which "
        "place orders; set ABC_PERFORMANCE_MODE=true once the system runs in performance mode"
    )


def order_requests(requests: Iterable[str]) -> list[str]:
    """The order-placing request types among ``requests``, sorted."""
    return sorted(set(requests) & set(ORDER_REQUESTS))


def check_orders_health(
    url: str, requests: Iterable[str], performance_mode: bool | None, path: str
) -> None:
    """Refuse order-placing ``requests`` to a system whose health answer (at ``path``) does
    not say ``performance_mode: true`` — whatever the host, loopback included.

    The replayer's ``ABC_PERFORMANCE_MODE`` is a claim about the system; its
    health answer is the system's own word, so both must agree for a
    non-loopback host (:func:`check_orders` first), and the answer alone decides
    for loopback. ``allow_orders_without_performance_mode`` (the caller's
    business: it skips both) is the loud way around.
    """
    orders = order_requests(requests)
    if not orders or performance_mode:
        return
    said = "performance_mode: false" if performance_mode is False else "no performance_mode: true"
    raise ReplayError(
        f"{target_host(url)} would receive {' and '.join(orders)} requests, which place "
        f"orders, and its health answer ({path}) says {said}; pass ",
        Setting("allow_orders_without_performance_mode"),
        " to send them anyway",
    )
