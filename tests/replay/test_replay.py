"""Replay against the real reference target on 127.0.0.1: rows, clocks, stalls, scale."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abcsim.errors import ReplayError
from abcsim.replay import prepare_replay, run_replay
from abcsim.report import report
from abcsim.results import read_results
from abcsim.schedule import read_schedule
from abcsim.schedule.slicing import iter_slice
from abcsim.target import RunningTarget
from tests.conftest import Serve, fixed_scenario
from tests.helpers import uniform_schedule


def _replay(schedule: Path, url: str, out: Path, **options: object) -> pd.DataFrame:
    workers = int(options.pop("workers", 1))  # type: ignore[call-overload]
    prepared = prepare_replay(schedule, url, env={}, **options)  # type: ignore[arg-type]
    run_replay(prepared, out, workers=workers)
    return read_results(out)


def test_every_scheduled_event_ends_as_exactly_one_row(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=200, seconds=2)
    target = serve(fixed_scenario(2.0, workers=32))
    results = _replay(schedule, target.url, tmp_path / "r.parquet")
    expected = read_schedule(schedule)["event_id"].to_numpy()
    np.testing.assert_array_equal(np.sort(results["event_id"].to_numpy()), expected)
    assert (results["outcome"] == "ok").all()
    assert (results["status"] == 200).all()
    assert (results["latency"] >= results["service"]).all()


def test_sharded_replay_merges_one_row_per_event(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=2, agents=7)
    target = serve(fixed_scenario(2.0, workers=32))
    results = _replay(schedule, target.url, tmp_path / "r.parquet", workers=2)
    assert sorted(results["event_id"]) == list(range(200))
    assert (results["outcome"] == "ok").all()
    assert not list(tmp_path.glob(".*shard*"))


def _stall_from_now(target: RunningTarget, start: float, end: float) -> None:
    """Switch on a stall ``start``..``end`` seconds from now (the fault counts from uptime)."""
    uptime = time.monotonic() - target.state.faults.started  # the server's loop clock
    body = json.dumps({"stall": f"{uptime + start:.3f}:{uptime + end:.3f}"}).encode()
    request = urllib.request.Request(target.url + "/_admin/faults", body, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def test_a_stall_shows_in_latency_but_not_in_service(serve: Serve, tmp_path: Path) -> None:
    """A 1 s stall from 1.3 s on, 4 slots: what waits for a slot is not yet sent.

    A closed-loop tool would report those requests' service times (fast) and
    hide the stall; latency from the scheduled time shows it.
    """
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=3.5)
    target = serve(fixed_scenario(2.0, workers=32))
    _stall_from_now(target, 1.3, 2.3)  # the replay's clock starts ~0.3 s from now
    results = _replay(schedule, target.url, tmp_path / "r.parquet", max_in_flight=4, lateness_s=5.0)
    assert (results["outcome"] == "ok").all()
    waited = results[(results["latency"] - results["service"]) > 0.4]
    assert len(waited) >= 40, "requests scheduled in the stall waited for a slot"
    assert waited["service"].quantile(0.95) < 0.1
    assert results["latency"].max() > 0.7
    assert results["service"].quantile(0.95) < 0.1


def test_window_speed_and_scale_do_what_they_say(serve: Serve, tmp_path: Path) -> None:
    """Window 1..3 s of a 4 s schedule at speed 4, scale 2: 400 rows, sent over ~0.5 s."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=4)
    target = serve(fixed_scenario(1.0, workers=32))
    prepared = prepare_replay(schedule, target.url, env={}, window="1..3", speed=4, scale=2)
    run_replay(prepared, tmp_path / "r.parquet")
    results = read_results(tmp_path / "r.parquet")
    assert len(results) == 400
    assert results["t"].min() >= 1.0 and results["t"].max() < 3.0 + 1.0  # copies up to 1 s on
    originals = results[results["event_id"] < 10**12]
    assert sorted(originals["event_id"]) == list(range(100, 300))
    # sent is in schedule seconds, so at the right speed it tracks t: a replayer that
    # ignored --speed would spread 2 schedule seconds over 2 wall seconds, i.e. 8 here
    assert (results["sent"] - results["t"]).median() < 0.2
    assert 2.0 <= results["sent"].max() - results["sent"].min() < 4.0


@pytest.mark.parametrize("scale", [0.5, 1.5, 2.0])
def test_scale_thins_and_multiplies_in_proportion_and_order(tmp_path: Path, scale: float) -> None:
    """Deterministic hashing of event ids: within 3% of scale x events on 20,000 events,
    the same whatever the batch size, and in time order across batches."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=1000, seconds=20)
    whole = list(iter_slice(schedule, scale=scale))
    small = list(iter_slice(schedule, scale=scale, batch_rows=50))
    t = np.concatenate([b.t for b in small])
    assert t.size == pytest.approx(20_000 * scale, rel=0.03)
    assert (np.diff(t) >= 0).all()
    np.testing.assert_array_equal(
        np.sort(np.concatenate([b.event_id for b in whole])),
        np.sort(np.concatenate([b.event_id for b in small])),
    )


def test_a_target_that_is_down_gives_connection_errors(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ReplayError, match=rf"^preflight: 127.0.0.1:{port}: connection refused"):
        prepare_replay(schedule, url, env={})
    # past the preflight (the system went down since): every request is a row
    prepared = prepare_replay(schedule, url, env={}, preflight=False)
    run_replay(prepared, tmp_path / "r.parquet")
    results = read_results(tmp_path / "r.parquet")
    assert len(results) == 20
    assert (results["outcome"] == "connection_error").all()
    summary = report(tmp_path / "r.parquet")
    assert summary.exit_status == 1
    assert any("error rate" in line for line in summary.breaches)
