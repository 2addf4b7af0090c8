"""httpbin's WSGI app, with every ``/anything`` echo also appended to a JSON-lines file.

Run by gunicorn from its own venv (``make httpbin``), not imported by the tests:
``gunicorn --pythonpath tests/replay/servers httpbin_echo_log:app`` with
``ECHO_LOG=/path/echo.jsonl``. The echo is httpbin's own account of what it
received — method, query arguments, headers, raw body and parsed JSON — so
the tests read what a server no one here wrote saw, not what abcsim meant to send.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from httpbin import app as httpbin  # type: ignore[import-not-found, unused-ignore]

_LOG = os.environ["ECHO_LOG"]
_LOCK = threading.Lock()  # gthread serves requests on several threads


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b"".join(httpbin(environ, start_response))
    if environ.get("PATH_INFO", "").startswith("/anything"):
        line = json.dumps(json.loads(body), sort_keys=True)
        with _LOCK, open(_LOG, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    return [body]
