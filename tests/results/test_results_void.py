"""The void verdict from the results alone: late sends or the generator's own drops."""

from __future__ import annotations

from dataclasses import replace

from abcsim.results import digest_frame
from abcsim.results.void import void_reason
from tests.results.frames import Req, frame, meta

RATE = 100  # requests per second over a 10 s window: a mean gap of 10 ms


def _run(late_ms: float, late_every: int, drops: int = 0) -> list[Req]:
    rows = [
        Req(i / RATE, "data_collection", 20.0 + (late_ms if i % late_every == 0 else 0.0),
            lag_ms=late_ms if i % late_every == 0 else 0.5)
        for i in range(10 * RATE)
    ]  # fmt: skip
    rows += [Req(5.0, "data_collection", None, "dropped", error="late") for _ in range(drops)]
    return rows


def test_on_time_sends_are_a_verdict() -> None:
    digest = digest_frame(frame(_run(late_ms=40.0, late_every=50)))  # 2% at 40 ms late
    assert void_reason(digest, meta((0.0, 10.0))) is None


def test_a_late_p99_voids_it_with_its_figure() -> None:
    digest = digest_frame(frame(_run(late_ms=400.0, late_every=20)))  # 5% at 400 ms late
    reason = void_reason(digest, meta((0.0, 10.0)))
    assert reason is not None and reason.startswith("send lag P99 4") and "> 100 ms" in reason


def test_the_generators_drops_void_it_and_a_plan_is_never_void() -> None:
    digest = digest_frame(frame(_run(late_ms=0.0, late_every=1, drops=5)))  # 0.5% dropped
    reason = void_reason(digest, meta((0.0, 10.0)))
    assert reason is not None and "5 requests (0.50%) never sent" in reason
    assert void_reason(digest, replace(meta((0.0, 10.0)), source="plan")) is None
    assert void_reason(digest_frame(frame(_run(0.0, 1, drops=1))), meta((0.0, 10.0))) is None
