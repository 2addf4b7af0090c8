"""``abcsim target`` as a user runs it: in a subprocess, on a free loopback port.

Bad input — a bad scenario, a port in use, an unknown fault, a bad environment
variable — is one line on stderr naming the problem and exit status 2. A
running target prints its URL, serves, and stops cleanly on SIGTERM and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from abcsim.target import serve_in_thread

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "scenarios" / "smoke.toml"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This checkout's abcsim, no ``ABC_*`` from the caller, plus ``extra``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), environ.get("PYTHONPATH")) if p)
    environ.update(extra or {})
    return environ


def run_target_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``abcsim target ARGS`` expecting failure: returns its one stderr line."""
    result = subprocess.run(
        [sys.executable, "-m", "abcsim", "target", *args],
        cwd=cwd,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, report
    assert "Traceback" not in result.stderr, report
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), report
    assert result.stdout == "", report
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def test_port_in_use(tmp_path: Path, busy_port: int) -> None:
    line = run_target_cli("--port", str(busy_port), cwd=tmp_path)
    assert line == f"error: cannot serve on 127.0.0.1:{busy_port}: address already in use"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("latency=5", "error: --fault: latency: unknown fault (known: error_rate, "),
        ("error_rate=2", "error: --fault: error_rate: must be a fraction from 0 to 1, got '2'"),
    ],
    ids=["unknown", "bad-value"],
)
def test_bad_fault(tmp_path: Path, fault: str, expected: str) -> None:
    """(Every other bad fault value: tests/target/test_target_settings.py.)"""
    line = run_target_cli("--port", "0", "--fault", fault, cwd=tmp_path)
    assert line.startswith(expected), line


def test_bad_scenario_names_file_and_field(tmp_path: Path) -> None:
    """(Every other bad ``[system]``: tests/scenario/test_system_section.py.)"""
    text = SMOKE.read_text(encoding="utf-8")
    assert text.count("p95_ms = 600,") == 1, "smoke.toml no longer holds risk's P95 once"
    (tmp_path / "bad.toml").write_text(text.replace("p95_ms = 600,", "p95_ms = 100,"))
    line = run_target_cli("--scenario", "bad.toml", "--port", "0", cwd=tmp_path)
    expected = "error: bad.toml: system.service.risk_analysis.p95_ms: must be >= median_ms (200)"
    assert line.startswith(expected), line


def test_missing_scenario(tmp_path: Path) -> None:
    line = run_target_cli("--scenario", "nope.toml", "--port", "0", cwd=tmp_path)
    assert line.startswith("error: nope.toml: no such file"), line


def test_bad_environment(tmp_path: Path) -> None:
    env = {"ABC_MAX_CONCURRENT_REQUESTS": "lots"}
    line = run_target_cli("--port", "0", cwd=tmp_path, env=env)
    assert line == "error: ABC_MAX_CONCURRENT_REQUESTS: must be a whole number >= 1, got 'lots'"


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serves_and_stops_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    """Environment sets workers and memory limit, a flag beats the environment's workers."""
    env = _env({"ABC_MAX_CONCURRENT_REQUESTS": "3", "ABC_MEMORY_LIMIT": "1G"})
    args = ["--scenario", str(SMOKE), "--port", "0", "--fault", "error_rate=0.01"]
    if signum == signal.SIGINT:
        args += ["--workers", "5"]
    process = subprocess.Popen(
        [sys.executable, "-m", "abcsim", "target", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0, url
        health = _get_json(f"{url}/health")
        assert health["workers"] == (5 if signum == signal.SIGINT else 3)
        assert health["memory_limit_bytes"] == 2**30
        assert health["faults"] == {"error_rate": 0.01}
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    assert err.splitlines()[-1] == "abcsim target: stopped", err
    assert out == ""


def _ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_serves_on_ipv6_loopback() -> None:
    """``--host ::1`` binds an IPv6 socket (it failed on an IPv4 one) and answers there."""
    with serve_in_thread("smoke", host="::1", port=0) as target:
        assert target.url.startswith("http://[::1]:")
        with urllib.request.urlopen(target.url + "/health", timeout=10) as response:
            assert response.status == 200
