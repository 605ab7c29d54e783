"""Settings.from_env: required variables, integers and ports."""
import pytest

from zfcommon.settings import DEFAULT_PORTS, ConfigError, Settings

ENV = {"DATABASE_URL": "postgresql://intake@db/zf", "KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
       "ZF_JWT_KEYS": "/run/zf-keys/jwt-keys.json"}
REQUIRED = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")


def _without(name):
    return {k: v for k, v in ENV.items() if k != name}


def test_complete_environment_loads():
    settings = Settings.from_env("intake", {**ENV, "ZF_PARTITIONS": "12", "ZF_LOG_LEVEL": "debug"})
    assert (settings.database_url, settings.kafka_bootstrap_servers, settings.jwt_keys) == \
        ("postgresql://intake@db/zf", "broker:9092", "/run/zf-keys/jwt-keys.json")
    assert (settings.partitions, settings.log_level) == (12, "DEBUG")


@pytest.mark.parametrize("name", REQUIRED)
def test_missing_required_variable_is_named(name):
    with pytest.raises(ConfigError, match=f"{name} is not set"):
        Settings.from_env("ledger", _without(name))


def test_blank_required_variable_counts_as_missing():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env("ledger", {**ENV, "DATABASE_URL": "   "})


@pytest.mark.parametrize("name", ["ZF_PARTITIONS", "ZF_RELAY_BATCH", "ZF_CONSUMER_BATCH", "ZF_AUDIT_PORT"])
def test_non_integer_is_refused_naming_the_variable(name):
    with pytest.raises(ConfigError, match=f"{name} must be an integer, got 'six'"):
        Settings.from_env("audit", {**ENV, name: "six"})


@pytest.mark.parametrize("service, port", [("intake", 8001), ("ledger", 8002), ("notify", 8003), ("audit", 8004)])
def test_each_service_has_its_default_port(service, port):
    assert Settings.from_env(service, ENV).port == port


@pytest.mark.parametrize("service, linger", [("ledger", 60), ("notify", 200), ("audit", 200)])
def test_the_ledger_consumer_gathers_least_and_one_setting_overrides_every_consumer(service, linger):
    # The ledger is what people read right after they act; notify's and audit's work can wait 200 ms.
    assert Settings.from_env(service, ENV).consumer_linger_ms == linger
    assert Settings.from_env(service, {**ENV, "ZF_CONSUMER_LINGER_MS": "0"}).consumer_linger_ms == 0
    # Settings made in code (tests, tools) get the service's own, not one service's for all.
    made = Settings(service=service, database_url="postgresql://x", kafka_bootstrap_servers="k:9092", jwt_secret="")
    assert made.consumer_linger_ms == linger


def test_a_consumers_group_session_is_six_seconds_unless_set_and_its_heartbeat_a_third(monkeypatch):
    from zfcommon import kafka

    assert Settings.from_env("notify", ENV).consumer_session_ms == 6000
    settings = Settings.from_env("notify", {**ENV, "ZF_CONSUMER_SESSION_TIMEOUT_MS": "9000"})
    assert settings.consumer_session_ms == 9000
    for wrong in ("999", "300001"):
        with pytest.raises(ConfigError, match=f"ZF_CONSUMER_SESSION_TIMEOUT_MS must be between 1000 and 300000, "
                                              f"got {wrong}"):
            Settings.from_env("notify", {**ENV, "ZF_CONSUMER_SESSION_TIMEOUT_MS": wrong})
    made = []
    monkeypatch.setattr(kafka, "KafkaConsumer", lambda *topics, **config: made.append(config) or config)
    kafka.consumer("k:9092", "notify", ["t"])
    kafka.consumer("k:9092", "notify", ["t"], 9000)
    assert [(c["session_timeout_ms"], c["heartbeat_interval_ms"]) for c in made] == [(6000, 2000), (9000, 3000)]


def test_port_is_overridden_per_service():
    settings = Settings.from_env("ledger", {**ENV, "ZF_LEDGER_PORT": "9102"})
    assert settings.port == 9102
    assert settings.ports == {**DEFAULT_PORTS, "ledger": 9102}


def test_unknown_service_is_refused():
    with pytest.raises(ConfigError, match="unknown service 'billing'"):
        Settings.from_env("billing", ENV)


def test_environ_argument_is_the_only_source(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-process-env")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env("intake", _without("DATABASE_URL"))


def test_audit_finds_the_event_stores_it_reconciles_with_from_their_ports_or_urls():
    settings = Settings.from_env("audit", {**ENV, "ZF_NOTIFY_PORT": "9103"})
    assert (settings.intake_url, settings.notify_url) == ("http://127.0.0.1:8001", "http://127.0.0.1:9103")
    assert Settings.from_env("audit", {**ENV, "ZF_NOTIFY_URL": "http://notify:8003"}).notify_url == "http://notify:8003"


def test_offline_tools_need_only_the_database_url():
    settings = Settings.from_env("audit", {"DATABASE_URL": "postgresql://audit@db/zf"}, database_only=True)
    assert (settings.database_url, settings.kafka_bootstrap_servers, settings.jwt_secret) == \
        ("postgresql://audit@db/zf", "", "")
    with pytest.raises(ConfigError, match="DATABASE_URL is not set"):
        Settings.from_env("audit", {}, database_only=True)


def test_tokens_are_eddsa_by_default_and_verifiers_use_intakes_jwks():
    ledger = Settings.from_env("ledger", {**ENV, "ZF_INTAKE_URL": "http://intake:8001/"})
    assert (ledger.jwt_algorithm, ledger.jwt_secret) == ("EdDSA", "")
    assert ledger.jwks_url == "http://intake:8001/.well-known/jwks.json"
    assert Settings.from_env("ledger", {**ENV, "ZF_JWKS_URL": "https://keys.example.cn/jwks"}).jwks_url == \
        "https://keys.example.cn/jwks"


def test_intake_needs_its_key_set_and_verifies_with_it_never_by_asking_itself():
    with pytest.raises(ConfigError, match="ZF_JWT_KEYS is not set"):
        Settings.from_env("intake", _without("ZF_JWT_KEYS"))
    assert Settings.from_env("intake", {**ENV, "ZF_JWKS_URL": "http://intake:8001/x"}).jwks_url == ""
    assert Settings.from_env("ledger", _without("ZF_JWT_KEYS")).jwt_keys == ""   # a pure verifier


def test_hs256_is_only_an_explicit_setting_and_then_needs_its_secret():
    env = {**_without("ZF_JWT_KEYS"), "ZF_JWT_ALGORITHM": "HS256"}
    with pytest.raises(ConfigError, match="ZF_JWT_SECRET is not set"):
        Settings.from_env("intake", env)
    dev = Settings.from_env("intake", {**env, "ZF_JWT_SECRET": "s3cret"})
    assert (dev.jwt_algorithm, dev.jwt_secret, dev.jwks_url) == ("HS256", "s3cret", "")
    # A secret alone does not switch a deployment to HS256.
    assert Settings.from_env("ledger", {**ENV, "ZF_JWT_SECRET": "s3cret"}).jwt_algorithm == "EdDSA"


def test_an_unknown_token_algorithm_is_refused():
    with pytest.raises(ConfigError, match="ZF_JWT_ALGORITHM"):
        Settings.from_env("ledger", {**ENV, "ZF_JWT_ALGORITHM": "RS256"})
