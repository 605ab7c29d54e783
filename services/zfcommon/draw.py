"""Reproducible sampling draws: the re-check of dismissals (查否复查, intake) and the spot checks of
zero reports (零报告抽查, notify). Anyone can recompute a draw from the seed its event records."""
from __future__ import annotations

import hashlib


def draw(seed: str) -> float:
    """A number in [0, 1): the first 8 bytes of SHA-256(seed) as a big-endian integer ÷ 2^64."""
    return int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big") / 2 ** 64
