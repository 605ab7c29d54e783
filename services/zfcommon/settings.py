"""Configuration. Each service calls `Settings.from_env(<service>)` once; nothing else reads os.environ."""
from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NoReturn

SERVICES = ("intake", "ledger", "notify", "audit", "console")
# A case number's prefix (ZF in ZF-2026-000123): capital letters, digits and inner hyphens, as it must
# read the same in SMS, spreadsheets, URLs and the hotline's systems.
CASE_NUMBER_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
DEFAULT_PORTS = {"intake": 8001, "ledger": 8002, "notify": 8003, "audit": 8004, "console": 8005}
# The console (docs/CONSOLE.md) talks to the other services over HTTP only: it needs no broker.
WITHOUT_BROKER = ("console",)
# After a poll that was not full, how long a consumer gathers before its next fetch (ZF_CONSUMER_LINGER_MS
# overrides it for all). Each fetch costs kafka-python milliseconds of CPU, so the longer, the cheaper
# per event; the wait adds to what an event waits only while events flow. People read the ledger
# right after they act (visibility, docs/BENCHMARKS.md aims 3 and 4), so it gathers least; notify's
# and audit's work is measured in hours and days, so they gather for 200 ms.
CONSUMER_LINGER_MS = {"ledger": 60}
DEFAULT_CONSUMER_LINGER_MS = 200


def service_linger_ms(service: str) -> int:
    return CONSUMER_LINGER_MS.get(service, DEFAULT_CONSUMER_LINGER_MS)


