"""Byte pieces joined into chunks of about a given size: few writes, little memory. Pure."""
from __future__ import annotations

from typing import Iterable, Iterator


def chunked(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    buf = bytearray()
    for piece in pieces:
        buf += piece
        if len(buf) >= size:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)
