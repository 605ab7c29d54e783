"""`python -m console.entrypoints.admin`: console accounts from the command line.

  first-office LOGIN            create the first office account if there is no account yet, its password read
                                from standard input (zf up does this with the password it keeps under ZF_HOME);
                                prints created | pending (the first password is still unchanged) | changed
  add LOGIN --role R [--unit U] --name NAME [--phone P]
                                create an account; prints its generated first password (changed at first login)
  reset LOGIN                   a new generated password, to be changed at the next login
"""
from __future__ import annotations

import argparse
import sys

from zfcommon import db
from zfcommon.clock import clock_for
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.passwords import Hasher
from ..adapters.repository import UnitOfWork
from ..domain.accounts import Account, AccountError
from ..service_layer import accounts as handlers

ACTOR = "system:console-admin"


def first_office(uow, hasher: Hasher, now, login: str, password: str) -> str:
    """The first office account, made only while the console has no account at all."""
    existing = uow.store.account(login)
    if existing is not None:
        return "pending" if existing.must_change_password and hasher.verify(existing.password_hash, password) \
            else "changed"
    if uow.store.count_accounts():
        return "changed"
    uow.store.insert_account(Account(login=login, display_name="正风办管理员", role="office",
                                     password_hash=hasher.hash(password)), ACTOR, now)
    uow.store.record(now, ACTOR, "account", "created", login, role="office", unit=None, display_name="正风办管理员")
    uow.commit()
    return "created"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.entrypoints.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("first-office").add_argument("login")
    add = sub.add_parser("add")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=("office", "unit", "auditor"))
    add.add_argument("--unit")
    add.add_argument("--name", required=True)
    add.add_argument("--phone")
    sub.add_parser("reset").add_argument("login")
    args = parser.parse_args(argv)

    settings = Settings.from_env("console")
    now = clock_for(settings.clock_file).now()
    pool = db.make_pool(settings.database_url, max_size=1, name="console-admin")
    pool.open()
    hasher = Hasher()
    try:
        with UnitOfWork(pool) as uow:
            if args.command == "first-office":
                print(first_office(uow, hasher, now, args.login, sys.stdin.readline().strip()))
            elif args.command == "add":
                print(handlers.create_account(uow, hasher, ACTOR, now, login=args.login, display_name=args.name,
                                              role=args.role, unit=args.unit, phone=args.phone))
            else:
                print(handlers.reset_password(uow, hasher, ACTOR, now, args.login))
    except AccountError as exc:
        print(f"refused: {'; '.join(m for ms in exc.errors.values() for m in ms)}", file=sys.stderr)
        return 2
    finally:
        pool.close()
    return 0


if __name__ == "__main__":
    run_entrypoint(main, parses_arguments=True)
