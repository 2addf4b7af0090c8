"""Locust-format CSVs: the headers of a real ``locust --headless --csv`` run, and our values.

A real Locust process (a FastHttpUser against a tiny aiohttp server on a free
loopback port, three seconds) writes its four CSVs; ours must have the same
header lines byte for byte, and data rows of the same shape.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from abcsim.report import stats_table_lines, write_locust_csvs
from abcsim.report.locust_csv import csv_paths
from abcsim.results import RunClock, results_stats, stats_history
from abcsim.scenario import load_scenario
from tests.results.frames import Req, frame, meta

ENDPOINTS = load_scenario("smoke").endpoints

LOCUSTFILE = """
from locust import FastHttpUser, constant, task


class Desk(FastHttpUser):
    wait_time = constant(0.05)

    @task(3)
    def quote(self):
        self.client.get("/ok")

    @task
    def order(self):
        self.client.post("/fail", json={"symbol": "EURUSD"})
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """An aiohttp server on 127.0.0.1: ``/ok`` answers 200, ``/fail`` 503."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="quote")

    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_post("/fail", fail)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    host, port = runner.addresses[0][:2]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


@pytest.fixture(scope="module")
def locust_run(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """CSV prefix and console output of a 3 s headless Locust run (about 5 s in all)."""
    folder = tmp_path_factory.mktemp("locust")
    (folder / "locustfile.py").write_text(LOCUSTFILE)
    prefix = folder / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "locustfile.py",
            "--headless",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "3s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--host",
            server,
        ],
        cwd=folder,  # so no pyproject.toml or locust.conf of ours is read
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: there were failures
    return prefix, done.stdout + done.stderr


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        Req(0.2, "data_collection", 12.5, bytes=300),
        Req(0.7, "trade_execution", 40.0, "http_error", 20, "HTTP 503"),
        Req(1.4, "trade_execution", None, "dropped"),
        Req(2.1, "health_check", 1.25, bytes=2),
    ]
    results = frame(rows)
    clock = RunClock.from_meta(meta())
    stats = results_stats(results, ENDPOINTS, clock=clock, duration_s=3.0)
    history = stats_history(results, ENDPOINTS, clock=clock, duration_s=3.0)
    prefix = tmp_path_factory.mktemp("ours") / "deeper" / "run"
    write_locust_csvs(prefix, stats, history)
    return prefix


def _first_line(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[0] + b"\n"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_headers_equal_a_real_locust_runs(locust_run: tuple[Path, str], ours: Path) -> None:
    theirs, _ = locust_run
    for mine, real in zip(csv_paths(ours), csv_paths(theirs), strict=True):
        assert real.exists(), real
        assert _first_line(mine) == _first_line(real), real.name


def test_rows_have_locusts_shape(locust_run: tuple[Path, str], ours: Path) -> None:
    theirs, _ = locust_run
    for mine, real in zip(csv_paths(ours)[:3], csv_paths(theirs)[:3], strict=True):
        real_rows, my_rows = _rows(real), _rows(mine)
        assert len(real_rows) > 1 and len(my_rows) > 1, real.name
        assert {len(r) for r in my_rows} == {len(r) for r in real_rows}, real.name
    real_stats, my_stats = _rows(csv_paths(theirs)[0]), _rows(csv_paths(ours)[0])
    assert real_stats[-1][:2] == my_stats[-1][:2] == ["", "Aggregated"]
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    for row in _rows(csv_paths(theirs)[2])[1:] + _rows(csv_paths(ours)[2])[1:]:
        assert stamp.fullmatch(row[4]) and stamp.fullmatch(row[5])


def test_console_headers_equal_the_real_runs(locust_run: tuple[Path, str], ours: Path) -> None:
    _, output = locust_run
    stats = results_stats(frame([Req(0.1, "health_check", 3.0)]), ENDPOINTS)
    header, separator = stats_table_lines(stats)[:2]  # not a terminal: Locust's width is 80
    assert header in output
    assert separator in output


def test_stats_values(ours: Path) -> None:
    rows = _rows(csv_paths(ours)[0])
    by_name = {r[1]: r for r in rows[1:]}
    # both trade requests failed (a 503, a drop): counted, never timed — Locust's zeros for
    # the times, but N/A for the percentiles, so a gate on them never reads a dead row as fast
    trade = by_name["/api/v1/agents/trade-execution"]
    assert trade[:6] == ["POST", "/api/v1/agents/trade-execution", "2", "2", "0", "0.0"]
    assert trade[6:11] == ["0", "0", "10.0", str(2 / 3), str(2 / 3)]
    assert trade[11:] == ["N/A"] * 11
    total = by_name["Aggregated"]  # the answered: 12.5 and 1.25 ms
    assert total[2:4] == ["4", "2"]
    assert total[4:8] == ["12", "6.875", "1.25", "12.5"]
    assert total[11:] == ["12"] * 11


def test_history_has_a_row_per_second_from_the_start(ours: Path) -> None:
    rows = _rows(csv_paths(ours)[1])[1:]
    start = int(meta().wall_start.timestamp())
    assert [int(r[0]) for r in rows] == [start, start + 1, start + 2, start + 3]
    assert all(r[2:4] == ["", "Aggregated"] for r in rows)
    assert rows[0][6:17] == ["N/A"] * 11  # nothing yet, as Locust writes it
    assert rows[0][4:6] == ["0.000000", "0.000000"]
    # responses end at 0.2125, 0.74, 1.4 (dropped: when it was due) and 2.10125 s
    assert [r[17] for r in rows] == ["0", "2", "3", "4"]
    assert [r[18] for r in rows] == ["0", "1", "2", "2"]
    assert [r[6] for r in rows] == ["N/A", "12", "12", "12"]  # cumulative median of the answered


def test_failures_rows(ours: Path) -> None:
    rows = _rows(csv_paths(ours)[2])[1:]
    first = (meta().wall_start + dt.timedelta(seconds=0.74)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows == [
        ["POST", "/api/v1/agents/trade-execution", "HTTP 503", "1", first, first],
        ["POST", "/api/v1/agents/trade-execution", "dropped", "1", *[rows[1][4]] * 2],
    ]


def test_exceptions_file_is_only_its_header(ours: Path) -> None:
    assert csv_paths(ours)[3].read_bytes() == b"Count,Message,Traceback,Nodes\r\n"


def test_writes_leave_no_temporary_files(ours: Path) -> None:
    assert sorted(p.name for p in ours.parent.iterdir()) == sorted(p.name for p in csv_paths(ours))