TRACE_EXPORTERS = ("otlp", "console")   # OTEL_TRACES_EXPORTER values zfcommon.tracing knows
# EdDSA (Ed25519 keys published as a JWKS) in every deployment; HS256 (one shared secret) only when
# ZF_JWT_ALGORITHM=HS256 says so, for local development.
JWT_ALGORITHMS = ("EdDSA", "HS256")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def _integer(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


# A consumer's group session (ZF_CONSUMER_SESSION_TIMEOUT_MS): how long the broker waits for a member's
# heartbeat before it gives the member's partitions to another; Tansu also holds a group's first join
# for half of it, so a new consumer reads that long after it is made.
CONSUMER_SESSION_MS = 6000
KEEP_FOREVER = -1                            # Kafka's retention.ms for "never delete by age"
MIN_RETENTION_MS = 30 * 24 * 3600 * 1000     # a shorter one would outlast too few holidays and outages


@dataclass(frozen=True)
class TopicSettings:
    """How the topics are laid out on the broker, for whoever creates them (`zf topics`, `zf up`, and a
    relay or consumer that finds one missing). The defaults suit one broker, as under `zf up` and in the
    compose recipe; a production cluster uses ZF_TOPIC_REPLICATION_FACTOR=3 and
    ZF_TOPIC_MIN_INSYNC_REPLICAS=2, so that a write acknowledged with acks=all is on two brokers and
    one broker may be down (deploy/README.md "Kafka topics").

    Every topic keeps its records for good by default (retention.ms -1): a consumer that was stopped
    longer than a broker's retention (Kafka's default is 7 days, shorter than a Spring Festival) would
    otherwise find its position deleted and go on from the earliest record left, never applying what
    lay between (docs/DECISIONS.md "The topics keep every record")."""
    partitions: int = 6                      # ZF_PARTITIONS: every topic but the dead-letter ones (1 each)
    replication_factor: int = 1              # ZF_TOPIC_REPLICATION_FACTOR
    min_insync_replicas: int | None = None   # ZF_TOPIC_MIN_INSYNC_REPLICAS; unset: the broker's default
    retention_ms: int = KEEP_FOREVER         # ZF_TOPIC_RETENTION_MS: -1, or at least MIN_RETENTION_MS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "TopicSettings":
        env = os.environ if environ is None else environ
        topics = cls(partitions=_integer(env, "ZF_PARTITIONS", 6),
                     replication_factor=_integer(env, "ZF_TOPIC_REPLICATION_FACTOR", 1),
                     min_insync_replicas=_integer(env, "ZF_TOPIC_MIN_INSYNC_REPLICAS", None),
                     retention_ms=_integer(env, "ZF_TOPIC_RETENTION_MS", KEEP_FOREVER))
        if topics.partitions < 1:
            raise ConfigError(f"ZF_PARTITIONS must be at least 1, got {topics.partitions}")
        if topics.replication_factor < 1:
            raise ConfigError(f"ZF_TOPIC_REPLICATION_FACTOR must be at least 1, got {topics.replication_factor}")
        if topics.min_insync_replicas is not None and not 1 <= topics.min_insync_replicas <= topics.replication_factor:
            # more than the replicas there are: every acks=all write would be refused
            raise ConfigError(f"ZF_TOPIC_MIN_INSYNC_REPLICAS must be between 1 and ZF_TOPIC_REPLICATION_FACTOR "
                              f"({topics.replication_factor}), got {topics.min_insync_replicas}")
        if topics.retention_ms != KEEP_FOREVER and topics.retention_ms < MIN_RETENTION_MS:
            raise ConfigError(f"ZF_TOPIC_RETENTION_MS must be -1 (keep every record) or at least "
                              f"{MIN_RETENTION_MS} (30 days), got {topics.retention_ms}")
        return topics


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    kafka_bootstrap_servers: str
    jwt_secret: str                # HS256 only (ZF_JWT_ALGORITHM=HS256, local development)
    # Bearer tokens (docs/ARCHITECTURE.md "Authentication"): EdDSA signed with the key set file jwt_keys
    # (a JWKS with private keys; the processes that mint), verified against the JWKS at jwks_url (empty:
    # the public half of jwt_keys, as intake, which serves it, does).
    jwt_algorithm: str = "EdDSA"
    jwt_keys: str = ""
    jwks_url: str = ""
    jwks_refetch_seconds: float = 5.0   # at most one JWKS fetch this often for an unknown kid
    contact_key: str = ""          # base64 AES-256 master key wrapping complainant data keys (intake only)
    notify_master_key: str = ""    # base64 AES-256 master key sealing webhook secrets at rest (notify only)
    tracking_key: str = ""         # intake and notify: base64 secret a case's 查询码 is made with (checked by
                                   # zfcommon.trackingcode.TrackingKey when an app or the sender starts)
    partitions: int = 6
    log_level: str = "INFO"
    metrics_dir: str = ""          # PROMETHEUS_MULTIPROC_DIR shared by a service's processes
    relay_batch: int = 500
    consumer_batch: int = 500
    consumer_linger_ms: int = -1     # after a small poll, gather this long before the next fetch; -1: the service's
                                     # (CONSUMER_LINGER_MS), which from_env and __post_init__ fill in
    consumer_session_ms: int = CONSUMER_SESSION_MS   # 1,000–300,000
    relay_linger_ms: int = 20        # after a wake-up, let concurrent commits join the batch
    clock_file: str = ""           # test/demo only: a file holding the simulated "now" (zfcommon.clock)
    min_rate_base: int = 5         # below this many cases a rate is shown as not meaningful
    signing_key: str = ""          # audit only: base64 Ed25519 private key seed (32 bytes) for tree heads
    log_origin: str = "zhengfeng.example.cn/audit"   # the transparency log's name in its checkpoints
    intake_url: str = ""           # audit: intake's base URL, for reconciliation; notify: for the complainant
                                   # identity an exposure's redaction removes (docs/EXPOSURE.md)
    public_url: str = ""           # notify: the public site's base URL in feed links (empty: the request's);
                                   # console: where a printed 受理回执 says to track the case (empty: none)
    reconcile_seconds: int = 300   # audit only: how often the trail is reconciled with the event stores
    notify_url: str = ""           # audit only: notify's base URL, to reconcile the trail with notify's store
    ledger_url: str = ""           # notify only: ledger's base URL, for the bulletins' unit figures
    hotline_callback_url: str = ""      # notify only: where hotline status callbacks go; empty = off
    hotline_callback_secrets: str = ""  # notify only: whsec_ secrets signing them (several while rotating)
    webhook_timeout: float = 15.0       # notify only: seconds an endpoint has to answer a delivery
    webhook_retry_scale: float = 1.0    # test/demo only: factor on the Standard Webhooks retry schedule
    webhook_workers: int = 4            # notify only: deliveries the dispatcher sends at once
    hotline_webhook_secrets: str = ""    # intake only: whsec_ secrets the hotline signs with (several while
                                         # rotating; spaces or commas between); empty: the webhook answers 503
    hotline_default_category: str = "办事效率低"   # intake only: category of a work order without a known 问题类别
    escalation_seconds: float = 5.0     # notify only: how often the scheduler looks for escalation steps due
    # notify only, notices (docs/NOTICES.md): SMTP for email, an HTTP gateway for SMS; empty host/URL: the
    # channel is not configured and its notices are kept as not_configured.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = ""                 # the notices' From address
    sms_url: str = ""
    sms_token: str = ""                 # Bearer token for the gateway
    sms_provider: str = "generic-json"
    sms_reply_secrets: str = ""         # whsec_ secrets the gateway signs SMS replies with; empty: replies 503
    notice_office: str = "正风办"        # signs emails and is the SMS signature (签名)
    # notify only, publications as formal documents (docs/BULLETINS.md "Document number"): the issuer's
    # name (default: notice_office) and the 文号 patterns of monthly bulletins, interim reports and
    # supervision letters (docs/ESCALATION.md "Numbered supervision letters").
    office_name: str = ""               # empty: notice_office
    bulletin_number: str = "{office}通〔{year}〕{seq}号"
    interim_number: str = "{office}阶段通〔{year}〕{seq}号"
    letter_number: str = "{office}督〔{year}〕{seq}号"
    appraisal_number: str = "{office}评〔{year}〕{seq}号"
    notice_retry_schedule: str = "60,300,1800,7200,21600"   # seconds to wait after each failed attempt
    notice_timeout: float = 15.0        # seconds the SMTP server or the gateway has to answer
    notice_workers: int = 2             # notices the sender sends at once
    case_link: str = ""                 # a case's page for people, with {case_id}; empty: ledger's /v1/cases/{case_id}
    case_number_prefix: str = "ZF"      # the office's prefix of case numbers (ZF-2026-000123): intake numbers
                                        # with it, the ledger finds a case by its serial with it
    audit_url: str = ""                 # console only: audit's base URL (the trail pages)
    # console only (docs/CONSOLE.md): the key that signs session cookies, how long an idle session lasts,
    # how many wrong passwords lock an account and for how long, and how many proxies in front of it set
    # X-Forwarded-* (so it sees HTTPS and sets Secure cookies).
    console_secret_key: str = ""
    console_idle_minutes: int = 30
    console_lockout_attempts: int = 5
    console_lockout_minutes: int = 15
    console_proxies: int = 0
    # console only: single sign-on with the province's identity platform over OpenID Connect; empty issuer: off.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_role_claim: str = "groups"     # the claim holding the user's groups (a list or one string)
    oidc_role_map: str = ""             # "group=role,group=role": which group gives which role
    oidc_unit_claim: str = "zf_unit"    # the claim naming a unit user's unit (a directory name)
    oidc_login_claim: str = "preferred_username"
    # Tracing (docs/ARCHITECTURE.md "Tracing"), by the standard OpenTelemetry variables: OTEL_TRACES_EXPORTER
    # `otlp` or `console` turns it on (unset or `none`: off, the default), OTEL_SDK_DISABLED=true turns it off
    # whatever the exporter; OTEL_SERVICE_NAME names the service (default zhengfeng-<service>).
    otel_traces_exporter: str = ""
    otel_service_name: str = ""
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    topics: TopicSettings = field(default_factory=TopicSettings)   # the broker's topic layout

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None, *,
                 database_only: bool = False) -> "Settings":
        """database_only: for offline tools that read nothing but the service's database (audit's
        export and verify): the broker and the token secret may then be unset."""
        env = os.environ if environ is None else environ
        if service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}")

        def need(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"{name} is not set")
            return value

        def online(name: str) -> str:           # needed by everything but the offline tools
            return env.get(name, "").strip() if database_only else need(name)

        def integer(name: str, default: int) -> int:
            return _integer(env, name, default)

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            try:
                return float(raw) if raw else default
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None

        exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or exporter == "none":
            exporter = ""
        if exporter and exporter not in TRACE_EXPORTERS:
            raise ConfigError(f"OTEL_TRACES_EXPORTER must be one of {', '.join(TRACE_EXPORTERS)} or none, "
                              f"got {exporter!r}")
        ports = {s: integer(f"ZF_{s.upper()}_PORT", p) for s, p in DEFAULT_PORTS.items()}
        topics = TopicSettings.from_env(env)
        algorithm = env.get("ZF_JWT_ALGORITHM", "").strip() or "EdDSA"
        if algorithm not in JWT_ALGORITHMS:
            raise ConfigError(f"ZF_JWT_ALGORITHM must be one of {', '.join(JWT_ALGORITHMS)}, got {algorithm!r}")
        hs256 = algorithm == "HS256"
        intake_url = env.get("ZF_INTAKE_URL", "") or f"http://127.0.0.1:{ports['intake']}"
        # intake serves the JWKS and verifies with its own key set file, never by asking itself over HTTP.
        jwks_url = "" if hs256 or service == "intake" else (
            env.get("ZF_JWKS_URL", "").strip() or intake_url.rstrip("/") + "/.well-known/jwks.json")
        prefix = env.get("ZF_CASE_NUMBER_PREFIX", "").strip() or "ZF"
        if not CASE_NUMBER_PREFIX.match(prefix) or len(prefix) > 16:
            raise ConfigError(f"ZF_CASE_NUMBER_PREFIX must be 1-16 capital letters and digits (inner hyphens "
                              f"allowed), starting with a letter, got {prefix!r}")
        session_ms = integer("ZF_CONSUMER_SESSION_TIMEOUT_MS", CONSUMER_SESSION_MS)
        if not 1000 <= session_ms <= 300_000:
            raise ConfigError(f"ZF_CONSUMER_SESSION_TIMEOUT_MS must be between 1000 and 300000, got {session_ms}")
        return cls(
            service=service,
            database_url=need("DATABASE_URL"),
            kafka_bootstrap_servers=(env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() if service in WITHOUT_BROKER
                                     else online("KAFKA_BOOTSTRAP_SERVERS")),
            jwt_secret=online("ZF_JWT_SECRET") if hs256 else "",
            jwt_algorithm=algorithm,
            # intake mints client tokens and serves the JWKS: it cannot run without the key set
            jwt_keys=(need("ZF_JWT_KEYS") if service == "intake" and not hs256 and not database_only
                      else env.get("ZF_JWT_KEYS", "").strip()),
            jwks_url=jwks_url,
            jwks_refetch_seconds=number("ZF_JWKS_REFETCH_SECONDS", 5.0),
            contact_key=env.get("ZF_CONTACT_KEY", ""),
            notify_master_key=env.get("ZF_NOTIFY_MASTER_KEY", "").strip(),
            tracking_key=env.get("ZF_TRACKING_KEY", "").strip(),
            partitions=topics.partitions,
            log_level=env.get("ZF_LOG_LEVEL", "INFO").upper(),
            metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR", ""),
            relay_batch=integer("ZF_RELAY_BATCH", 500),
            consumer_batch=integer("ZF_CONSUMER_BATCH", 500),
            consumer_linger_ms=integer("ZF_CONSUMER_LINGER_MS", service_linger_ms(service)),
            consumer_session_ms=session_ms,
            relay_linger_ms=integer("ZF_RELAY_LINGER_MS", 20),
            clock_file=env.get("ZF_CLOCK_FILE", ""),
            min_rate_base=integer("ZF_MIN_RATE_BASE", 5),
            signing_key=env.get("ZF_AUDIT_SIGNING_KEY", ""),
            log_origin=env.get("ZF_LOG_ORIGIN", "zhengfeng.example.cn/audit"),
            intake_url=intake_url,
            reconcile_seconds=integer("ZF_RECONCILE_SECONDS", 300),
            notify_url=env.get("ZF_NOTIFY_URL", "") or f"http://127.0.0.1:{ports['notify']}",
            public_url=env.get("ZF_PUBLIC_URL", "").strip().rstrip("/"),
            ledger_url=env.get("ZF_LEDGER_URL", "") or f"http://127.0.0.1:{ports['ledger']}",
            hotline_callback_url=env.get("ZF_HOTLINE_CALLBACK_URL", "").strip(),
            hotline_callback_secrets=env.get("ZF_HOTLINE_CALLBACK_SECRETS", ""),
            webhook_timeout=number("ZF_WEBHOOK_TIMEOUT", 15.0),
            webhook_retry_scale=number("ZF_WEBHOOK_RETRY_SCALE", 1.0),
            webhook_workers=integer("ZF_WEBHOOK_WORKERS", 4),
            hotline_webhook_secrets=env.get("ZF_HOTLINE_WEBHOOK_SECRETS", ""),
            hotline_default_category=env.get("ZF_HOTLINE_DEFAULT_CATEGORY", "").strip() or "办事效率低",
            escalation_seconds=number("ZF_ESCALATION_SECONDS", 5.0),
            smtp_host=env.get("ZF_SMTP_HOST", "").strip(),
            smtp_port=integer("ZF_SMTP_PORT", 25),
            smtp_user=env.get("ZF_SMTP_USER", ""),
            smtp_password=env.get("ZF_SMTP_PASSWORD", ""),
            smtp_starttls=env.get("ZF_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on"),
            mail_from=env.get("ZF_MAIL_FROM", "").strip(),
            sms_url=env.get("ZF_SMS_URL", "").strip(),
            sms_token=env.get("ZF_SMS_TOKEN", ""),
            sms_provider=env.get("ZF_SMS_PROVIDER", "").strip() or "generic-json",
            sms_reply_secrets=env.get("ZF_SMS_REPLY_SECRETS", ""),
            notice_office=env.get("ZF_NOTICE_OFFICE", "").strip() or "正风办",
            office_name=env.get("ZF_OFFICE_NAME", "").strip(),
            bulletin_number=env.get("ZF_BULLETIN_NUMBER", "").strip() or "{office}通〔{year}〕{seq}号",
            interim_number=env.get("ZF_INTERIM_NUMBER", "").strip() or "{office}阶段通〔{year}〕{seq}号",
            letter_number=env.get("ZF_LETTER_NUMBER", "").strip() or "{office}督〔{year}〕{seq}号",
            appraisal_number=env.get("ZF_APPRAISAL_NUMBER", "").strip() or "{office}评〔{year}〕{seq}号",
            notice_retry_schedule=env.get("ZF_NOTICE_RETRY_SCHEDULE", "").strip() or "60,300,1800,7200,21600",
            notice_timeout=number("ZF_NOTICE_TIMEOUT", 15.0),
            notice_workers=integer("ZF_NOTICE_WORKERS", 2),
            case_link=env.get("ZF_CASE_LINK", "").strip(),
            case_number_prefix=prefix,
            audit_url=env.get("ZF_AUDIT_URL", "") or f"http://127.0.0.1:{ports['audit']}",
            console_secret_key=(need("ZF_CONSOLE_SECRET_KEY") if service == "console"
                                else env.get("ZF_CONSOLE_SECRET_KEY", "")),
            console_idle_minutes=integer("ZF_CONSOLE_IDLE_MINUTES", 30),
            console_lockout_attempts=integer("ZF_CONSOLE_LOCKOUT_ATTEMPTS", 5),
            console_lockout_minutes=integer("ZF_CONSOLE_LOCKOUT_MINUTES", 15),
            console_proxies=integer("ZF_CONSOLE_PROXIES", 0),
            oidc_issuer=env.get("ZF_OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=env.get("ZF_OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=env.get("ZF_OIDC_CLIENT_SECRET", ""),
            oidc_role_claim=env.get("ZF_OIDC_ROLE_CLAIM", "").strip() or "groups",
            oidc_role_map=env.get("ZF_OIDC_ROLE_MAP", "").strip(),
            oidc_unit_claim=env.get("ZF_OIDC_UNIT_CLAIM", "").strip() or "zf_unit",
            oidc_login_claim=env.get("ZF_OIDC_LOGIN_CLAIM", "").strip() or "preferred_username",
            otel_traces_exporter=exporter,
            otel_service_name=env.get("OTEL_SERVICE_NAME", "").strip(),
            ports=ports,
            topics=topics,
        )

    def __post_init__(self) -> None:
        if self.consumer_linger_ms < 0:
            object.__setattr__(self, "consumer_linger_ms", service_linger_ms(self.service))

    @property
    def port(self) -> int:
        return self.ports[self.service]



def decode_key(encoded: str, variable: str, length: int = 32) -> bytes:
    """A binary key from its base64 setting; ConfigError naming the variable when it is not one."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise ConfigError(f"{variable} must be base64") from None
    if len(raw) != length:
        raise ConfigError(f"{variable} must be {length} bytes, base64-encoded")
    return raw


def run_entrypoint(main: Callable[..., Any], *args: Any, parses_arguments: bool = False, **kwargs: Any) -> NoReturn:
    """Run a `python -m …` entry point: a setting that is missing or malformed is one line on stderr
    naming it (exit status 2), not a traceback; `-h`/`--help` prints the module's docstring, unless
    `main` parses its own arguments (argparse answers then)."""
    module = sys.modules["__main__"]
    prog = f"python -m {module.__spec__.name}" if getattr(module, "__spec__", None) else sys.argv[0]
    if not parses_arguments and any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(f"usage: {prog}\n\n{(module.__doc__ or '').strip()}")
        sys.exit(0)
    try:
        result = main(*args, **kwargs)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(result)
