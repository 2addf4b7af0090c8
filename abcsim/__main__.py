"""``python -m abcsim`` — the same as the ``abcsim`` command."""

from __future__ import annotations

from abcsim.cli import main

main()
