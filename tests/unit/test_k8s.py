"""The Kubernetes manifests (deploy/k8s), checked offline: no cluster, no kubectl needed.

Each overlay is rendered by `render` below, a small kustomize for the subset deploy/k8s uses
(resources, namespace, images, and strategic-merge patches of maps and scalars: a patched list is
replaced whole, as kustomize does for lists without a merge key); it refuses anything else, so a new
kustomize feature in the manifests fails here until the renderer learns it. Where a kubectl with
kustomize is installed, one test checks that the renderer and kustomize agree. Every rendered
object and the example Secrets are then validated against the Kubernetes API schemas that
kubernetes-validate carries (strict: unknown fields fail), and held against the code: the processes
`zf up` runs, the entry points, the settings each service reads, and who calls whom.
"""
from __future__ import annotations

import copy
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from zfcommon import cli
from zfcommon.devstack.stack import Stack, StackConfig
from zfcommon.settings import DEFAULT_PORTS, SERVICES, Settings

from .test_compose import OPTIONAL_TUNING, environment as compose_environment

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
SECRETS_EXAMPLE = K8S / "secrets.example.yaml"
# The oldest Kubernetes the manifests are meant for, and the newest schema kubernetes-validate has.
KUBERNETES_VERSIONS = ("1.28.0", kubernetes_validate.latest_version())
CLUSTER_SCOPED = {"Namespace"}
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
PROBE_ANNOTATION = "zhengfeng.cn/probes"
HTTP_COMPONENT = "http"
# Processes kept to one replica (deploy/k8s/base/notify.yaml and audit.yaml say why).
SINGLE_INSTANCES = {"audit-signer", "notify-scheduler"}


# --------------------------------------------------------------------------------------------------
# The renderer (the kustomize subset deploy/k8s uses)
# --------------------------------------------------------------------------------------------------

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's, when PyYAML has it: ten times faster


def load_all(path: Path) -> list[dict]:
    return [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=LOADER) if d]


