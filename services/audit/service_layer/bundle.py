"""Audit bundles: a slice of the log an auditor can check offline, with no access to the services.

A bundle is an uncompressed .tar (or, when the path is not *.tar, a directory) holding:
- events.jsonl: leaves [start, end), one per line, exactly the canonical bytes of trail.event (the
  leaf inputs; canonical JSON escapes every control character, so a raw b"\\n" only ends a line);
- heads.jsonl: every signed tree head with tree_size <= end, in timestamp order;
- keys.json: every signing key (a rotated key still verifies the heads it signed);
- manifest.json: format, origin, start, end, count, the latest included head, the frontier of the tree
  before `start` (the hashes of merkle.frontier(start): with them, the exported leaves reproduce the
  root of every head of size >= start), and the sha256 of the other three files. It is the tar's
  last member: the sums are computed while the other files stream.
Uncompressed tar because its members can be read side by side (the verifier walks events and heads
together) and streamed: export (to a file, or over HTTP as GET /v1/log/export) and verification both
use constant memory, whatever the log's size.

The manifest and keys.json are NOT signed: trust comes only from the signed heads, and only if the
auditor compares the keys with ones obtained elsewhere (verify_bundle's `trusted`; the CLI's --key).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import tarfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from ..domain import checkpoint, merkle
from ..domain.chunks import chunked
from ..domain.chain import canonical_bytes

FORMAT = "zhengfeng-audit-bundle/1"
FILES = ("events.jsonl", "heads.jsonl", "keys.json")    # hashed in the manifest, written before it
BATCH = 5000
CHUNK = 64 * 1024
Progress = Callable[[int, int], None]


def _b64(b: bytes) -> str:
    return base64.b64encode(bytes(b)).decode()


class RangeRefused(ValueError):
    def __init__(self, start: int, end: int, size: int):
        super().__init__(f"cannot export [{start}, {end}) from a log of {size} entries")
        self.start, self.end, self.size = start, end, size


def _stream(conn, name: str, query: str, params: tuple) -> Iterator[dict]:
    with conn.cursor(name=name) as cur:          # server-side cursor: constant memory
        cur.itersize = BATCH
        cur.execute(query, params)
        yield from cur


def _chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    return chunked(pieces, CHUNK)


def _hashed(sums: dict[str, str], name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks as they are, their sha256 put in `sums` once the last one has been read."""
    sha = hashlib.sha256()
    for chunk in chunks:
        sha.update(chunk)
        yield chunk
    sums[name] = sha.hexdigest()


class Export:
    """The bundle of leaves [start, end), read from one snapshot of the database so that trail, tree and
    heads agree while the log grows. `end` defaults to the latest signed head's size, so that by
    default every exported event is covered by a signature. RangeRefused for a range the log lacks.

    `files()` gives each file as (name, size, chunks) and `tar()` the tar stream's bytes: every size is
    known before its bytes are read (an SQL sum for the events, a first pass over the heads), so the
    tar is written as it is read, never held whole, on disk or in memory. manifest.json comes last:
    it holds the sha256 of the other files, computed while they stream (`manifest` is set then)."""

    def __init__(self, conn, start: int = 0, end: int | None = None):
        from psycopg.pq import TransactionStatus

        from ..adapters import heads, trail, tree   # here, not at import: verify_bundle must need no DB driver
        # One snapshot for trail, tree and heads, and for both passes over the heads: the sizes announced
        # first must be the bytes sent later (only possible when no transaction is open yet; the caller
        # ends it: export() commits, the HTTP route rolls back when the response closes).
        if conn.info.transaction_status == TransactionStatus.IDLE:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        size = tree.tree_size(conn)
        if end is None:
            latest = heads.latest(conn)
            end = latest["tree_size"] if latest else size
        if not 0 <= start <= end <= size:
            raise RangeRefused(start, end, size)
        self.conn, self.start, self.end, self.manifest = conn, start, end, None
        self._heads, self._tree, self._trail = heads, tree, trail

    def _head_lines(self) -> Iterator[bytes]:
        for h in _stream(self.conn, "bundle_heads", "SELECT * FROM tree_heads WHERE tree_size <= %s"
                         " ORDER BY timestamp_ms", (self.end,)):
            yield json.dumps(_head(h), ensure_ascii=False).encode("utf-8") + b"\n"

    def files(self) -> Iterator[tuple[str, int, Iterable[bytes]]]:
        conn, start, end, sums = self.conn, self.start, self.end, {}
        # The bytes psycopg sends for each event are its UTF-8 encoding: count those, plus the newline.
        sized = conn.execute("SELECT count(*) AS n, coalesce(sum(octet_length(convert_to(event, 'UTF8')) + 1), 0)"
                             " AS bytes FROM trail WHERE seq > %s AND seq <= %s", (start, end)).fetchone()
        events = self._trail.event_lines(conn, start, end)       # COPY: the stored bytes as they are
        yield "events.jsonl", sized["bytes"], _hashed(sums, "events.jsonl", events)
        heads_size = sum(map(len, self._head_lines()))         # a first pass: the size goes first
        last = conn.execute("SELECT * FROM tree_heads WHERE tree_size <= %s ORDER BY timestamp_ms DESC LIMIT 1",
                            (end,)).fetchone()
        last = last and _head(last)
        yield "heads.jsonl", heads_size, _hashed(sums, "heads.jsonl", _chunked(self._head_lines()))
        keys = json.dumps([{"key_id": k["key_id"], "origin": k["origin"], "public_key": _b64(k["public_key"])}
                           for k in self._heads.keys(conn)], indent=1, ensure_ascii=False).encode("utf-8")
        yield "keys.json", len(keys), _hashed(sums, "keys.json", [keys])
        positions = merkle.frontier(start)
        nodes = self._tree.Nodes(conn).fetch(positions)
        self.manifest = {"format": FORMAT, "origin": last["checkpoint"].split("\n", 1)[0] if last else None,
                         "start": start, "end": end, "count": sized["n"], "latest_head": last,
                         "frontier": [{"level": lv, "index": i, "hash": _b64(nodes(lv, i))} for lv, i in positions],
                         "sha256": sums}
        text = json.dumps(self.manifest, indent=1, ensure_ascii=False).encode("utf-8")
        yield "manifest.json", len(text), [text]

    def tar(self) -> Iterator[bytes]:
        """The bundle as an uncompressed POSIX (pax) tar, chunk by chunk."""
        total, stamp = 0, int(time.time())
        for name, size, chunks in self.files():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, stamp, 0o644
            header = info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape")
            yield header
            written = 0
            for chunk in chunks:
                written += len(chunk)
                yield chunk
            if written != size:      # the member's header is sent: a wrong size would corrupt the tar
                raise RuntimeError(f"{name}: {written} bytes read, {size} announced")
            padding = -size % tarfile.BLOCKSIZE
            yield tarfile.NUL * padding
            total += len(header) + size + padding
        end = 2 * tarfile.BLOCKSIZE     # two empty blocks end the archive; it fills its last record
        yield tarfile.NUL * (end + -(total + end) % tarfile.RECORDSIZE)


