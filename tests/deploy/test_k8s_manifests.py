"""The rendered Kubernetes manifests (deploy/k8s, both overlays) against what the code says.

Expectations come from the code, not from lists kept here: the topics from the event contract
(`events.asyncapi`), the services and their commands from the launcher (`servicekit.launcher.PLATFORM`), what
each service publishes and consumes from its `ServiceRuntime` (as `build_app` wires it), the face worker's
group and topics from `exam.faceworker`, the secrets from the settings classes (`SecretStr` fields).

Rendering uses the deployment tools that `make install` puts into .tools/ (kubectl's kustomize);
`make k8s-check` validates the same output against the schemas and runs the policy check.
"""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from exam.domain.candidate import LIVE_PREFIX
from exam.faceworker.settings import GROUP_ID, FaceWorkerSettings
from exam.faceworker.worker import ANSWER_TOPIC, REQUEST_TOPIC
from gateway.feeds.application.appender import feed_models
from pydantic import SecretStr
from servicekit.kafka import DLQ_SUFFIX
from servicekit.launcher import FACE_WORKER_MODULE, PLATFORM
from servicekit.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
TOOLS_PYTHON = ROOT / ".tools" / "bin" / "python"
CHECK = ROOT / "deploy" / "k8s" / "check.py"
OVERLAYS = ("staging", "production")
FACE_WORKER = "exam-faceworker"
Doc = dict[str, Any]


@cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    if not TOOLS_PYTHON.exists():
        pytest.fail("the deployment tools are missing: run `make install` (it creates .tools/)")
    out = subprocess.run(
        [str(TOOLS_PYTHON), str(CHECK), "render", overlay], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def objects(overlay: str, kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


def container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_of(deployment: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container(deployment).get("env", [])}


@dataclass(frozen=True)
class Traffic:
    publishes: frozenset[str]
    consumes: frozenset[str]
    group: str  # the consumer groups' prefix (a service) or the group (the face worker)
    objects: bool


@pytest.fixture(scope="module")
def traffic() -> Iterator[dict[str, Traffic]]:
    """What each process publishes and consumes, as its code wires it (`build_app` builds the runtime)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JWT_SECRET", "k8s-manifest-test-" + "x" * 32)
        mp.setenv("CERTIFICATION_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
        found: dict[str, Traffic] = {}
        for spec in PLATFORM:
            app = importlib.import_module(spec.factory.split(":")[0]).build_app()
            runtime = app.state.runtime
            consumed: set[str] = set()
            for _group, handlers, extra in runtime._consumers():
                _own, foreign = handlers.split(runtime.own_contexts)
                consumed |= set(foreign.topics) | set(extra)
            found[spec.name] = Traffic(
                frozenset(runtime.published_topics),
                frozenset(consumed),
                f"{spec.name}.",
                runtime.objects is not None,
            )
        # the gateway's feed-log writer is a consumer its runtime does not list (gateway.feeds starts it)
        gateway = found["gateway"]
        feed_topics = {model.topic() for model in feed_models()}
        found["gateway"] = Traffic(
            gateway.publishes, gateway.consumes | feed_topics, gateway.group, gateway.objects
        )
        found["faceworker"] = Traffic(frozenset({ANSWER_TOPIC}), frozenset({REQUEST_TOPIC}), GROUP_ID, True)
        yield found


@cache
def contract_topics() -> frozenset[str]:
    """The topics of the published contract (`make asyncapi`), read in a fresh interpreter: other tests of the
    same run register events of their own (e.g. servicekit's `kittest.events`) in this one."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from events.asyncapi import build_document; print(json.dumps(build_document()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(channel["address"] for channel in json.loads(out.stdout)["channels"].values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_of_the_contract_is_a_kafka_topic_with_its_retention(overlay: str) -> None:
    topics = {t["spec"]["topicName"]: t for t in objects(overlay, "KafkaTopic").values()}
    expected = contract_topics()
    assert expected, "the event contract lists no topic"
    assert set(topics) == expected
    settings = ServiceSettings()
    for name, topic in topics.items():
        config = topic["spec"]["config"]
        if name.endswith(".events"):  # rebuilds replay them from the beginning: kept forever
            assert int(config["retention.ms"]) == -1 == settings.kafka_events_retention_ms, name
            assert int(config["retention.bytes"]) == -1, name
        elif name.endswith(DLQ_SUFFIX):
            assert int(config["retention.ms"]) == settings.kafka_dlq_retention_ms, name
        assert topic["spec"]["partitions"] >= 1
        assert int(config["min.insync.replicas"]) <= topic["spec"]["replicas"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_runs_hardened_with_probes_resources_and_a_pdb(overlay: str) -> None:
    deployments, services = objects(overlay, "Deployment"), objects(overlay, "Service")
    pdbs = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in objects(overlay, "PodDisruptionBudget").values()
    }
    for spec in PLATFORM:
        deployment = deployments[spec.name]
        main = container(deployment)
        assert main["command"][:3] == ["uvicorn", spec.factory, "--factory"]
        port = int(main["command"][main["command"].index("--port") + 1])
        assert main["ports"][0]["containerPort"] == port
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        _assert_hardened(deployment)
        assert services[spec.name]["spec"]["ports"][0]["targetPort"] in ("http", port)
        assert spec.name in pdbs
        assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert env_of(deployment)["SERVICE_NAME"]["value"] == spec.name


def _assert_hardened(deployment: Doc) -> None:
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    main = container(deployment)
    security = main["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True, name
    assert security["allowPrivilegeEscalation"] is False, name
    assert security["readOnlyRootFilesystem"] is True, name
    assert security["capabilities"]["drop"] == ["ALL"], name
    assert {"cpu", "memory"} <= set(main["resources"]["requests"]), name
    assert {"cpu", "memory"} <= set(main["resources"]["limits"]), name
    # the read-only root's one writable place
    tmp = {m["name"] for m in main["volumeMounts"] if m["mountPath"] == "/tmp"}
    assert any(v["name"] in tmp and "emptyDir" in v for v in pod["volumes"]), name
    assert pod["automountServiceAccountToken"] is False, name


def _acls(user: Doc) -> dict[tuple[str, str, str], set[str]]:
    acls: dict[tuple[str, str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        key = (resource["type"], resource["name"], resource.get("patternType", "literal"))
        acls.setdefault(key, set()).update(acl["operations"])
    return acls


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_a_kafka_user_allowed_exactly_its_topics(
    overlay: str, traffic: dict[str, Traffic]
) -> None:
    users = objects(overlay, "KafkaUser")
    for name, flows in traffic.items():
        acls = _acls(users[name])
        topics = {n: ops for (kind, n, pattern), ops in acls.items() if kind == "topic"}
        assert all(pattern == "literal" for kind, _, pattern in acls if kind == "topic"), name
        writes = {t for t, ops in topics.items() if "Write" in ops}
        reads = {t for t, ops in topics.items() if "Read" in ops}
        assert writes == set(flows.publishes) | {t + DLQ_SUFFIX for t in flows.consumes}, name
        assert reads == set(flows.consumes), name
        # ensure_topics looks up every topic it touches and its dead-letter companion
        touched = flows.publishes | flows.consumes
        assert {t for t, ops in topics.items() if "Describe" in ops} == touched | {
            t + DLQ_SUFFIX for t in touched
        }
        groups = {(n, pattern) for (kind, n, pattern) in acls if kind == "group"}
        expected_pattern = "prefix" if flows.group.endswith(".") else "literal"
        assert groups == {(flows.group, expected_pattern)}, name
        assert set(topics) <= contract_topics(), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_face_worker_has_no_database_and_scales_up_to_the_partitions(overlay: str) -> None:
    worker = objects(overlay, "Deployment")[FACE_WORKER]
    assert container(worker)["command"] == ["python", "-m", FACE_WORKER_MODULE]
    env = env_of(worker)
    assert not [name for name in env if name.startswith("MONGO")]
    assert not [e for e in container(worker).get("envFrom", []) if "mongo" in str(e).lower()]
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert "platform.zj-cert/mongo-client" not in labels
    assert env["FACE_WORKER_READY_FILE"]["value"].startswith("/tmp/")
    assert (
        FaceWorkerSettings.model_fields["face_worker_ready_file"].validation_alias == "FACE_WORKER_READY_FILE"
    )
    _assert_hardened(worker)

    scaled = objects(overlay, "ScaledObject")[FACE_WORKER]
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == GROUP_ID
    assert trigger["metadata"]["topic"] == REQUEST_TOPIC
    partitions = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in objects(overlay, "KafkaTopic").values()
    }
    assert scaled["spec"]["maxReplicaCount"] == partitions[REQUEST_TOPIC]
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == FACE_WORKER

    policy = objects(overlay, "NetworkPolicy")["faceworker"]
    assert policy["spec"]["ingress"] == []
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert 27017 not in ports


def _secret_variables() -> set[str]:
    """The environment variables of every settings class that hold a secret (`SecretStr`)."""
    settings_classes: list[type[ServiceSettings]] = [ServiceSettings, FaceWorkerSettings]
    for spec in PLATFORM:
        module = importlib.import_module(spec.factory.split(".")[0] + ".settings")
        settings_classes += [
            c for c in vars(module).values() if isinstance(c, type) and issubclass(c, ServiceSettings)
        ]
    return {
        str(field.validation_alias)
        for cls in settings_classes
        for field in cls.model_fields.values()
        if field.annotation is SecretStr
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_secrets_and_never_from_the_config_map(
    overlay: str, traffic: dict[str, Traffic]
) -> None:
    secret_names = _secret_variables()
    assert {"JWT_SECRET", "S3_SECRET_KEY", "CERTIFICATION_SIGNING_KEY"} <= secret_names
    config = objects(overlay, "ConfigMap")
    platform_config = next(c for name, c in config.items() if name.startswith("platform-config"))
    assert not secret_names & set(platform_config["data"])
    deployments = objects(overlay, "Deployment")
    for name in [s.name for s in PLATFORM] + [FACE_WORKER]:
        env = env_of(deployments[name])
        for variable in secret_names & set(env):
            assert "secretKeyRef" in env[variable].get("valueFrom", {}), f"{name}: {variable}"
        if "MONGO_URL" in env:
            assert "secretKeyRef" in env["MONGO_URL"]["valueFrom"], name
    for spec in PLATFORM:
        env = env_of(deployments[spec.name])
        assert "JWT_SECRET" in env and "MONGO_URL" in env, spec.name
        assert ("S3_SECRET_KEY" in env) == traffic[spec.name].objects, spec.name
    assert "CERTIFICATION_SIGNING_KEY" in env_of(deployments["certification"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_a_database_user_for_its_own_database_only(overlay: str) -> None:
    (mongo,) = objects(overlay, "MongoDBCommunity").values()
    users = {u["name"]: u for u in mongo["spec"]["users"]}
    assert set(users) == {spec.name for spec in PLATFORM}
    for name, user in users.items():
        assert {role["db"] for role in user["roles"]} == {name}
        assert not {role["name"] for role in user["roles"]} & {
            "root",
            "readWriteAnyDatabase",
            "dbAdminAnyDatabase",
        }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_object_storage_users_reach_their_own_bucket_and_the_face_worker_only_reads(
    overlay: str, traffic: dict[str, Traffic]
) -> None:
    setup = objects(overlay, "ConfigMap")["minio-setup"]["data"]
    policies = {
        name.removesuffix(".json"): json.loads(text) for name, text in setup.items() if name.endswith(".json")
    }
    assert set(policies) == {name for name, flows in traffic.items() if flows.objects}

    def grants(policy: Doc) -> set[tuple[str, str]]:
        return {(a, r) for s in policy["Statement"] for a in s["Action"] for r in s["Resource"]}

    for name, policy in policies.items():
        if name == "faceworker":
            continue
        buckets = {r.removeprefix("arn:aws:s3:::").split("/")[0] for _, r in grants(policy)}
        writable = {
            r.removeprefix("arn:aws:s3:::").split("/")[0] for a, r in grants(policy) if a != "s3:GetObject"
        }
        assert writable == {name}, name
        assert buckets <= {name, "enrollment"}, name  # enrollment: the head-photo read grant
    worker = grants(policies["faceworker"])
    assert {a for a, _ in worker} == {"s3:GetObject"}
    assert ("s3:GetObject", f"arn:aws:s3:::exam/{LIVE_PREFIX}*") in worker