def merge(target: dict, patch: dict, where: str) -> None:
    """Strategic merge for maps and scalars; a list in a patch replaces the target's list."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value, f"{where}.{key}")
        else:
            if isinstance(value, list) and any(isinstance(v, dict) and "name" in v for v in value):
                # containers, env, volumes … merge by key in kustomize: teach the renderer before using it
                raise NotImplementedError(f"patching the merge-keyed list {where}.{key}")
            target[key] = copy.deepcopy(value)


def pod_specs(doc: dict) -> list[dict]:
    if doc["kind"] in ("Deployment", "Job"):
        return [doc["spec"]["template"]["spec"]]
    return []


def containers(doc: dict) -> list[dict]:
    return [c for spec in pod_specs(doc) for c in spec.get("initContainers", []) + spec["containers"]]


def render(path: Path) -> list[dict]:
    [kustomization] = load_all(path / "kustomization.yaml")
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    assert not unknown, f"{path}: the test's renderer does not know {sorted(unknown)}"
    docs: list[dict] = []
    for resource in kustomization.get("resources", []):
        target = path / resource
        docs += render(target) if target.is_dir() else load_all(target)
    for patch in kustomization.get("patches", []):
        assert set(patch) == {"path"}, f"{path}: only `path:` patches (the target is the patch's own kind and name)"
        for p in load_all(path / patch["path"]):
            matches = [d for d in docs if (d["kind"], d["metadata"]["name"]) == (p["kind"], p["metadata"]["name"])]
            assert len(matches) == 1, f"{path / patch['path']}: patches no single {p['kind']}/{p['metadata']['name']}"
            merge(matches[0], {k: v for k, v in p.items() if k not in ("apiVersion", "kind")}, p["kind"])
    if "namespace" in kustomization:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        for d in docs:
            for c in containers(d):
                name, _, tag = c["image"].partition(":")
                if name == image["name"]:
                    c["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"
    return docs


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    return tuple(render(K8S / "overlays" / overlay))


def objects(overlay: str, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


@cache
def example_secrets() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["stringData"] for d in load_all(SECRETS_EXAMPLE)}


def workloads(overlay: str) -> dict[str, dict]:
    return {**objects(overlay, "Deployment"), **objects(overlay, "Job")}


def pod_labels(doc: dict) -> dict[str, str]:
    return doc["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


def container_env(overlay: str, container: dict) -> dict[str, str]:
    """The environment a container gets, with the example Secrets' values and $(VAR) expanded as the
    kubelet does (envFrom first, then env in order, each able to refer to what came before)."""
    maps = objects(overlay, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]]["data"])
        else:
            env.update(example_secrets()[source["secretRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], var["value"])
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = example_secrets()[ref["name"]][ref["key"]]
    return env


def service_of(doc: dict) -> str:
    return pod_labels(doc)["zhengfeng.cn/service"]


def is_http(doc: dict) -> bool:
    return pod_labels(doc)["app.kubernetes.io/component"] == HTTP_COMPONENT


# --------------------------------------------------------------------------------------------------
# Rendering and schemas
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_into_its_own_namespace(overlay):
    [namespace] = objects(overlay, "Namespace")
    assert {d["metadata"].get("namespace") for d in rendered(overlay) if d["kind"] != "Namespace"} == {namespace}
    assert objects(overlay, "Namespace")[namespace]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] \
        == "restricted"


# kubernetes-validate reads a schema file (its definitions are megabytes of JSON) on every call: read once.
_schema_contents = cache(kubernetes_validate.utils.schema_contents)


@pytest.fixture(autouse=True)
def _schemas_read_once(monkeypatch):
    monkeypatch.setattr(kubernetes_validate.utils, "schema_contents", _schema_contents)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlay, version):
    for doc in rendered(overlay):
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_example_secrets_are_valid_and_hold_only_placeholders(version):
    for doc in load_all(SECRETS_EXAMPLE):
        kubernetes_validate.validate(doc, version, strict=True)
        for key, value in doc["stringData"].items():
            assert value in ("change-me", "") or key == "POSTGRES_USER", f"{doc['metadata']['name']}.{key}"


def test_the_renderer_refuses_what_it_does_not_implement():
    with pytest.raises(NotImplementedError):
        merge({"containers": [{"name": "a"}]}, {"containers": [{"name": "a", "image": "b"}]}, "spec")


@pytest.mark.skipif(not shutil.which("kubectl"), reason="no kubectl here: the renderer is checked by the other tests")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_agrees_with_kustomize(overlay):
    out = subprocess.run(["kubectl", "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    theirs = {key(d): d for d in yaml.load_all(out, Loader=LOADER) if d}
    ours = {key(d): d for d in rendered(overlay)}
    assert sorted(ours) == sorted(theirs)
    for k in ours:
        assert ours[k] == theirs[k], k


# --------------------------------------------------------------------------------------------------
# Every process `zf up` runs, each from a real entry point
# --------------------------------------------------------------------------------------------------

def _argv_target(argv: list[str]) -> str:
    """What a process runs: the gunicorn app target or the `python -m` module."""
    name = Path(argv[0]).name
    if name == "gunicorn":
        return argv[-1]
    assert Path(argv[0]).name.startswith("python") and argv[1] == "-m", argv
    return argv[2]


UP_SECRETS = {"jwt_keys": "/k/jwt-keys.json", "contact_key": "k", "notify_master_key": "k", "signing_key": "k",
              "tracking_key": "k",
              "hotline_webhook_secret": "w", "sms_reply_secret": "w", "console_secret_key": "c",
              "db_passwords": {s: "p" for s in SERVICES}}


def zf_up_plan(env: dict[str, str] | None = None) -> list:
    stack = Stack(StackConfig.from_env({"ZF_HOME": "/nonexistent", **(env or {})}))
    return stack.plan("postgresql://admin@db/zf", "broker:9092", UP_SECRETS)


def zf_up_processes() -> set[str]:
    return {_argv_target(p.argv) for p in zf_up_plan()}


def test_zf_up_links_a_notice_to_the_consoles_case_page_unless_told_otherwise():
    """A unit's e-mail links to the case as a person reads it (the console, which asks them to sign in
    first), not to the ledger's API; ZF_CASE_LINK, when set, is used as given."""
    def links(env=None):
        return {p.env.get("ZF_CASE_LINK") for p in zf_up_plan(env) if p.name.startswith("notify-")}
    assert links() == {"http://127.0.0.1:8005/cases/{case_id}"}
    assert links({"ZF_CONSOLE_PORT": "9105"}) == {"http://127.0.0.1:9105/cases/{case_id}"}
    assert links({"ZF_CASE_LINK": "https://zf.example.gov.cn/cases/{case_id}"}) == \
        {"https://zf.example.gov.cn/cases/{case_id}"}