def _head(h) -> dict:
    return {"tree_size": h["tree_size"], "timestamp_ms": h["timestamp_ms"], "root": _b64(h["root"]),
            "key_id": h["key_id"], "checkpoint": h["checkpoint"]}


def export(conn, out: str | os.PathLike, start: int = 0, end: int | None = None) -> dict:
    """Writes the bundle of leaves [start, end) to `out` (a .tar file, or else a directory); returns
    the manifest. A tar is written under a temporary name and renamed when complete: never a
    half-written bundle under the final name."""
    bundle, out = Export(conn, start, end), Path(out)
    if out.suffix == ".tar":
        partial = out.with_name(out.name + ".partial")
        try:
            with open(partial, "wb") as f:
                for chunk in bundle.tar():
                    f.write(chunk)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name, _, chunks in bundle.files():
            with open(out / name, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
    conn.commit()
    return bundle.manifest


@contextmanager
def open_bundle(path: str | os.PathLike) -> Iterator[Callable[[str], IO[bytes]]]:
    """Yields open(name) -> binary file, for a directory or a .tar bundle. Members of an uncompressed
    tar opened from a path can be read side by side (each read seeks to its own offset)."""
    path = Path(path)
    if path.is_dir():
        opened: list[IO[bytes]] = []
        try:
            yield lambda name: opened.append(open(path / name, "rb")) or opened[-1]
        finally:
            for f in opened:
                f.close()
        return
    with tarfile.open(path, "r:") as tar:
        def member(name: str) -> IO[bytes]:
            f = tar.extractfile(name)                # KeyError when missing
            if f is None:
                raise KeyError(name)
            return f
        yield member


def is_cloudevent(event: object) -> bool:
    """The CloudEvents 1.0 required attributes only: an auditor's copy of the code may not know the
    event catalogue of the log's version, and needs not to."""
    return (isinstance(event, dict) and event.get("specversion") == "1.0"
            and all(isinstance(event.get(a), str) and event[a] for a in ("id", "source", "type")))


def canonical_ok(line: bytes) -> tuple[bool, str]:
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        return False, f"not JSON ({exc})"
    if not is_cloudevent(event):
        return False, "not a CloudEvent 1.0 (specversion, id, source, type)"
    if canonical_bytes(event) != line:
        return False, "not in canonical form (docs/CANONICAL.md)"
    return True, ""


def _quiet(done: int, total: int) -> None:
    pass


def verify_bundle(path: str | os.PathLike, progress: Progress = _quiet, trusted: set[bytes] | None = None,
                  stats: dict | None = None) -> list[str]:
    """Checks a bundle from its files alone; returns the problems found (empty: it verifies).
    `trusted`: public keys obtained elsewhere; when given, keys.json may name no other key.
    `stats` (optional) is filled with what was checked, for a summary."""
    problems: list[str] = []
    try:
        with open_bundle(path) as member:
            _verify(member, problems, progress, trusted, {} if stats is None else stats)
    except (OSError, tarfile.TarError, KeyError) as exc:
        problems.append(f"cannot read the bundle: {exc!r}")
    except (ValueError, TypeError, AttributeError) as exc:    # a malformed keys.json, say: stop, but report
        problems.append(f"malformed bundle: {exc!r}")
    return problems


def _verify(member, problems: list[str], progress: Progress, trusted, stats: dict) -> None:
    try:
        manifest = json.loads(member("manifest.json").read())
        start, end, count = int(manifest["start"]), int(manifest["end"]), int(manifest["count"])
        origin, sums = manifest["origin"], manifest["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"manifest.json is malformed: {exc!r}")
        return
    if manifest.get("format") != FORMAT:
        problems.append(f"unknown bundle format {manifest.get('format')!r}, expected {FORMAT}")
        return

    def check_sum(name: str, digest: str) -> None:
        if sums.get(name) != digest:
            problems.append(f"{name}: sha256 differs from the manifest's (file changed or damaged)")

    raw = member("keys.json").read()
    check_sum("keys.json", hashlib.sha256(raw).hexdigest())
    keys: dict[bytes, bytes] = {}
    for k in json.loads(raw):
        public = base64.b64decode(k["public_key"])
        if checkpoint.key_hash(k["origin"], public).hex() != k["key_id"]:
            problems.append(f"keys.json: key {k['key_id']} does not match its public key")
        elif trusted is not None and public not in trusted:
            problems.append(f"keys.json: key {k['key_id']} is not one of the trusted keys")
        else:
            keys[bytes.fromhex(k["key_id"])] = public
    stats["keys"] = [k.hex() for k in keys]

    # The tree just before `start`: its frontier is trusted only once a signed root is reproduced from it.
    positions = merkle.frontier(start)
    try:
        frontier = manifest["frontier"]
        if [(f["level"], f["index"]) for f in frontier] != positions:
            raise ValueError(f"the frontier of {start} leaves is {positions}")
        compact = merkle.CompactRange(start, [base64.b64decode(f["hash"], validate=True) for f in frontier])
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"manifest.json: bad frontier: {exc}")
        return

    events_sha = hashlib.sha256()

    def leaves() -> Iterator[bytes]:
        # Binary iteration splits at b"\n" only (str.splitlines would also split at U+2028 and others).
        for index, line in enumerate(member("events.jsonl"), start):
            events_sha.update(line)
            if line.endswith(b"\n"):
                line = line[:-1]
            else:
                problems.append(f"event {index}: the last line has no newline (file truncated?)")
            ok, why = canonical_ok(line)
            if not ok:
                problems.append(f"event {index}: {why}")
            yield merkle.leaf_hash(line)

    stream = leaves()

    def advance(size: int) -> None:
        while compact.size < size and (h := next(stream, None)) is not None:
            compact.append(h)
            if compact.size % BATCH == 0:
                progress(compact.size - start, count)

    heads_sha, last, last_size, checked, covered = hashlib.sha256(), None, -1, 0, start
    for n, line in enumerate(member("heads.jsonl"), 1):
        heads_sha.update(line)
        try:
            head = json.loads(line)
            size, stamp, note = int(head["tree_size"]), int(head["timestamp_ms"]), head["checkpoint"]
            root = base64.b64decode(head["root"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"heads.jsonl line {n}: malformed ({exc!r})")
            continue
        label = f"tree head for size {size} (timestamp {stamp})"
        if last is not None and stamp <= last["timestamp_ms"]:
            problems.append(f"{label}: timestamps must strictly increase")
        if size < last_size:
            problems.append(f"{label}: tree sizes must not shrink")
        last, last_size = head, max(last_size, size)
        try:
            signed = checkpoint.verify(note, keys)
            if (signed.origin, signed.tree_size, signed.root, signed.timestamp_ms) != (origin, size, root, stamp):
                problems.append(f"{label}: the signed note says something else")
        except checkpoint.BadCheckpoint as exc:
            problems.append(f"{label}: {exc}")
        if size > end:
            problems.append(f"{label}: beyond the exported end {end}")
        elif start <= size and compact.size <= size:   # heads before `start` can only have their signature checked
            advance(size)
            if compact.size < size:
                problems.append(f"{label}: events.jsonl stops at {compact.size}")
            elif compact.root() != root:
                problems.append(f"{label}: root differs from the one recomputed from the events")
            else:
                checked, covered = checked + 1, max(covered, size)
    check_sum("heads.jsonl", heads_sha.hexdigest())
    for h in stream:                            # the events after the last head: checked all the same
        compact.append(h)
    progress(compact.size - start, count)
    check_sum("events.jsonl", events_sha.hexdigest())
    if not compact.size - start == count == end - start:
        problems.append(f"events.jsonl has {compact.size - start} events; the manifest says {count}"
                        f" in [{start}, {end})")
    if manifest.get("latest_head") != last:
        problems.append("manifest.json: latest_head is not the last head of heads.jsonl")
    if count and covered == start:
        problems.append("no signed head in the bundle covers any of its events")
    stats.update(start=start, end=end, events=compact.size - start, heads_checked=checked, covered_to=covered,
                 origin=origin)
