"""`zf`: developer and operator commands.

  zf up                      run the whole system locally (what `make up` calls)
  zf migrate                 apply every service's migrations (DATABASE_URL = an administrator)
  zf topics                  create the Kafka topics (KAFKA_BOOTSTRAP_SERVERS)
  zf token ROLE SUB [--unit U] [--channel C] [--ttl SECONDS]   issue a bearer token, signed with the newest
                             key of ZF_JWT_KEYS (or with ZF_JWT_SECRET when ZF_JWT_ALGORITHM=HS256)
  zf keys rotate [--keep N] [--at-once]   add a new signing key to ZF_JWT_KEYS (created if missing):
                             published at once, signing 15 s later (--at-once: now, for a leaked key);
                             the N newest keys stay published so their tokens still verify; no restart
  zf keys show               print the public JWKS of ZF_JWT_KEYS (what intake serves)
  zf catalogue               print the event catalogue as Markdown (docs/EVENTS.md)
  zf backup DIR              dump the whole database, consistently, into DIR/zhengfeng-<time>/ (DATABASE_URL = an administrator)
  zf restore BACKUP          restore a backup folder into an empty database and check it (DATABASE_URL = its
                             administrator; ZF_<SERVICE>_DB_PASSWORD as for zf migrate)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .settings import SERVICES, ConfigError


@dataclass(frozen=True)
class ToolSettings:
    """What the operator commands read from the environment."""
    database_url: str
    bootstrap: str
    jwt_secret: str
    jwt_algorithm: str
    jwt_keys: str
    partitions: int
    db_passwords: dict[str, str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ToolSettings":
        env = os.environ if env is None else env
        return cls(database_url=env.get("DATABASE_URL", ""), bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", ""),
                   jwt_secret=env.get("ZF_JWT_SECRET", ""),
                   jwt_algorithm=env.get("ZF_JWT_ALGORITHM", "").strip() or "EdDSA",
                   jwt_keys=env.get("ZF_JWT_KEYS", "").strip(), partitions=int(env.get("ZF_PARTITIONS", "6")),
                   db_passwords={s: env.get(f"ZF_{s.upper()}_DB_PASSWORD", "") for s in SERVICES})


def _seconds(text: str) -> int:
    """A token's lifetime: a whole number of seconds, at least one (0 or less would issue a token already expired)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, not {value}")
    return value


def _need(value: str, name: str) -> str:
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _backup_or_restore(args: argparse.Namespace, tools: ToolSettings) -> int:
    from .backup import BackupFailed, RestoreRefused, backup, restore
    from .pgtools import ToolMissing
    admin = _need(tools.database_url, "DATABASE_URL")
    try:
        if args.command == "backup":
            print(backup(admin, args.into))
            return 0
        for s, pw in tools.db_passwords.items():
            _need(pw, f"ZF_{s.upper()}_DB_PASSWORD")
        report = restore(admin, args.backup, tools.db_passwords)
    except (RestoreRefused, BackupFailed, ToolMissing) as exc:
        print(f"zf: {args.command} failed: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if report["problems"]:
        print("zf: the restored database does NOT match its backup (problems above)", file=sys.stderr)
        return 1
    print("zf: restored and checked; start the services on an empty broker or recreate the topics "
          "(deploy/README.md \"Backups and point-in-time recovery\")", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("migrate")
    sub.add_parser("topics")
    sub.add_parser("catalogue")
    sub.add_parser("backup").add_argument("into", type=Path)
    sub.add_parser("restore").add_argument("backup", type=Path)
    tok = sub.add_parser("token")
    tok.add_argument("role")
    tok.add_argument("sub")
    tok.add_argument("--unit")
    tok.add_argument("--channel")
    tok.add_argument("--ttl", type=_seconds, default=30 * 24 * 3600)
    keys = sub.add_parser("keys")
    keys.add_argument("action", choices=("rotate", "show"))
    keys.add_argument("--keep", type=int, default=3)
    keys.add_argument("--at-once", action="store_true")
    args = parser.parse_args(argv)

    try:
        if args.command == "up":
            from .devstack.stack import up
            return up()
        tools = ToolSettings.from_env()
        if args.command == "migrate":
            from .devstack.stack import migrate_all
            for s, pw in tools.db_passwords.items():
                _need(pw, f"ZF_{s.upper()}_DB_PASSWORD")
            migrate_all(_need(tools.database_url, "DATABASE_URL"), tools.db_passwords)
        elif args.command == "topics":
            from . import kafka
            from .events.catalogue import all_topics
            from .settings import TopicSettings
            kafka.ensure_topics_laid_out(_need(tools.bootstrap, "KAFKA_BOOTSTRAP_SERVERS"), all_topics(),
                                         TopicSettings.from_env())
        elif args.command == "token":
            from . import jwks
            from .auth import issue_token
            key = (_need(tools.jwt_secret, "ZF_JWT_SECRET") if tools.jwt_algorithm == jwks.HS256
                   else jwks.FileSigner(_need(tools.jwt_keys, "ZF_JWT_KEYS")))
            print(issue_token(key, args.role, args.sub, unit=args.unit, channel=args.channel, ttl_seconds=args.ttl))
        elif args.command == "keys":
            import json

            from . import jwks
            path = _need(tools.jwt_keys, "ZF_JWT_KEYS")
            if args.action == "rotate":
                print(json.dumps(jwks.rotate(path, keep=args.keep, at_once=args.at_once)))
            else:
                print(json.dumps(jwks.FileSigner(path).jwks(), indent=2))
        elif args.command in ("backup", "restore"):
            return _backup_or_restore(args, tools)
        elif args.command == "catalogue":
            from .events.docs import catalogue_markdown
            sys.stdout.write(catalogue_markdown())
    except (ConfigError, ValueError) as exc:
        print(f"zf: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
