"""The production recipe (docker-compose.yml, deploy/Dockerfile, deploy/example.env), checked without Docker.

Docker cannot run on the development machines or in CI, so these tests read the files and hold them
against what the code actually needs: the services and ports in zfcommon.settings, the variables that
Settings.from_env and the `zf` tool read, and the modules under services/. Nothing is started and
nothing but these files is read.
"""
from __future__ import annotations

import json
import re
import shlex
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from zfcommon.cli import ToolSettings
from zfcommon.settings import DEFAULT_PORTS, SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
EXAMPLE_ENV = ROOT / "deploy" / "example.env"
LOCK_FILE = ROOT / "requirements.lock"
SOURCES = ROOT / "services"

# Each service's background process: intake relays its outbox, the others consume events.
WORKERS = {
    "intake": ("intake-relay", "intake.entrypoints.relay"),
    "ledger": ("ledger-consumer", "ledger.entrypoints.consumer"),
    "notify": ("notify-consumer", "notify.entrypoints.consumer"),
    "audit": ("audit-consumer", "audit.entrypoints.consumer"),
}
# Further background processes beyond the one per service.
EXTRA_WORKERS = {"audit-signer": ("audit", "audit.entrypoints.signer"),
                 "notify-relay": ("notify", "notify.entrypoints.relay"),
                 "notify-dispatcher": ("notify", "notify.entrypoints.dispatcher"),
                 "notify-scheduler": ("notify", "notify.entrypoints.scheduler"),
                 "notify-sender": ("notify", "notify.entrypoints.sender")}
APP_SERVICES = {**{s: s for s in SERVICES}, **{w: s for s, (w, _) in WORKERS.items()},
                **{w: s for w, (s, _) in EXTRA_WORKERS.items()}}  # compose name -> service
# Keys only one service may hold.
OWN_SECRETS = {"intake": {"ZF_CONTACT_KEY"}, "audit": {"ZF_AUDIT_SIGNING_KEY"}, "console": {"ZF_CONSOLE_SECRET_KEY"},
               "notify": {"ZF_NOTIFY_MASTER_KEY"}}
# Keys two services share, and no other may hold: the 查询码 intake gives and notify checks.
SHARED_SECRETS = {"ZF_TRACKING_KEY": {"intake", "notify"}}
SECRETS = ("POSTGRES_PASSWORD", "ZF_CONTACT_KEY", "ZF_AUDIT_SIGNING_KEY", "ZF_CONSOLE_SECRET_KEY",
           "ZF_NOTIFY_MASTER_KEY", "ZF_TRACKING_KEY",
           *(f"ZF_{s.upper()}_DB_PASSWORD" for s in SERVICES))
# What every service process must be given (Settings.from_env); intake also needs ZF_CONTACT_KEY.
REQUIRED_SETTINGS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "ZF_PARTITIONS",
                     "PROMETHEUS_MULTIPROC_DIR")
# The console talks to the services over HTTP only: no broker, no partitions (docs/CONSOLE.md).
WITHOUT_BROKER = {"console"}
BROKER_SETTINGS = {"KAFKA_BOOTSTRAP_SERVERS", "ZF_PARTITIONS", "ZF_TOPIC_REPLICATION_FACTOR", "ZF_TOPIC_MIN_INSYNC_REPLICAS",
                   "ZF_TOPIC_RETENTION_MS"}