def test_zf_up_gives_the_console_the_public_page_a_printed_receipt_names():
    def public(env=None):
        return {p.env.get("ZF_PUBLIC_URL") for p in zf_up_plan(env) if p.name.startswith("console-")}
    assert public() == {"http://127.0.0.1:8003"}
    assert public({"ZF_PUBLIC_URL": "https://zf.example.gov.cn"}) == {"https://zf.example.gov.cn"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_deployment_for_every_process_zf_up_runs(overlay):
    deployed = [_argv_target(d["spec"]["template"]["spec"]["containers"][0]["command"])
                for d in objects(overlay, "Deployment").values()]
    assert sorted(deployed) == sorted(zf_up_processes())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_command_is_a_real_entry_point(overlay):
    for name, doc in workloads(overlay).items():
        for c in containers(doc):
            argv = c["command"]
            if argv[0] == "gunicorn":
                module, _, call = argv[-1].partition(":")
                assert call == "create_app()", name
                assert "def create_app(" in (ROOT / "services" / Path(*module.split("."))).with_suffix(".py").read_text()
                assert argv[argv.index("--config") + 1] == "python:zfcommon.gunicorn_conf"
                assert argv[argv.index("--bind") + 1] == f"0.0.0.0:{DEFAULT_PORTS[service_of(doc)]}"
            elif argv[0] == "python":
                assert argv[1] == "-m"
                source = (ROOT / "services" / Path(*argv[2].split("."))).with_suffix(".py").read_text()
                assert 'if __name__ == "__main__":' in source, argv
            else:
                assert argv[0] == "zf" and "zf" in (ROOT / "pyproject.toml").read_text()
                with pytest.raises(SystemExit) as exited:   # a known subcommand's --help exits 0
                    cli.main([*argv[1:], "--help"])
                assert exited.value.code == 0, argv


def test_the_migration_job_migrates_then_seeds_and_the_topics_job_creates_topics():
    job = workloads("production")["zf-migrate"]["spec"]["template"]["spec"]
    assert [c["command"] for c in job["initContainers"]] == [["zf", "migrate"]]
    assert [c["command"] for c in job["containers"]] == [["python", "-m", "intake.entrypoints.seed"]]
    topics = workloads("production")["zf-topics"]["spec"]["template"]["spec"]
    assert [c["command"] for c in topics["containers"]] == [["zf", "topics"]]


# --------------------------------------------------------------------------------------------------
# Probes, resources, replicas
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_http_servers_probe_healthz_and_readyz_on_their_port(overlay):
    for name, doc in objects(overlay, "Deployment").items():
        if not is_http(doc):
            continue
        [c] = doc["spec"]["template"]["spec"]["containers"]
        assert c["ports"] == [{"name": "http", "containerPort": DEFAULT_PORTS[service_of(doc)]}], name
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_have_no_probe_and_say_why(overlay):
    for name, doc in objects(overlay, "Deployment").items():
        if is_http(doc):
            continue
        [c] = doc["spec"]["template"]["spec"]["containers"]
        assert not {"livenessProbe", "readinessProbe", "startupProbe", "ports"} & set(c), name
        assert doc["metadata"]["annotations"][PROBE_ANNOTATION].startswith("none: "), name


def _quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for unit, factor in units.items():
        if str(value).endswith(unit):
            return float(str(value)[: -len(unit)]) * factor
    return float(value)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_requests_and_limits_cpu_and_memory(overlay):
    for name, doc in workloads(overlay).items():
        for c in containers(doc):
            res = c["resources"]
            for what in ("cpu", "memory"):
                assert _quantity(res["requests"][what]) <= _quantity(res["limits"][what]), (name, what)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_unprivileged_on_a_read_only_root(overlay):
    for name, doc in workloads(overlay).items():
        spec = pod_specs(doc)[0]
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in containers(doc):
            assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}, name
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_http_servers_are_scaled_by_an_autoscaler_and_nothing_else(overlay):
    hpas = objects(overlay, "HorizontalPodAutoscaler")
    deployments = objects(overlay, "Deployment")
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()}
    assert all(h["spec"]["scaleTargetRef"]["kind"] == "Deployment" for h in hpas.values())
    assert scaled == {n for n, d in deployments.items() if is_http(d)}
    for name in scaled:
        assert "replicas" not in deployments[name]["spec"], f"{name}: an apply would reset the autoscaler"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_single_instances_are_recreated_and_others_have_a_disruption_budget(overlay):
    budgets = objects(overlay, "PodDisruptionBudget").values()
    for name, doc in objects(overlay, "Deployment").items():
        covered = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(doc))]
        if name in SINGLE_INSTANCES:
            # one by design, never two at once, not even during a rollout; a budget could only block drains
            assert doc["spec"]["replicas"] == 1 and doc["spec"]["strategy"]["type"] == "Recreate", name
            assert covered == [], name
        else:
            assert len(covered) == 1, name
    for b in budgets:   # one pod at a time: with one replica (dev) a drain can still evict it
        assert b["spec"] == {"maxUnavailable": 1, "selector": b["spec"]["selector"]}


