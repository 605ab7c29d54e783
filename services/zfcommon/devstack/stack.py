"""`zf up`: the whole system on one machine, in the foreground.

Starts PostgreSQL and the broker unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name existing ones,
applies migrations, creates topics, runs every service process and restarts any that dies. Ctrl-C
(or SIGTERM) stops everything it started, services first, then the broker and PostgreSQL.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import jwks, kafka
from ..auth import issue_token
from ..db import COMMON_MIGRATIONS, EVENTSTORE_MIGRATIONS, WEB_MIGRATIONS, migrate, service_url
from ..events.catalogue import all_topics
from ..settings import DEFAULT_PORTS, SERVICES
from ..webhooks import new_secret
from .broker import LocalBroker
from .postgres import LocalPostgres
from .ports import wait_for_port

CONSUMING = ("ledger", "notify", "audit")
PRODUCING = ("intake", "notify")     # services with an event store, an outbox and a relay
# Partitions per topic under `zf up`. One machine runs one consumer per group, so more partitions buy
# no parallelism, while every fetch names every partition of every topic and costs the consumer and
# the broker per partition (docs/BENCHMARKS.md): 1 here, 6 in the production recipes. A broker that
# comes back empty may leave a consumer's position past the end of a new, shorter partition; the
# consumer notices and rewinds (EventConsumer._rewind_if_past_the_end).
PARTITIONS = 1
# Service settings `zf up` hands through unchanged (the rest it sets itself).
PASSTHROUGH = ("ZF_LOG_LEVEL", "ZF_CLOCK_FILE", "ZF_MIN_RATE_BASE", "ZF_RELAY_BATCH", "ZF_CONSUMER_BATCH",
               "ZF_RELAY_LINGER_MS", "ZF_CONSUMER_LINGER_MS",
               "ZF_HOTLINE_DEFAULT_CATEGORY", "ZF_HOTLINE_CALLBACK_URL", "ZF_HOTLINE_CALLBACK_SECRETS",
               "ZF_WEBHOOK_TIMEOUT", "ZF_WEBHOOK_RETRY_SCALE", "ZF_WEBHOOK_WORKERS", "ZF_ESCALATION_SECONDS",
               # notices (docs/NOTICES.md): unset, email and SMS are "not configured" and notices wait
               "ZF_SMTP_HOST", "ZF_SMTP_PORT", "ZF_SMTP_USER", "ZF_SMTP_PASSWORD", "ZF_SMTP_STARTTLS", "ZF_MAIL_FROM",
               "ZF_SMS_URL", "ZF_SMS_TOKEN", "ZF_SMS_PROVIDER", "ZF_NOTICE_OFFICE", "ZF_NOTICE_RETRY_SCHEDULE",
               "ZF_NOTICE_TIMEOUT", "ZF_NOTICE_WORKERS", "ZF_CASE_LINK",
               "ZF_PUBLIC_URL",     # the public site's address in feed links (docs/EXPOSURE.md)
               # the console (docs/CONSOLE.md): sessions, lockout, and single sign-on when an issuer is given
               "ZF_CONSOLE_IDLE_MINUTES", "ZF_CONSOLE_LOCKOUT_ATTEMPTS", "ZF_CONSOLE_LOCKOUT_MINUTES",
               "ZF_CONSOLE_PROXIES", "ZF_OIDC_ISSUER", "ZF_OIDC_CLIENT_ID", "ZF_OIDC_CLIENT_SECRET",
               "ZF_OIDC_ROLE_CLAIM", "ZF_OIDC_ROLE_MAP", "ZF_OIDC_UNIT_CLAIM", "ZF_OIDC_LOGIN_CLAIM")
FIRST_OFFICE = "admin"      # the console's first office login, made by `zf up` with a password kept under ZF_HOME


@dataclass
class StackConfig:
    """What `zf up` reads from the environment (its own settings; services read theirs)."""
    home: Path
    database_url: str | None
    bootstrap: str | None
    pg_port: int
    broker_port: int
    ports: dict[str, int]
    workers: int
    partitions: int
    restart: bool = True
    passthrough: dict[str, str] = field(default_factory=dict)   # service settings given to every process

    @classmethod
    def from_env(cls, env=None) -> "StackConfig":
        env = os.environ if env is None else env
        return cls(
            home=Path(env.get("ZF_HOME", ".zf")).absolute(),
            database_url=env.get("DATABASE_URL") or None,
            bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            pg_port=int(env.get("ZF_PG_PORT", "5433")),
            broker_port=int(env.get("ZF_BROKER_PORT", "9093")),
            ports={s: int(env.get(f"ZF_{s.upper()}_PORT", p)) for s, p in DEFAULT_PORTS.items()},
            workers=int(env.get("ZF_WORKERS", "2")),
            partitions=int(env.get("ZF_PARTITIONS", str(PARTITIONS))),
            restart=env.get("ZF_RESTART", "1") != "0",
            passthrough={k: env[k] for k in PASSTHROUGH if env.get(k)},
        )


def load_secrets(home: Path) -> dict:
    """Local secrets, made once and kept under ZF_HOME so a second `make up` finds the same keys."""
    path = home / "secrets.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    made = {"contact_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
            "notify_master_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
            "tracking_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
            "signing_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
            "db_passwords": lambda: {s: secrets.token_urlsafe(18) for s in SERVICES},
            "hotline_webhook_secret": new_secret, "sms_reply_secret": new_secret,
            "console_secret_key": lambda: secrets.token_urlsafe(32),
            "console_first_password": lambda: secrets.token_urlsafe(12)}
    keys = home / "jwt-keys.json"          # the Ed25519 key set tokens are signed with (zfcommon.jwks)
    if not keys.exists():
        home.mkdir(parents=True, exist_ok=True)
        jwks.rotate(keys)
    missing = [k for k in made if k not in data]
    new_roles = [s for s in SERVICES if s not in data.get("db_passwords", {s: None for s in SERVICES})]
    if missing or new_roles:   # a new home, or one made before a secret or a service existed: add what is missing
        home.mkdir(parents=True, exist_ok=True)
        data.update({k: made[k]() for k in missing})
        data["db_passwords"].update({s: secrets.token_urlsafe(18) for s in new_roles})
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    return {**data, "jwt_keys": str(keys)}


def migration_dirs(service: str) -> list[Path]:
    """A service's migrations: the shared event store if it writes events, the shared consumer
    bookkeeping if it consumes, what every HTTP service needs (rate limits), then its own."""
    import importlib.resources as resources
    return ([EVENTSTORE_MIGRATIONS] if service in PRODUCING else []) + \
           ([COMMON_MIGRATIONS] if service in CONSUMING else []) + [WEB_MIGRATIONS] + \
           [Path(str(resources.files(service).joinpath("migrations")))]


def migrate_all(admin_url: str, passwords: dict[str, str]) -> None:
    for service in SERVICES:
        migrate(admin_url, service, migration_dirs(service), passwords[service])


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int | None = None
    popen: subprocess.Popen | None = None
    restarts: int = 0
    log: Path | None = None

    def start(self) -> None:
        with open(self.log or os.devnull, "ab") as out:   # the child keeps its own copy
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)


@dataclass
class Stack:
    config: StackConfig
    procs: list[Proc] = field(default_factory=list)
    postgres: LocalPostgres | None = None
    broker: LocalBroker | None = None
    first_office: str = ""     # created | pending | changed: whether the banner shows the first password

    def run_dir(self) -> Path:
        return self.config.home / "run"

    def _env(self, service: str, admin_url: str, bootstrap: str, sec: dict) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
        metrics_dir = self.run_dir() / "metrics" / service
        env.update({
            "DATABASE_URL": service_url(admin_url, service, sec["db_passwords"][service]),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            # EdDSA: every service verifies with intake's JWKS; those that mint hold the key set file.
            **({} if service == "ledger" else {"ZF_JWT_KEYS": sec["jwt_keys"]}),
            "ZF_PARTITIONS": str(self.config.partitions),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "PYTHONUNBUFFERED": "1",
            **self.config.passthrough,
        })
        if service in ("intake", "notify"):
            env["ZF_TRACKING_KEY"] = sec["tracking_key"]
        if service == "intake":
            env["ZF_CONTACT_KEY"] = sec["contact_key"]
            env["ZF_HOTLINE_WEBHOOK_SECRETS"] = sec["hotline_webhook_secret"]
        if service == "audit":
            env["ZF_AUDIT_SIGNING_KEY"] = sec["signing_key"]
        if service == "notify":
            env["ZF_SMS_REPLY_SECRETS"] = sec["sms_reply_secret"]
            env["ZF_NOTIFY_MASTER_KEY"] = sec["notify_master_key"]
            # A notice's 案件详情 link is the console's case page (sign in, then the case), unless given.
            env.setdefault("ZF_CASE_LINK", f"http://127.0.0.1:{self.config.ports['console']}/cases/{{case_id}}")
        if service == "console":
            env["ZF_CONSOLE_SECRET_KEY"] = sec["console_secret_key"]
            # A printed 受理回执 names where to track the case: notify's public page, here on this machine.
            env.setdefault("ZF_PUBLIC_URL", f"http://127.0.0.1:{self.config.ports['notify']}")
        env.update({f"ZF_{s.upper()}_PORT": str(p) for s, p in self.config.ports.items()})
        return env

    def plan(self, admin_url: str, bootstrap: str, sec: dict) -> list[Proc]:
        py = sys.executable
        gunicorn = str(Path(py).parent / "gunicorn")
        procs = []
        for service in SERVICES:
            env = self._env(service, admin_url, bootstrap, sec)
            port = self.config.ports[service]
            procs.append(Proc(f"{service}-http", [
                gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(self.config.workers),
                "--config", "python:zfcommon.gunicorn_conf", f"{service}.entrypoints.http:create_app()"],
                env, port=port))
            if service in PRODUCING:
                procs.append(Proc(f"{service}-relay", [py, "-m", f"{service}.entrypoints.relay"], env))
            if service in CONSUMING:
                procs.append(Proc(f"{service}-consumer", [py, "-m", f"{service}.entrypoints.consumer"], env))
            if service == "audit":
                procs.append(Proc("audit-signer", [py, "-m", "audit.entrypoints.signer"], env))
            if service == "notify":
                procs.append(Proc("notify-dispatcher", [py, "-m", "notify.entrypoints.dispatcher"], env))
                procs.append(Proc("notify-scheduler", [py, "-m", "notify.entrypoints.scheduler"], env))
                procs.append(Proc("notify-sender", [py, "-m", "notify.entrypoints.sender"], env))
        for p in procs:
            p.log = self.run_dir() / f"{p.name}.log"
        return procs

    def write_status(self) -> None:
        status = {p.name: {"pid": p.popen.pid if p.popen else None, "restarts": p.restarts, "port": p.port}
                  for p in self.procs}
        if self.broker and self.broker.proc:
            status["broker"] = {"pid": self.broker.proc.pid, "port": self.broker.port}
        if self.postgres and self.postgres.proc:
            # admin_url: the Unix socket (no password), for local tools such as the benchmarks' anchors.
            status["postgres"] = {"pid": self.postgres.proc.pid, "port": self.postgres.port,
                                  "admin_url": self.postgres.url}
        tmp = self.run_dir() / "status.json.tmp"
        tmp.write_text(json.dumps(status, indent=2))
        tmp.replace(self.run_dir() / "status.json")

    def start(self) -> dict:
        cfg = self.config
        cfg.home.mkdir(parents=True, exist_ok=True)
        if self.run_dir().exists():
            shutil.rmtree(self.run_dir())
        for service in SERVICES:
            (self.run_dir() / "metrics" / service).mkdir(parents=True)
        sec = load_secrets(cfg.home)
        admin_url = cfg.database_url
        if not admin_url:
            self.postgres = LocalPostgres(cfg.home / "pgdata", cfg.pg_port).start()
            admin_url = self.postgres.url
        bootstrap = cfg.bootstrap
        if not bootstrap:
            self.broker = LocalBroker(cfg.broker_port, self.run_dir()).start()
            bootstrap = self.broker.bootstrap
        migrate_all(admin_url, sec["db_passwords"])
        kafka.ensure_topics(bootstrap, all_topics(), cfg.partitions)
        intake_env = self._env("intake", admin_url, bootstrap, sec)
        subprocess.run([sys.executable, "-m", "intake.entrypoints.seed"], env=intake_env, check=True,
                       stdout=subprocess.DEVNULL)
        # The console's first office login; its password (kept in secrets.json) must be changed at first login.
        self.first_office = subprocess.run(
            [sys.executable, "-m", "console.entrypoints.admin", "first-office", FIRST_OFFICE],
            env=self._env("console", admin_url, bootstrap, sec), input=sec["console_first_password"] + "\n",
            text=True, check=True, capture_output=True).stdout.strip()
        self.procs = self.plan(admin_url, bootstrap, sec)
        for p in self.procs:
            p.start()
        for p in self.procs:
            if p.port:
                wait_for_port(p.port, 60)
        self.write_status()
        return sec

    def supervise_once(self) -> None:
        """Restart any process that died (and the embedded broker: it comes back empty)."""
        changed = False
        if self.broker and self.broker.proc and self.broker.proc.poll() is not None:
            print(f"zf: broker exited ({self.broker.proc.returncode}); restarting it empty", flush=True)
            self.broker.start()
            # Laid out as at start, if this comes before the clients' metadata requests: Tansu creates a
            # missing topic they name with 4 partitions (docs/DECISIONS.md), which the consumers survive.
            try:
                kafka.ensure_topics(self.broker.bootstrap, all_topics(), self.config.partitions)
            except Exception as exc:    # the relays lay them out too (check_broker): not fatal here
                print(f"zf: topics not created after the broker restart: {exc}", flush=True)
            changed = True
        if self.postgres and self.postgres.proc and self.postgres.proc.poll() is not None:
            print(f"zf: postgres exited ({self.postgres.proc.returncode}); restarting it", flush=True)
            self.postgres.start()
            changed = True
        for p in self.procs:
            if p.popen and p.popen.poll() is not None:
                print(f"zf: {p.name} exited ({p.popen.returncode}); restarting", flush=True)
                p.restarts += 1
                p.start()
                changed = True
        if changed:
            self.write_status()

    def stop(self) -> None:
        for p in self.procs:
            if p.popen and p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.procs:
            if p.popen:
                try:
                    p.popen.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.popen.kill()
                    p.popen.wait()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()


def banner(stack: Stack, sec: dict) -> str:
    lines = ["", "Zhengfeng (正风台账) is running:"]
    for service in SERVICES:
        lines.append(f"  {service:<7} http://127.0.0.1:{stack.config.ports[service]}   "
                     f"(OpenAPI: /openapi.json, health: /healthz /readyz, metrics: /metrics)")
    lines.append("")
    lines.append(f"Console (工作台): http://127.0.0.1:{stack.config.ports['console']}/")
    if stack.first_office in ("created", "pending"):
        lines.append(f"  first office login: {FIRST_OFFICE} / {sec['console_first_password']}   "
                     "(change it at first login; add people under 账号管理)")
    else:
        lines.append(f"  office login: {FIRST_OFFICE} (its first password was changed; "
                     "reset one with python -m console.entrypoints.admin reset LOGIN)")
    lines.append("")
    lines.append("Tokens for local use (Authorization: Bearer <token>):")
    examples = [("office", "office-demo", {}), ("unit", "unit-demo", {"unit": "县自然资源局"}),
                ("channel", "hotline-demo", {"channel": "hotline"}), ("auditor", "auditor-demo", {}),
                ("public", "public-demo", {})]
    for role, sub, scope in examples:
        lines.append(f"  {role:<8} {issue_token(jwks.FileSigner(sec['jwt_keys']), role, sub, **scope)}")
    lines.append("")
    lines.append(f"12345 hotline webhook: POST http://127.0.0.1:{stack.config.ports['intake']}/v1/hooks/hotline")
    lines.append(f"  signing secret (Standard Webhooks; also in {stack.config.home / 'secrets.json'}): "
                 f"{sec['hotline_webhook_secret']}")
    lines.append(f"SMS replies (gateway webhook): POST http://127.0.0.1:{stack.config.ports['notify']}/v1/sms/replies")
    lines.append(f"  signing secret: {sec['sms_reply_secret']}")
    lines.append("")
    lines.append(f"Logs: {stack.run_dir()}/*.log   Data: {stack.config.home}   Stop: Ctrl-C")
    return "\n".join(lines)


def up() -> int:
    stack = Stack(StackConfig.from_env())
    stopping = {"now": False}

    def _stop(*_):
        stopping["now"] = True
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        sec = stack.start()
        print(banner(stack, sec), flush=True)
        while not stopping["now"]:
            time.sleep(0.5)
            if stack.config.restart:
                stack.supervise_once()
    finally:
        print("\nzf: stopping…", flush=True)
        stack.stop()
        print("zf: stopped", flush=True)
    return 0
