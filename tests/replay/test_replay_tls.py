"""Replay against a real server no one here wrote: Debian's nginx over HTTPS, on loopback.

nginx answers every ABC path with ``{}`` and its health path with
``{"status": "ok", "performance_mode": true}``, but only to ``Authorization:
Bearer <token>`` (401 otherwise), with a certificate from a CA the test makes
(openssl CLI); a second configuration also requires a client certificate.
With the right CA, token and certificate every request is ``ok``; with a
wrong one the preflight stops the replay before the clock starts: exit 2, one
line naming the host and the reason, no results file. And the token's value
appears in no file the run wrote, nor on its stdout or stderr.

Skipped when nginx is not installed, unless ``ABC_REQUIRE_NGINX=1`` (CI).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from abcsim.results import read_results
from tests.helpers import error_line, run_cli, uniform_schedule

pytestmark = pytest.mark.system  # a CI step of its own: make test-system

NGINX = "/usr/sbin/nginx"
HEALTH = "/api/v1/health"  # smoke's health_check endpoint

if not Path(NGINX).exists() and os.environ.get("ABC_REQUIRE_NGINX") != "1":
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path  # a CA that signed nothing here
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip


def _leaf(folder: Path, name: str, usage: str) -> None:
    ext = folder / f"{name}.ext"
    ext.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
             cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", ext.name,
             cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    _ca(folder, "ca")
    _ca(folder, "other")
    _leaf(folder, "server", "serverAuth")
    _leaf(folder, "client", "clientAuth")
    return Pki(
        folder / "ca.pem",
        folder / "other.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_CONFIG = """
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 100000;
    default_type application/json;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {pki.server_cert};
        ssl_certificate_key {pki.server_key};
        {client_auth}
        location = {health} {{
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
            return 200 '{{"status": "ok", "performance_mode": true}}';
        }}
        location / {{
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
            return 200 '{{}}';
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(root: Path, pki: Pki, token: str, *, client_auth: bool) -> Iterator[str]:
    """nginx on a free loopback port for the block; its https:// URL."""
    root.mkdir()
    port = _free_port()
    verify = f"ssl_client_certificate {pki.ca}; ssl_verify_client on;" if client_auth else ""
    config = root / "nginx.conf"
    config.write_text(
        _CONFIG.format(
            root=root, port=port, pki=pki, client_auth=verify, health=HEALTH, token=token
        )
    )
    server = subprocess.Popen(
        [NGINX, "-c", str(config), "-p", str(root), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10.0
        while server.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"nginx did not start: {(root / 'error.log').read_text()}")
        yield f"https://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def token() -> str:
    return f"s3cr3t-{secrets.token_hex(8)}"


BEARER = ("--header", "Authorization: Bearer ${ABC_TOKEN}")


def _replay(schedule: Path, url: str, *args: str, token: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "replay", str(schedule), "-t", url, "-q", *args,
        cwd=schedule.parent, env={"ABC_TOKEN": token},
    )  # fmt: skip


def test_the_right_ca_and_token_make_every_request_ok_and_the_token_is_nowhere(
    tmp_path: Path, pki: Pki, token: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    schedule = uniform_schedule(run / "s.parquet", rate=20, seconds=2, request="trade_execution")
    with nginx(tmp_path / "nginx", pki, token, client_auth=False) as url:
        result = _replay(schedule, url, *BEARER, "--ca-file", str(pki.ca), "--csv",
                         str(run / "ci"), token=token)  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = read_results(run / "s.results.parquet")
    assert len(results) == 40
    assert (results["outcome"] == "ok").all(), results["error"].unique()
    metadata = pq.read_schema(run / "s.results.parquet").metadata
    assert metadata[b"abcsim.header_names"] == b"Authorization"
    assert metadata[b"abcsim.tls_verify"] == b"true"
    written = [p for p in run.rglob("*") if p.is_file() and p.name != "s.parquet"]
    assert len(written) >= 5  # the results and four CSVs
    for path in written:
        assert token.encode() not in path.read_bytes(), path
    assert token not in result.stdout and token not in result.stderr


def test_a_wrong_ca_is_found_by_the_preflight(tmp_path: Path, pki: Pki, token: str) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    with nginx(tmp_path / "nginx", pki, token, client_auth=False) as url:
        line = error_line(_replay(schedule, url, *BEARER, "--ca-file", str(pki.other_ca),
                                  token=token))  # fmt: skip
    assert line.startswith(f"error: preflight: {url.removeprefix('https://')}: "), line
    assert "certificate is not trusted" in line and "--ca-file" in line
    assert not (tmp_path / "s.results.parquet").exists()


def test_a_missing_token_is_found_by_the_preflight(tmp_path: Path, pki: Pki, token: str) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    with nginx(tmp_path / "nginx", pki, token, client_auth=False) as url:
        line = error_line(_replay(schedule, url, "--ca-file", str(pki.ca), token=token))
        wrong = error_line(
            _replay(schedule, url, *BEARER, "--ca-file", str(pki.ca), token="s3cr3t-wrong")
        )
    host = url.removeprefix("https://")
    assert line.startswith(f"error: preflight: {host}: GET {HEALTH} answered HTTP 401"), line
    assert "--header" in line
    assert "HTTP 401" in wrong and "s3cr3t-wrong" not in wrong
    assert not (tmp_path / "s.results.parquet").exists()


def test_mutual_tls_needs_the_client_certificate(tmp_path: Path, pki: Pki, token: str) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    with nginx(tmp_path / "nginx", pki, token, client_auth=True) as url:
        refused = _replay(schedule, url, *BEARER, "--ca-file", str(pki.ca), token=token)
        assert not (tmp_path / "s.results.parquet").exists()
        mutual = ("--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key))
        result = _replay(schedule, url, *BEARER, "--ca-file", str(pki.ca), *mutual, token=token)
    line = error_line(refused)
    assert line.startswith(f"error: preflight: {url.removeprefix('https://')}: "), line
    assert "No required SSL certificate was sent" in line
    assert result.returncode == 0, result.stderr
    results = read_results(tmp_path / "s.results.parquet")
    assert len(results) == 20 and (results["outcome"] == "ok").all()


def test_insecure_is_warned_and_recorded(tmp_path: Path, pki: Pki, token: str) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    with nginx(tmp_path / "nginx", pki, token, client_auth=False) as url:
        result = _replay(schedule, url, *BEARER, "--insecure", token=token)
    assert result.returncode == 0, result.stderr
    assert "--insecure" in result.stderr.splitlines()[0]
    metadata = pq.read_schema(tmp_path / "s.results.parquet").metadata
    assert metadata[b"abcsim.tls_verify"] == b"false"


def test_bad_headers_and_tls_files_are_one_line(tmp_path: Path, pki: Pki) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    url = "https://127.0.0.1:9"  # never contacted: each is refused first
    unset = error_line(run_cli("replay", str(schedule), "-t", url, *BEARER, cwd=tmp_path))
    assert "--header" in unset and "Authorization" in unset and "${ABC_TOKEN}" in unset
    (tmp_path / "not.pem").write_text("not a certificate\n")
    for args, named in (
        (("--ca-file", str(tmp_path / "missing.pem")), "--ca-file: cannot read"),
        (("--ca-file", str(tmp_path / "not.pem")), "--ca-file"),
        (("--client-cert", str(tmp_path / "not.pem")), "--client-cert"),
        (("--client-key", str(pki.client_key)), "--client-key: needs --client-cert"),
        (("--header", "Bad Name: x"), "--header"),
        (("--header", "Host: x"), "--header: Host is set by abcsim"),
    ):
        line = error_line(run_cli("replay", str(schedule), "-t", url, *args, cwd=tmp_path))
        assert line.startswith(f"error: {named}"), (args, line)
    smuggled = run_cli("replay", str(schedule), "-t", url, *BEARER, cwd=tmp_path,
                       env={"ABC_TOKEN": "s3cr3t\r\nX-Evil: 1"})  # fmt: skip
    line = error_line(smuggled)
    assert "line break" in line and "s3cr3t" not in line
    plain = error_line(run_cli("replay", str(schedule), "-t", "http://127.0.0.1:9",
                               "--ca-file", str(pki.ca), cwd=tmp_path))  # fmt: skip
    assert plain.startswith("error: --ca-file: TLS settings apply to an https:// target only")


def test_locusts_engine_sends_the_same_headers_and_client_certificate(
    tmp_path: Path, pki: Pki, token: str
) -> None:
    """``--engine locust``: the master checks as abcsim does (its preflight with the token
    and certificates), each worker takes ${ABC_TOKEN} from its own environment and builds
    the same TLS context; every request ok against mutual TLS, the token in no file."""
    run = tmp_path / "run"
    run.mkdir()
    schedule = uniform_schedule(run / "s.parquet", rate=20, seconds=2, request="trade_execution")
    mutual = ("--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key))
    with nginx(tmp_path / "nginx", pki, token, client_auth=True) as url:
        result = _replay(schedule, url, *BEARER, "--ca-file", str(pki.ca), *mutual,
                         "--engine", "locust", "--processes", "1", token=token)  # fmt: skip
    assert result.returncode == 0, result.stderr + (run / "s.results.locust.log").read_text()
    results = read_results(run / "s.results.parquet")
    assert len(results) == 40 and (results["outcome"] == "ok").all(), results["error"].unique()
    written = [p for p in run.rglob("*") if p.is_file() and p.name != "s.parquet"]
    assert any(p.name.endswith(".locust.log") for p in written)
    for path in written:
        assert token.encode() not in path.read_bytes(), path
    assert token not in result.stdout and token not in result.stderr
