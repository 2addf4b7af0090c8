"""Replay's rendered requests, as a server no one here wrote receives them: httpbin under gunicorn.

httpbin (PyPI) runs under gunicorn's threaded worker with a 2 s keep-alive,
on loopback, from its own venv (``make httpbin``); every request goes to its
``/anything`` echo (the target's base path), and each echo — httpbin's own
account of the method, query, headers and body it parsed — is appended to a
file (``servers/httpbin_echo_log.py``). The schedule is abc_week's templates
over a mix of every request type, in simultaneous bursts separated by idle
gaps of 2.05 to 2.9 s, so that gunicorn closes idle connections just as
bursts begin.

Checked: the bodies are valid JSON holding the rendered trading fields, the
query and headers are the templates' (with a bearer token from the
environment), two replays of the schedule send byte-identical requests, and
over 5 replays no request fails on a connection the server had closed (those
that met one were sent again, and counted).

Skipped when ``.venv-httpbin`` is missing, unless ``ABC_REQUIRE_HTTPBIN=1`` (CI).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from abcsim.results import read_results
from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.schedule.columns import ScheduleChunk
from abcsim.schedule.parquet import ScheduleMeta, ScheduleWriter
from tests.helpers import REPO, run_cli

pytestmark = pytest.mark.system  # a CI step of its own: make test-system

GUNICORN = REPO / ".venv-httpbin" / "bin" / "gunicorn"
TOKEN = "httpbin-test-token-5d1e"

if not GUNICORN.exists() and os.environ.get("ABC_REQUIRE_HTTPBIN") != "1":
    pytest.skip("httpbin is not installed (make httpbin)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def httpbin(echo_log: Path) -> Iterator[str]:
    """gunicorn serving httpbin on a free loopback port, keep-alive 2 s; its URL."""
    port = _free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "16", "--keep-alive", "2",
         "--pythonpath", str(Path(__file__).parent / "servers"), "httpbin_echo_log:app"],
        env={**os.environ, "ECHO_LOG": str(echo_log)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30.0
        while server.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start")
        yield f"http://127.0.0.1:{port}/anything"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _bursty_schedule(path: Path) -> Path:
    """abc_week's scenario inside; 6 bursts of 120 requests of every type due at one
    instant (a market open), after idle gaps of 2.05 to 2.9 s: gunicorn closes connections
    idle for 2 s on its next tick, up to a second later, so each burst meets connections it
    is closing. Without the idle limit and the resend, 1.4-6% of such requests failed
    (3 runs of 12 bursts of 150: 25, 93 and 108 of 1,800), all on connections it closed."""
    scenario = load_scenario("abc_week")
    rng = np.random.default_rng(7)
    times, at = [], 0.2
    for gap in (2.05, 2.4, 2.9, 2.2, 2.6, 2.1):
        times.append(np.full(120, at))
        at += gap
    t = np.concatenate(times)
    n = t.size
    chunk = ScheduleChunk(
        event_id=np.arange(n, dtype=np.int64) * 3 + 11,
        t=t,
        agent_id=rng.integers(0, 20, n).astype(np.int32),
        agent_type=rng.integers(0, 2, n).astype(np.int8),
        request=(np.arange(n) % len(REQUEST_TYPES)).astype(np.int8),
        size=rng.integers(1, 60, n).astype(np.int32),
        agent_types=("trading", "hft"),
        end=at,
    )
    meta = ScheduleMeta(
        scenario_name=scenario.name,
        scenario_text=scenario.text,
        seed=scenario.seed,
        start=scenario.start,
        duration_s=at,
        agent_types=("trading", "hft"),
    )
    with ScheduleWriter(path, meta) as writer:
        writer.write_chunk(chunk)
    return path


def _echoes(log: Path) -> dict[int, dict[str, Any]]:
    """The echoes of scheduled requests (not the preflight's), by event id."""
    out = {}
    for line in log.read_text().splitlines():
        echo = json.loads(line)
        event_id = echo["headers"].get("X-Abc-Event-Id")
        if event_id is not None:
            out[int(event_id)] = echo
    return out


def test_templates_arrive_as_rendered_identically_and_no_request_dies_on_a_stale_connection(
    tmp_path: Path,
) -> None:
    schedule = _bursty_schedule(tmp_path / "bursts.parquet")
    events = pq.read_metadata(schedule).num_rows
    runs: list[dict[int, dict[str, Any]]] = []
    resent = 0
    for k in range(5):
        log = tmp_path / f"echo{k}.jsonl"
        out = tmp_path / f"run{k}.parquet"
        with httpbin(log) as url:
            result = run_cli(
                "replay", str(schedule), "-t", url, "-o", str(out), "-q",
                "--header", "Authorization: Bearer ${ABC_TOKEN}",
                "--allow-orders-without-performance-mode",  # httpbin's health says nothing of it
                cwd=tmp_path, env={"ABC_TOKEN": TOKEN},
            )  # fmt: skip
        assert result.returncode == 0, result.stderr
        results = read_results(out)
        assert len(results) == events
        failed = results[results["outcome"] != "ok"]
        assert failed.empty, failed["error"].value_counts().to_dict()  # none on a stale one
        resent += int(pq.read_schema(out).metadata[b"abcsim.resent"])
        runs.append(_echoes(log))
        assert len(runs[-1]) == events
        assert TOKEN.encode() not in out.read_bytes()
    first, second = runs[0], runs[1]
    # byte-identical: httpbin's raw body, query and our headers, event by event
    for event_id, echo in first.items():
        again = second[event_id]
        assert echo["data"] == again["data"] and echo["args"] == again["args"], event_id
        assert echo["headers"].get("Idempotency-Key") == again["headers"].get("Idempotency-Key")
    _check_rendered(first)
    print(f"resent on a fresh connection over 5 runs: {resent}")  # shown with -s


def _check_rendered(echoes: dict[int, dict[str, Any]]) -> None:
    """What httpbin parsed is the abc_week templates, rendered."""
    kinds: dict[str, int] = {}
    for event_id, echo in echoes.items():
        assert echo["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert echo["headers"]["X-Abc-Synthetic"] == "1"
        path = echo["url"].split("/anything", 1)[1].split("?")[0]
        kinds[path] = kinds.get(path, 0) + 1
        if echo["method"] == "GET":
            assert path == "/api/v1/health" and set(echo["args"]) == {"size"}
            continue
        body = echo["json"]
        assert body is not None and json.loads(echo["data"]) == body  # valid JSON, as sent
        assert isinstance(body["size"], int) and 1 <= body["size"] < 60
        if path == "/api/v1/agents/trade-execution":
            assert body["client_order_id"].endswith(f"-{event_id}")
            assert echo["headers"]["Idempotency-Key"] == body["client_order_id"]
            assert body["side"] in ("buy", "sell") and body["order_type"] == "limit"
            assert isinstance(body["quantity"], int) and body["quantity"] > 0
            assert isinstance(body["limit_price"], float | int) and body["limit_price"] > 0
            assert body["account"].startswith("desk-")
        elif path == "/api/v1/agents/data-collection":
            assert body["fields"] == ["bid", "ask", "last", "volume"]
            assert body["as_of"].startswith("2026-") and body["as_of"].endswith("Z")
    assert len(kinds) == len(REQUEST_TYPES), kinds  # every request type was seen