def test_production_runs_a_standby_relay_for_each_event_store():
    deployments = objects("production", "Deployment")
    for name in ("intake-relay", "notify-relay"):
        assert deployments[name]["spec"]["replicas"] == 2
        assert deployments[name]["spec"]["strategy"]["type"] == "RollingUpdate"
    assert deployments["audit-signer"]["spec"]["replicas"] == 1


# --------------------------------------------------------------------------------------------------
# Settings and secrets
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_configmap_and_secret_referenced_exists_with_its_keys(overlay):
    maps = objects(overlay, "ConfigMap")
    for name, doc in workloads(overlay).items():
        for c in containers(doc):
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in maps, name
                else:
                    assert source["secretRef"]["name"] in example_secrets(), name
            for var in c.get("env", []):
                if "valueFrom" in var:
                    ref = var["valueFrom"]["secretKeyRef"]
                    assert ref["key"] in example_secrets()[ref["name"]], (name, ref)
                else:   # every $(VAR) is defined before it is used
                    container_env(overlay, c)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_reads_complete_settings_including_what_compose_gives_it(overlay):
    for name, doc in objects(overlay, "Deployment").items():
        service = service_of(doc)
        env = container_env(overlay, doc["spec"]["template"]["spec"]["containers"][0])
        settings = Settings.from_env(service, env)
        assert settings.database_url.startswith(f"postgresql://zf_{service}:change-me@"), name
        assert settings.ports == DEFAULT_PORTS
        # at least the variables of the compose recipe's process of the same name (checked against Settings
        # there), and nothing else but the knobs Settings has defaults for and what builds DATABASE_URL
        compose_env = compose_environment(name)
        missing = set(compose_env) - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert set(env) - set(compose_env) - OPTIONAL_TUNING <= {
            "PGHOST", "PGPORT", "PGDATABASE", "PGSSLMODE", "HOME", "XDG_CACHE_HOME", f"ZF_{service.upper()}_DB_PASSWORD",
            "ZF_TOPIC_REPLICATION_FACTOR", "ZF_TOPIC_MIN_INSYNC_REPLICAS", "ZF_TOPIC_RETENTION_MS", "ZF_PARTITIONS",
            "KAFKA_BOOTSTRAP_SERVERS", "ZF_INTAKE_PORT", "ZF_LEDGER_PORT", "ZF_NOTIFY_PORT", "ZF_AUDIT_PORT",
            "ZF_CONSOLE_PORT"}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_its_service_holds_a_services_own_secret(overlay):
    for name, doc in workloads(overlay).items():
        refs = {s["secretRef"]["name"] for c in containers(doc) for s in c.get("envFrom", []) if "secretRef" in s}
        refs |= {v["valueFrom"]["secretKeyRef"]["name"] for c in containers(doc) for v in c.get("env", [])
                 if "valueFrom" in v}
        if name == "zf-migrate":     # makes every role with its password, then seeds as intake
            assert refs == {"zf-postgres-admin", *(f"zf-{s}" for s in SERVICES)}
        elif name == "zf-topics":
            assert refs == set()
        else:
            assert refs == {f"zf-{service_of(doc)}"}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_token_key_set_is_mounted_where_tokens_are_signed_and_nowhere_else(overlay):
    """intake, notify, audit and the console sign (client tokens, their own calls, each person's token):
    they get the key set folder from the Secret zf-jwt-keys, where ZF_JWT_KEYS points; the ledger only
    verifies with intake's JWKS and never holds a private key."""
    assert "jwt-keys.json" in example_secrets()["zf-jwt-keys"]
    for name, doc in workloads(overlay).items():
        spec = doc["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        keyed = {v["name"] for v in volumes.values() if v.get("secret", {}).get("secretName") == "zf-jwt-keys"}
        signs = name == "zf-migrate" or (name != "zf-topics" and service_of(doc) != "ledger")
        assert bool(keyed) == signs, name
        if signs:
            [c] = [c for c in containers(doc) if any(m["name"] in keyed for m in c.get("volumeMounts", []))]
            [mount] = [m for m in c["volumeMounts"] if m["name"] in keyed]
            assert mount["mountPath"] == "/run/zf-keys" and mount.get("readOnly") and "subPath" not in mount, name
            assert container_env(overlay, c)["ZF_JWT_KEYS"] == "/run/zf-keys/jwt-keys.json", name


@pytest.mark.parametrize("overlay, layout", [("dev", (3, 1, 1)), ("production", (12, 3, 2))])
def test_topics_are_laid_out_for_the_overlays_brokers(overlay, layout):
    job = workloads(overlay)["zf-topics"]
    env = container_env(overlay, job["spec"]["template"]["spec"]["containers"][0])
    topics = Settings.from_env("intake", {**env, "DATABASE_URL": "x", "ZF_JWT_KEYS": "x"}).topics
    assert (topics.partitions, topics.replication_factor, topics.min_insync_replicas) == layout
    for doc in objects(overlay, "Deployment").values():   # a worker that creates a missing topic agrees
        if service_of(doc) != "console":
            assert Settings.from_env(service_of(doc), container_env(
                overlay, doc["spec"]["template"]["spec"]["containers"][0])).topics == topics


def test_the_console_is_given_no_broker():
    for doc in objects("production", "Deployment").values():
        if service_of(doc) == "console":
            env = container_env("production", doc["spec"]["template"]["spec"]["containers"][0])
            assert "KAFKA_BOOTSTRAP_SERVERS" not in env


# --------------------------------------------------------------------------------------------------
# Services and network policies
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_selects_an_http_server_on_its_port(overlay):
    deployments = objects(overlay, "Deployment")
    for name, svc in objects(overlay, "Service").items():
        [target] = [d for d in deployments.values() if selects({"matchLabels": svc["spec"]["selector"]},
                                                                pod_labels(d))]
        [port] = svc["spec"]["ports"]
        assert port["targetPort"] in [p["name"] for p in target["spec"]["template"]["spec"]["containers"][0]["ports"]]
        assert port["port"] == DEFAULT_PORTS[name] and is_http(target)


def _policies(overlay: str, doc: dict, direction: str) -> list[dict]:
    return [p["spec"] for p in objects(overlay, "NetworkPolicy").values()
            if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], pod_labels(doc))]