# Read by Settings.from_env but fine to leave to their defaults in production.
# Knobs with safe defaults; ZF_CLOCK_FILE is for scenario tests and demos and must stay unset in production.
# ZF_INTAKE_URL matters to audit (reconciliation) and notify (notices, exposures); compose sets it for both.
# ZF_NOTIFY_URL matters to audit only (reconciliation with notify's store); compose sets it there.
# ZF_LEDGER_URL matters to notify (the bulletins' figures) and intake (look-back candidates); compose sets both.
# ZF_HOTLINE_WEBHOOK_SECRETS may stay empty (no hotline: its webhook answers 503); only intake is given it.
# ZF_JWT_KEYS (the signing key set) is given only to the processes that mint tokens, never to the ledger;
# ZF_JWT_ALGORITHM stays unset in production (EdDSA; HS256 is for local development only).
OPTIONAL_TUNING = {"ZF_JWKS_REFETCH_SECONDS", "ZF_JWT_ALGORITHM", "ZF_JWT_KEYS", "ZF_RELAY_BATCH", "ZF_CONSUMER_BATCH", "ZF_RELAY_LINGER_MS", "ZF_CONSUMER_LINGER_MS",
                   "ZF_CONSUMER_SESSION_TIMEOUT_MS", "ZF_MIN_RATE_BASE", "ZF_CLOCK_FILE", "ZF_LOG_ORIGIN",
                   "ZF_RECONCILE_SECONDS", "ZF_INTAKE_URL", "ZF_NOTIFY_URL", "ZF_LEDGER_URL", "ZF_HOTLINE_WEBHOOK_SECRETS", "ZF_HOTLINE_DEFAULT_CATEGORY",
                   "ZF_HOTLINE_CALLBACK_URL", "ZF_HOTLINE_CALLBACK_SECRETS", "ZF_WEBHOOK_TIMEOUT",
                   "ZF_WEBHOOK_RETRY_SCALE", "ZF_WEBHOOK_WORKERS", "ZF_ESCALATION_SECONDS",
                   # notices: read by every service's Settings, given to notify only (empty: not configured)
                   "ZF_SMTP_HOST", "ZF_SMTP_PORT", "ZF_SMTP_USER", "ZF_SMTP_PASSWORD", "ZF_SMTP_STARTTLS",
                   "ZF_MAIL_FROM", "ZF_SMS_URL", "ZF_SMS_TOKEN", "ZF_SMS_PROVIDER", "ZF_SMS_REPLY_SECRETS",
                   "ZF_NOTICE_OFFICE", "ZF_NOTICE_RETRY_SCHEDULE", "ZF_NOTICE_TIMEOUT", "ZF_NOTICE_WORKERS",
                   "ZF_CASE_LINK",
                   # default ZF: the prefix of case numbers (intake numbers with it, the ledger searches)
                   "ZF_CASE_NUMBER_PREFIX",
                   # the public site's address in /public/ feed links: empty, the request's own (notify only)
                   "ZF_PUBLIC_URL", "ZF_AUDIT_URL",
                   # bulletins and supervision letters as formal documents: issuer and 文号 patterns, with
                   # defaults (notify only)
                   "ZF_OFFICE_NAME", "ZF_BULLETIN_NUMBER", "ZF_INTERIM_NUMBER", "ZF_LETTER_NUMBER", "ZF_APPRAISAL_NUMBER",
                   # the console's knobs and single sign-on (empty issuer: off); compose gives them to the console
                   "ZF_CONSOLE_IDLE_MINUTES", "ZF_CONSOLE_LOCKOUT_ATTEMPTS", "ZF_CONSOLE_LOCKOUT_MINUTES",
                   "ZF_CONSOLE_PROXIES", "ZF_OIDC_ISSUER", "ZF_OIDC_CLIENT_ID", "ZF_OIDC_CLIENT_SECRET",
                   "ZF_OIDC_ROLE_CLAIM", "ZF_OIDC_ROLE_MAP", "ZF_OIDC_UNIT_CLAIM", "ZF_OIDC_LOGIN_CLAIM",
                   # tracing: each process names itself zhengfeng-<service> unless told otherwise
                   "OTEL_SERVICE_NAME"}


# --------------------------------------------------------------------------------------------------
# Reading the files: compose's own interpolation rules, a minimal env-file and Dockerfile reader.
# --------------------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
                       r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _references(text: str):
    """(name, operator) for every variable reference in one string; `$$` is a literal dollar."""
    for chunk in text.split("$$"):
        for m in _VARIABLE.finditer(chunk):
            yield (m["braced"] or m["bare"]), (m["op"] or "")


