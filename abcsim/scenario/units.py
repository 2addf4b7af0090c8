"""Byte sizes as people write them in configuration: ``2G``, ``512M``, ``64k``, ``1048576``.

The ABC suite's deployment sets ``ABC_MEMORY_LIMIT=2G``; a leak fault of
``leak_bytes=64K`` leaks 65,536 bytes per request. Suffixes are binary
(``K`` = 1024), with or without ``i`` and ``B`` (``2Gi``, ``2GB``); a bare
number is bytes.
"""

from __future__ import annotations

import re

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])I?)?B?\s*", re.IGNORECASE)


def parse_bytes(text: str) -> int:
    """``"2G"`` → 2147483648; raises :class:`ValueError` naming what it expected."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"must be a size such as 2G, 512M or 65536, got {text!r}")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "").upper()])