def _egress_to_pod(overlay: str, doc: dict, target: dict, port: int) -> bool:
    return any(selects(peer["podSelector"], pod_labels(target)) and "namespaceSelector" not in peer
               and any(p["port"] == port for p in rule["ports"])
               for spec in _policies(overlay, doc, "Egress") for rule in spec.get("egress", [])
               for peer in rule["to"] if "podSelector" in peer)


def _ingress_from_pod(overlay: str, doc: dict, source: dict, port: int) -> bool:
    return any(selects(peer["podSelector"], pod_labels(source)) and "namespaceSelector" not in peer
               and any(p["port"] == port for p in rule["ports"])
               for spec in _policies(overlay, doc, "Ingress") for rule in spec.get("ingress", [])
               for peer in rule["from"] if "podSelector" in peer)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_is_denied_unless_allowed_and_every_pod_resolves_names(overlay):
    policies = objects(overlay, "NetworkPolicy")
    deny = policies["zf-default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["zf-egress-dns"]["spec"]
    assert dns["podSelector"] == {} and {(p["protocol"], p["port"]) for p in dns["egress"][0]["ports"]} == {
        ("UDP", 53), ("TCP", 53)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_reaches_postgres_and_kafka_only_if_it_uses_them(overlay):
    policies = objects(overlay, "NetworkPolicy")
    for name, doc in workloads(overlay).items():
        envs = [container_env(overlay, c) for c in containers(doc)]
        uses_db = any("DATABASE_URL" in e for e in envs)
        uses_broker = any("KAFKA_BOOTSTRAP_SERVERS" in e for e in envs) and name != "zf-migrate"
        assert selects(policies["zf-egress-postgres"]["spec"]["podSelector"], pod_labels(doc)) == uses_db, name
        assert selects(policies["zf-egress-kafka"]["spec"]["podSelector"], pod_labels(doc)) == uses_broker, name


def _calls(overlay: str, doc: dict) -> set[tuple[str, int]]:
    """The services a process calls: the host and port of each *_URL setting it is given."""
    env = container_env(overlay, doc["spec"]["template"]["spec"]["containers"][0])
    return {(urlsplit(v).hostname, urlsplit(v).port) for k, v in env.items() if k.endswith("_URL") and
            k != "DATABASE_URL" and v}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_reaches_exactly_the_services_its_urls_name(overlay):
    deployments = objects(overlay, "Deployment")
    http = {name: d for name, d in deployments.items() if is_http(d)}
    for name, doc in deployments.items():
        calls = _calls(overlay, doc)
        assert {host for host, _ in calls} <= set(http), name
        for target, target_doc in http.items():
            port = DEFAULT_PORTS[target]
            allowed = _egress_to_pod(overlay, doc, target_doc, port) and _ingress_from_pod(overlay, target_doc, doc, port)
            if (target, port) in calls:
                assert allowed, f"{name} cannot call {target}"
            elif target != service_of(doc):
                assert not _egress_to_pod(overlay, doc, target_doc, port), f"{name} may call {target} needlessly"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_accept_no_connection_and_http_servers_only_on_their_port(overlay):
    for name, doc in objects(overlay, "Deployment").items():
        rules = [r for spec in _policies(overlay, doc, "Ingress") for r in spec.get("ingress", [])]
        if not is_http(doc):
            assert rules == [], name
        else:
            assert {p["port"] for r in rules for p in r["ports"]} == {DEFAULT_PORTS[service_of(doc)]}, name


def test_only_notifys_sender_and_dispatcher_and_the_console_reach_outside():
    reaching = {name for name, doc in workloads("production").items()
                if any("ipBlock" in peer and peer["ipBlock"]["cidr"] == "0.0.0.0/0"
                       for spec in _policies("production", doc, "Egress") for rule in spec.get("egress", [])
                       for peer in rule["to"])}
    assert reaching == {"notify-sender", "notify-dispatcher", "console"}
