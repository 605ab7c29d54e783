"""`zf backup` and `zf restore`: the whole Zhengfeng database as one consistent dump, with what proves a
restore whole (deploy/README.md "Backups and point-in-time recovery").

A backup is a folder `zhengfeng-<UTC time>/` holding
- `database.dump`: pg_dump's custom format of the whole database — every service's schema, roles'
  grants, the extension the ledger's text search uses;
- `audit-public-keys.json`: the keys that sign the audit log's tree heads and the latest signed
  checkpoint, so the restored log can be checked against what was signed before the backup;
- `manifest.json`: when, from which server, with which pg_dump, the dump's SHA-256, the migrations of
  every schema, and how many events each store and the trail held.

Everything is read in one snapshot: the manifest's figures are taken in a REPEATABLE READ transaction
whose snapshot pg_dump then uses (--snapshot), so the dump holds exactly what the manifest counts — the
event stores, their outboxes, the projections, the trail and the consumers' bookkeeping at one instant.

Restoring needs an empty database (no Zhengfeng schema yet). The service roles are created first (the
dump's grants name them), pg_restore's script runs through psql in one transaction, `zf migrate` then brings an older backup up
to this version, and the result is checked: the dump's checksum before, the figures, the signed head and
keys, and `audit verify` after. What the dump does not hold are the master keys (ZF_CONTACT_KEY,
ZF_NOTIFY_MASTER_KEY) and the audit signing key: without the same keys a restored database cannot open
complainant data or webhook secrets. Keep them apart from the backups.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from . import db, pgtools
from .devstack.stack import migrate_all, migration_dirs
from .settings import SERVICES

FORMAT = 1
DUMP, KEYS, MANIFEST = "database.dump", "audit-public-keys.json", "manifest.json"
# What the manifest counts: each event store and its unpublished outbox, the trail and its signed heads.
COUNTED = ("intake.events", "intake.outbox", "notify.events", "notify.outbox", "audit.trail", "audit.tree_heads")


class RestoreRefused(RuntimeError):
    """The backup cannot be restored here (named why); nothing was changed."""


class BackupFailed(RuntimeError):
    """pg_dump or pg_restore failed: its own words (a restore runs in one transaction: nothing restored)."""


def _tool_env(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment passing it (not on the command line, where
    `ps` would show it)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ, **({"PGPASSWORD": str(password)} if password else {}))
    return make_conninfo(**params), env


def _server_major(conn: psycopg.Connection) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()["server_version_num"]) // 10000


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _figures(conn: psycopg.Connection) -> dict[str, Any]:
    counts = {t: conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(*t.split(".")))
                              ).fetchone()["n"] for t in COUNTED}
    migrations = {s: sorted(r["name"] for r in conn.execute(
        sql.SQL("SELECT name FROM {}.schema_migrations").format(sql.Identifier(s)))) for s in SERVICES}
    keys = [{"key_id": r["key_id"], "origin": r["origin"], "public_key": bytes(r["public_key"]).hex(),
             "first_used": r["first_used"].isoformat()}
            for r in conn.execute("SELECT * FROM audit.signing_keys ORDER BY first_used, key_id")]
    head = conn.execute("SELECT tree_size, root, checkpoint FROM audit.tree_heads ORDER BY timestamp_ms DESC"
                        " LIMIT 1").fetchone()
    latest = {"tree_size": head["tree_size"], "root": bytes(head["root"]).hex(), "checkpoint": head["checkpoint"]} \
        if head else None
    return {"counts": counts, "migrations": migrations, "keys": keys, "latest_head": latest}


def backup(admin_url: str, into: Path, now: datetime | None = None) -> Path:
    """Write a backup folder under `into`; returns it. `admin_url`: an administrator of the database."""
    now = now or datetime.now(timezone.utc)
    folder = Path(into) / f"zhengfeng-{now.strftime('%Y%m%dT%H%M%SZ')}"
    try:
        folder.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        raise BackupFailed(f"{folder} already exists (a backup of the same second): nothing written") from None
    url, env = _tool_env(admin_url)
    with db.connect(admin_url, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot() AS s").fetchone()["s"]
        figures = _figures(conn)
        server = conn.execute("SHOW server_version").fetchone()["server_version"]
        tool = pgtools.find("pg_dump", _server_major(conn))
        # The exporting transaction stays open while pg_dump reads under its snapshot.
        done = subprocess.run([str(tool.path), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                               f"--file={folder / DUMP}", f"--dbname={url}"], env=env, capture_output=True, text=True)
        conn.execute("ROLLBACK")
    if done.returncode != 0:
        shutil.rmtree(folder)               # no half a backup that could be taken for one
        raise BackupFailed(f"pg_dump failed, nothing kept: {done.stderr.strip()[-2000:]}")
    (folder / DUMP).chmod(0o600)
    (folder / KEYS).write_text(json.dumps({"keys": figures["keys"], "latest_head": figures["latest_head"]},
                                          indent=2, ensure_ascii=False))
    manifest = {"format": FORMAT, "created_at": now.isoformat(), "server_version": server, "pg_dump": tool.version,
                "pg_dump_major": tool.major, "dump": {"file": DUMP, "sha256": _sha256(folder / DUMP),
                                                      "bytes": (folder / DUMP).stat().st_size},
                "counts": figures["counts"], "migrations": figures["migrations"],
                "latest_head": figures["latest_head"]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return folder


def _check_backup(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise RestoreRefused(f"{folder} is not a Zhengfeng backup: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"backup format {manifest.get('format')!r}; this version reads {FORMAT}")
    if _sha256(folder / DUMP) != manifest["dump"]["sha256"]:
        raise RestoreRefused(f"{folder / DUMP} does not match the SHA-256 in its manifest: damaged or altered")
    for service, names in manifest["migrations"].items():
        known = {f"{p.parent.name}/{p.name}" for d in migration_dirs(service) for p in Path(d).glob("*.sql")}
        newer = sorted(set(names) - known)
        if newer:
            raise RestoreRefused(f"the backup is from a newer Zhengfeng ({service} has {', '.join(newer)}): "
                                 "restore it with that version")
    return manifest


def restore(admin_url: str, folder: Path, passwords: dict[str, str]) -> dict[str, Any]:
    """Restore the backup in `folder` into the empty database of `admin_url`, bring it up to this
    version's migrations and check it; returns what was checked. RestoreRefused before any change."""
    folder = Path(folder)
    manifest = _check_backup(folder)
    with db.connect(admin_url, autocommit=True) as conn:
        present = [r["nspname"] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname", (list(SERVICES),))]
        if present:
            raise RestoreRefused(f"the database already has Zhengfeng schemas ({', '.join(present)}): "
                                 "restore into a new, empty database")
        server_major = _server_major(conn)
        tool = pgtools.find("pg_restore", max(server_major, manifest["pg_dump_major"]))
        for service in SERVICES:            # the dump's grants name the roles
            db.ensure_role(conn, service, passwords[service])
    _run_restore(tool, admin_url, folder / DUMP, server_major)
    migrate_all(admin_url, passwords)
    return verify_restored(admin_url, folder, passwords["audit"])


def for_server(script: Iterable[bytes], server_major: int) -> Iterator[bytes]:
    """pg_restore's SQL script, made fit for the server: pg_restore 17 and newer write
    `SET transaction_timeout = 0;` whatever the server, and a PostgreSQL older than 17 refuses the
    whole script for it (the image's client programs are PostgreSQL 18's, compose runs PostgreSQL 16).
    Rows of COPY data pass untouched, whatever they hold."""
    in_copy = False
    for line in script:
        if in_copy:
            in_copy = line.rstrip(b"\r\n") != b"\\."
        elif line.startswith(b"COPY ") and line.rstrip().endswith(b" FROM stdin;"):
            in_copy = True
        elif server_major < 17 and line.rstrip() == b"SET transaction_timeout = 0;":
            continue
        yield line


def _run_restore(tool: pgtools.Tool, admin_url: str, dump: Path, server_major: int) -> None:
    """pg_restore writes the script, psql (of the same installation) runs it in one transaction,
    stopping at the first error, and commits only when pg_restore wrote it all: everything restored,
    or nothing."""
    url, env = _tool_env(admin_url)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        writer = subprocess.Popen([str(tool.path), "--no-owner", "--exit-on-error", "--file=-", str(dump)],
                                  env=env, stdout=subprocess.PIPE, stderr=restore_err)
        runner = subprocess.Popen([str(tool.path.parent / "psql"), "--no-psqlrc", "--quiet", "--no-password",
                                   "--set=ON_ERROR_STOP=1", f"--dbname={url}"],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err)
        try:
            runner.stdin.write(b"BEGIN;\n")
            for line in for_server(writer.stdout, server_major):
                runner.stdin.write(line)
            if writer.wait() == 0:
                runner.stdin.write(b"COMMIT;\n")
            runner.stdin.close()            # without COMMIT, psql's transaction ends rolled back
        except BrokenPipeError:             # psql stopped at an error: its words say which
            writer.kill()
        finally:
            writer.stdout.close()
        # psql's error first: when it stopped, pg_restore was killed and has nothing to say.
        for name, proc, err in (("psql", runner, psql_err), ("pg_restore", writer, restore_err)):
            if proc.wait() != 0:
                err.seek(0)
                words = err.read().decode(errors="replace").strip()[-2000:]
                raise BackupFailed(f"restore failed, nothing restored: {name}: {words}")


def verify_restored(admin_url: str, folder: Path, audit_password: str) -> dict[str, Any]:
    """The restored database against its manifest: the same figures, the same signing keys, the signed
    head of the backup present as it was signed, and the whole audit log recomputed (audit verify)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    with db.connect(admin_url) as conn:
        figures = _figures(conn)
    problems = [f"{k}: {figures['counts'][k]} restored, {v} in the backup"
                for k, v in manifest["counts"].items() if figures["counts"].get(k) != v]
    if json.loads((folder / KEYS).read_text())["keys"] != figures["keys"]:
        problems.append("the audit signing keys differ from audit-public-keys.json")
    head = manifest["latest_head"]
    if head:
        with db.connect(admin_url) as conn:
            found = conn.execute("SELECT 1 FROM audit.tree_heads WHERE tree_size = %s AND root = %s AND checkpoint = %s",
                                 (head["tree_size"], bytes.fromhex(head["root"]), head["checkpoint"])).fetchone()
        if not found:
            problems.append(f"the backup's signed tree head (size {head['tree_size']}) is not in the restored log")
    audit_url = db.service_url(admin_url, "audit", audit_password)
    verified = subprocess.run([sys.executable, "-m", "audit.entrypoints.verify"], capture_output=True, text=True,
                              env={k: v for k, v in os.environ.items() if not k.startswith("ZF_")}
                              | {"DATABASE_URL": audit_url})
    if verified.returncode != 0:
        problems.append(f"audit verify: {(verified.stdout + verified.stderr).strip()[-1000:]}")
    return {"counts": figures["counts"], "latest_head": head and head["tree_size"], "problems": problems,
            "audit_verify": verified.stdout.strip()}