def _interpolate(text: str, variables: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        name, op, arg = (m["braced"] or m["bare"]), m["op"] or "", m["arg"] or ""
        value = variables.get(name)
        unset_or_empty = not value
        missing = unset_or_empty if op.startswith(":") else value is None
        if op.endswith("?") and missing:
            raise KeyError(f"compose would refuse to start: {name} is required ({arg})")
        if op.endswith("-"):
            return arg if missing else value
        if op.endswith("+"):
            return "" if missing else arg
        return value or ""

    return "$".join(_VARIABLE.sub(one, chunk) for chunk in text.split("$$"))


def _resolve(node, variables):
    if isinstance(node, dict):
        return {_resolve(k, variables): _resolve(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(item, variables) for item in node]
    if isinstance(node, str):
        return _interpolate(node, variables)
    return node


@cache
def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@cache
def example_env() -> dict[str, str]:
    values = {}
    for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"deploy/example.env: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


@cache
def compose() -> dict:
    """The recipe as compose would run it with deploy/example.env."""
    return _resolve(raw_compose(), example_env())


def service(name: str) -> dict:
    return compose()["services"][name]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def argv(name: str) -> list[str]:
    command = service(name)["command"]
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def module_file(module: str) -> Path:
    return SOURCES.joinpath(*module.split(".")).with_suffix(".py")


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    out = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


# --------------------------------------------------------------------------------------------------
# Services and infrastructure
# --------------------------------------------------------------------------------------------------

def test_compose_defines_infrastructure_migrate_and_every_service_process():
    expected = {"postgres", "kafka", "migrate", *APP_SERVICES}
    assert expected <= set(compose()["services"]), f"missing: {sorted(expected - set(compose()['services']))}"


def test_there_is_no_zookeeper():
    for name, svc in compose()["services"].items():
        assert "zookeeper" not in name.lower()
        assert "zookeeper" not in str(svc.get("image", "")).lower()
    assert not any(k.startswith("KAFKA_ZOOKEEPER") for k in environment("kafka"))


def test_kafka_runs_kraft_with_one_broker():
    kafka_like = [n for n, s in compose()["services"].items() if "kafka" in str(s.get("image", ""))]
    assert kafka_like == ["kafka"], "exactly one Kafka node"
    assert service("kafka")["image"].startswith("apache/kafka:")
    env = environment("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].replace(" ", "").split(",")) == {"broker", "controller"}
    assert env["KAFKA_NODE_ID"] == "1"
    # One voter, and it is this node on its controller listener.
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    listeners = set(env["KAFKA_LISTENERS"].split(","))
    assert {"PLAINTEXT://:9092", "CONTROLLER://:9093"} <= listeners
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env.get("CLUSTER_ID"), "a fixed cluster id, so a restart finds its formatted log directory"


def test_single_kafka_node_uses_replication_factor_one_and_never_auto_creates_topics():
    env = environment("kafka")
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    # and so do the project's own topics, whoever creates them (`zf topics` in migrate, or a worker)
    for name in ("migrate", *(n for n, s in APP_SERVICES.items() if s not in WITHOUT_BROKER)):
        assert (environment(name)["ZF_TOPIC_REPLICATION_FACTOR"], environment(name)["ZF_TOPIC_MIN_INSYNC_REPLICAS"]) \
            == ("1", "1"), name
        assert environment(name)["ZF_TOPIC_RETENTION_MS"] == "-1", name     # every record kept


def _named_volume_mounts(name: str) -> dict[str, str]:
    mounts = {}
    for v in service(name).get("volumes", []):
        if isinstance(v, str):
            source, _, target = v.partition(":")
            mounts[target.split(":")[0]] = source
        else:
            mounts[v["target"]] = v.get("source", "")
    return mounts


def test_kafka_keeps_its_log_on_a_named_volume_and_reports_health():
    log_dir = environment("kafka")["KAFKA_LOG_DIRS"]
    mounts = _named_volume_mounts("kafka")
    assert mounts.get(log_dir) in compose()["volumes"]
    assert service("kafka")["healthcheck"]["test"]


def test_postgres_is_version_16_on_a_named_volume_with_a_pg_isready_healthcheck():
    pg = service("postgres")
    assert pg["image"].split(":")[0] == "postgres" and pg["image"].split(":")[1].startswith("16")
    assert _named_volume_mounts("postgres").get("/var/lib/postgresql/data") in compose()["volumes"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert environment("postgres")["POSTGRES_DB"] == "zhengfeng"


def test_infrastructure_is_not_published_to_the_host():
    assert not service("postgres").get("ports")
    assert not service("kafka").get("ports")


# --------------------------------------------------------------------------------------------------
# migrate
# --------------------------------------------------------------------------------------------------

def test_migrate_applies_migrations_then_creates_topics_once_infrastructure_is_healthy():
    command = " ".join(argv("migrate"))
    assert "zf migrate" in command and "zf topics" in command
    assert command.index("zf migrate") < command.index("zf topics")
    assert "&&" in command, "topics only after the migration succeeded"
    depends = service("migrate")["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["kafka"]["condition"] == "service_healthy"
    assert service("migrate").get("restart", "no") == "no", "a one-shot job"


def test_migrate_connects_as_the_administrator_and_knows_every_service_role_password():
    env = environment("migrate")
    url = urlsplit(env["DATABASE_URL"])
    assert (url.username, url.hostname, url.port, url.path) == ("postgres", "postgres", 5432, "/zhengfeng")
    assert url.password == example_env()["POSTGRES_PASSWORD"] == environment("postgres")["POSTGRES_PASSWORD"]
    tools = ToolSettings.from_env(env)
    assert tools.bootstrap == "kafka:9092"
    assert tools.partitions == 6
    for s in SERVICES:
        assert tools.db_passwords[s] == example_env()[f"ZF_{s.upper()}_DB_PASSWORD"], s


# --------------------------------------------------------------------------------------------------
# The application containers
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["migrate", *APP_SERVICES])
def test_app_container_runs_the_project_image_built_from_deploy_dockerfile(name):
    build = service(name)["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    images = {service(n).get("image") for n in ["migrate", *APP_SERVICES]}
    assert len(images) == 1, f"one image for every app container, got {images}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_container_starts_only_after_migrate_completes_and_restarts_unless_stopped(name):
    assert service(name)["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service(name)["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_connects_to_postgres_as_its_own_role(name):
    own = APP_SERVICES[name]
    url = urlsplit(environment(name)["DATABASE_URL"])
    assert url.scheme in ("postgresql", "postgres")
    assert url.username == f"zf_{own}"
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, "/zhengfeng")
    # The same password `zf migrate` gave the role.
    assert url.password == environment("migrate")[f"ZF_{own.upper()}_DB_PASSWORD"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_process_is_given_every_setting_the_services_read(name):
    own = APP_SERVICES[name]
    env = environment(name)
    shared = {key for key, holders in SHARED_SECRETS.items() if own in holders}
    required = ((set(REQUIRED_SETTINGS) - (BROKER_SETTINGS if own in WITHOUT_BROKER else set()))
                | OWN_SECRETS.get(own, set()) | shared)
    assert required <= {k for k, v in env.items() if v}, f"missing: {sorted(required - set(env))}"

    class Recording(dict):
        def __init__(self, *args):
            super().__init__(*args)
            self.read: set[str] = set()

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

    recorder = Recording(env)
    settings = Settings.from_env(own, environ=recorder)
    # A variable added to settings.py must be added to the recipe too (or listed here as a default-able knob).
    others = set().union(*(keys for svc, keys in OWN_SECRETS.items() if svc != own),
                         {key for key, holders in SHARED_SECRETS.items() if own not in holders})
    unprovided = recorder.read - set(env) - OPTIONAL_TUNING - others
    if own in WITHOUT_BROKER:   # it reaches the services by their URLs (given), not their ports
        unprovided -= BROKER_SETTINGS | {f"ZF_{s.upper()}_PORT" for s in SERVICES if s != own}
        assert {"ZF_INTAKE_URL", "ZF_LEDGER_URL", "ZF_NOTIFY_URL", "ZF_AUDIT_URL"} <= set(env)
    assert not unprovided, f"Settings reads {sorted(unprovided)}, which {name} is not given"
    if own in WITHOUT_BROKER:
        assert not settings.kafka_bootstrap_servers and not BROKER_SETTINGS & set(env)
        return
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.partitions == 6
    assert settings.ports == DEFAULT_PORTS


@pytest.mark.parametrize("name", APP_SERVICES)
def test_only_its_service_holds_a_services_own_key(name):
    for owner, keys in OWN_SECRETS.items():
        for key in keys:
            if APP_SERVICES[name] == owner:
                assert environment(name)[key] == example_env()[key]
            else:
                assert key not in environment(name)
    for key, holders in SHARED_SECRETS.items():
        if APP_SERVICES[name] in holders:
            assert environment(name)[key] == example_env()[key]
        else:
            assert key not in environment(name)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_prometheus_multiprocess_directory_is_a_fresh_tmpfs_in_each_container(name):
    metrics_dir = environment(name)["PROMETHEUS_MULTIPROC_DIR"]
    tmpfs = service(name).get("tmpfs", [])
    tmpfs = [tmpfs] if isinstance(tmpfs, str) else tmpfs
    assert metrics_dir in [t.split(":")[0] for t in tmpfs]


@pytest.mark.parametrize("name", SERVICES)
def test_http_service_runs_gunicorn_with_its_app_factory_on_its_documented_port(name):
    port = DEFAULT_PORTS[name]
    args = argv(name)
    assert args[0] == "gunicorn"
    assert option(args, "--bind") == f"0.0.0.0:{port}"
    assert option(args, "--config") == "python:zfcommon.gunicorn_conf"
    assert int(option(args, "--workers")) >= 1
    assert args[-1] == f"{name}.entrypoints.http:create_app()"
    assert f"{port}:{port}" in [str(p) for p in service(name)["ports"]]
    assert environment(name)[f"ZF_{name.upper()}_PORT"] == str(port)


@pytest.mark.parametrize("name", SERVICES)
def test_http_service_app_factory_exists(name):
    path = module_file(f"{name}.entrypoints.http")
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    assert "def create_app(" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SERVICES)
def test_http_service_healthcheck_requests_healthz_on_its_port(name):
    test = service(name)["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else test
    assert f"127.0.0.1:{DEFAULT_PORTS[name]}/healthz" in command
    assert "urllib" in command, "the slim image has no curl or wget"


@pytest.mark.parametrize("name,module", [*WORKERS.values(), *((w, m) for w, (_, m) in EXTRA_WORKERS.items())])
def test_worker_runs_its_module_and_the_module_exists(name, module):
    assert argv(name) == ["python", "-m", module]
    path = module_file(module)
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    assert "__main__" in path.read_text(encoding="utf-8"), f"{module} does nothing under python -m"


@pytest.mark.parametrize("package", [*SERVICES, "zfcommon"])
def test_every_service_is_a_regular_package_so_the_image_installs_it(package):
    # The image does a normal (not editable) install, and setuptools' find_packages leaves out any
    # folder without __init__.py: the container would then fail with ModuleNotFoundError.
    assert (SOURCES / package / "__init__.py").is_file()
    if package in SERVICES:
        assert (SOURCES / package / "entrypoints" / "__init__.py").is_file()


# --------------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------------

def _all_references() -> list[tuple[str, str]]:
    return [ref for text in _strings(raw_compose()) for ref in _references(text)]


def test_every_compose_variable_is_given_in_example_env():
    missing = sorted({name for name, _ in _all_references()} - set(example_env()))
    assert not missing, f"deploy/example.env lacks {missing}"


def test_secrets_are_required_so_compose_refuses_to_start_without_them():
    refs = _all_references()
    for secret in SECRETS:
        operators = {op for name, op in refs if name == secret}
        assert operators, f"{secret} is not used"
        assert operators == {":?"}, f"{secret} must be written ${{{secret}:?...}}, got {operators}"


def test_example_env_values_are_obviously_placeholders():
    for secret in SECRETS:
        assert "change-me" in example_env()[secret], secret


# --------------------------------------------------------------------------------------------------
# The image
# --------------------------------------------------------------------------------------------------

def test_image_is_python_3_11_slim():
    froms = [args for instr, args in dockerfile() if instr == "FROM"]
    assert froms and froms[-1].split()[0].startswith("python:3.11-slim")


def test_image_installs_the_locked_requirements_then_the_project_without_resolving_again():
    steps = dockerfile()
    runs = [(i, args) for i, (instr, args) in enumerate(steps) if instr == "RUN"]
    lock = [i for i, args in runs if re.search(r"pip install\b.*-r\s+requirements\.lock", args)]
    project = [i for i, args in runs if re.search(r"pip install\b.*--no-deps\s+\.(\s|$)", args)]
    assert lock, "pip install -r requirements.lock"
    assert project, "pip install --no-deps ."
    assert lock[0] < project[0]
    copied = [i for i, (instr, args) in enumerate(steps) if instr == "COPY" and "requirements.lock" in args]
    assert copied and copied[0] < lock[0]


def test_requirements_lock_pins_every_package():
    for line in LOCK_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[^=\s]+", line), f"not pinned: {line!r}"


def test_image_runs_as_a_non_root_user():
    users = [args for instr, args in dockerfile() if instr == "USER"]
    assert users, "no USER line: the processes would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_image_default_command_prints_the_cli_help():
    cmds = [args for instr, args in dockerfile() if instr == "CMD"]
    assert cmds and exec_form(cmds[-1]) == ["zf", "--help"]


def test_only_intake_is_given_the_hotline_webhook_secrets():
    holders = {APP_SERVICES[n] for n in APP_SERVICES if "ZF_HOTLINE_WEBHOOK_SECRETS" in environment(n)}
    assert holders == {"intake"}


def test_audit_reconciles_with_intake_and_notify_over_the_compose_network():
    assert environment("audit-signer")["ZF_INTAKE_URL"] == "http://intake:8001"
    assert environment("audit-signer")["ZF_NOTIFY_URL"] == "http://notify:8003"


def test_notify_takes_the_bulletins_figures_from_the_ledger_over_the_compose_network():
    assert {environment(n).get("ZF_LEDGER_URL") for n in APP_SERVICES if APP_SERVICES[n] == "notify"} == {
        "http://ledger:8002"}


def test_intake_draws_look_backs_from_the_ledger_over_the_compose_network():
    assert {environment(n).get("ZF_LEDGER_URL") for n in APP_SERVICES if APP_SERVICES[n] == "intake"} == {
        "http://ledger:8002"}


# --------------------------------------------------------------------------------------------------
# Bearer tokens: EdDSA, verified with intake's JWKS; private keys only where tokens are minted
# --------------------------------------------------------------------------------------------------

MINTING = {"intake", "notify", "audit", "console"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_process_verifies_eddsa_tokens_with_intakes_jwks_and_no_shared_secret(name):
    own = APP_SERVICES[name]
    env = environment(name)
    assert "ZF_JWT_SECRET" not in env and "ZF_JWT_ALGORITHM" not in env
    settings = Settings.from_env(own, environ=env)
    assert settings.jwt_algorithm == "EdDSA"
    assert settings.jwks_url == ("" if own == "intake" else "http://intake:8001/.well-known/jwks.json")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_only_the_minting_services_mount_the_signing_key_folder_read_only(name):
    mounts = [str(v) for v in service(name).get("volumes", [])]
    if APP_SERVICES[name] in MINTING:
        assert mounts == [f"{example_env()['ZF_JWT_KEYS_DIR']}:/run/zf-keys:ro"]
        assert environment(name)["ZF_JWT_KEYS"] == "/run/zf-keys/jwt-keys.json"
    else:
        assert not any("zf-keys" in m for m in mounts) and "ZF_JWT_KEYS" not in environment(name)
