"""`make k8s-check`: render every overlay, validate every object offline, run the policy check.

    python deploy/k8s/check.py            # secrets if missing, render, validate, checkov; exit 1 on a problem
    python deploy/k8s/check.py secrets    # only create the staging overlay's secret files (if missing)
    python deploy/k8s/check.py render OVERLAY   # print an overlay as `kubectl kustomize` renders it

Runs with the deployment tools' interpreter (.tools/, `make tools`): kubectl (kustomize), kubernetes-validate
(the Kubernetes JSON Schemas, shipped in the package) and checkov. The custom resources are validated against
the schemas committed under deploy/k8s/schemas. Nothing is downloaded.

Every object must validate strictly (no unknown field). Checkov must report no failed check: a check that does
not apply is skipped in the manifest itself, with its reason (`checkov.io/skip<N>: CHECK_ID=reason`), and the
skips are printed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
OVERLAYS = ("staging", "production")
SCHEMAS = HERE / "schemas"
KUBERNETES_VERSION = "1.33"
# the group/version of every custom resource the manifests may use → its schema file (deploy/k8s/schemas)
CRDS: dict[tuple[str, str], str] = {
    ("kafka.strimzi.io/v1", "Kafka"): "kafka.strimzi.io/kafka_v1.json",
    ("kafka.strimzi.io/v1", "KafkaNodePool"): "kafka.strimzi.io/kafkanodepool_v1.json",
    ("kafka.strimzi.io/v1", "KafkaTopic"): "kafka.strimzi.io/kafkatopic_v1.json",
    ("kafka.strimzi.io/v1", "KafkaUser"): "kafka.strimzi.io/kafkauser_v1.json",
    (
        "mongodbcommunity.mongodb.com/v1",
        "MongoDBCommunity",
    ): "mongodbcommunity.mongodb.com/mongodbcommunity_v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh/scaledobject_v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda.sh/triggerauthentication_v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com/servicemonitor_v1.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring.coreos.com/podmonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com/prometheusrule_v1.json",
    ("external-secrets.io/v1", "ExternalSecret"): "external-secrets.io/externalsecret_v1.json",
}
CHECKOV_TIMEOUT_S = 600


def tool(name: str) -> str:
    """A tool of the deployment tools' venv (beside this interpreter), else from the PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"k8s-check: {name} not found: run `make tools` (it installs .tools/)")
    return found


# ------------------------------------------------------------------ secrets of the staging overlay


def _base_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((HERE / "base").rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def secret_files() -> dict[str, dict[str, str]]:
    """The staging overlay's secret files and their keys, with fresh random values. The per-user keys come
    from the base manifests: a MinIO user per policy of the setup Job, a MongoDB user per operator user."""
    base = _base_documents()
    s3_users = sorted(
        name.removesuffix(".json")
        for d in base
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "minio-setup"
        for name in d["data"]
        if name.endswith(".json")
    )
    mongo_users = sorted(
        u["passwordSecretRef"]["key"]
        for d in base
        if d["kind"] == "MongoDBCommunity"
        for u in d["spec"]["users"]
    )

    def token() -> str:
        return secrets.token_urlsafe(36)

    return {
        "platform.env": {"JWT_SECRET": token(), "GATEWAY_SIGNING_SECRET": token()},
        "certification.env": {
            "CERTIFICATION_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode()
        },
        "minio-root.env": {"MINIO_ROOT_USER": "platform-admin", "MINIO_ROOT_PASSWORD": token()},
        "s3-credentials.env": {user: token() for user in s3_users},
        "mongo-passwords.env": {user: token() for user in mongo_users},
    }


def ensure_secrets(overlay: str = "staging") -> None:
    """Create the overlay's secret files that are missing (an existing file is kept: its values are live)."""
    folder = HERE / "overlays" / overlay / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    for name, values in secret_files().items():
        path = folder / name
        if not path.exists():
            path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
            path.chmod(0o600)


# ------------------------------------------------------------------ render and validate


def render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(HERE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"k8s-check: kubectl kustomize overlays/{overlay} failed:\n{result.stderr}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def validate(doc: dict[str, Any]) -> str | None:
    """None when the object is valid, else what is wrong."""
    key = (doc.get("apiVersion", ""), doc.get("kind", ""))
    if key in CRDS:
        schema = json.loads((SCHEMAS / CRDS[key]).read_text())
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            return "; ".join(f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5])
        return None
    if "." in key[0].split("/")[0] and not key[0].split("/")[0].endswith(".k8s.io"):
        return f"no schema for the custom resource {key[0]} {key[1]} (add it to deploy/k8s/schemas and CRDS)"
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(map(str, exc.path)) or '(root)'}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return exc.message
    return None


# ------------------------------------------------------------------ policy check


def checkov(folder: Path) -> tuple[int, list[str], int, list[str]]:
    """(passed, failures, skips) of checkov's Kubernetes checks over the rendered overlays in `folder`."""
    args = [tool("checkov"), "--framework", "kubernetes", "--output", "json", "--compact", "--skip-download"]
    args += ["--directory", str(folder)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        args, capture_output=True, text=True, check=False, env=env, timeout=CHECKOV_TIMEOUT_S
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise SystemExit(
            f"k8s-check: checkov did not answer JSON:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        ) from exc
    if isinstance(reports, dict):
        reports = [reports]
    passed = 0
    failures: list[str] = []
    skips: list[tuple[str, str, str]] = []
    for report in reports:
        res = report.get("results", {})
        passed += int(report.get("summary", {}).get("passed", 0))
        for check in res.get("failed_checks", []):
            failures.append(
                f"{check['check_id']} {check['check_name']}: {check['resource']} ({check['file_path']})"
            )
        for check in res.get("skipped_checks", []):
            reason = (check.get("check_result") or {}).get("suppress_comment", "")
            skips.append((check["check_id"], reason, check["resource"]))
    # one line per exception and reason, naming the objects (both overlays: the same manifests)
    grouped: dict[tuple[str, str], set[str]] = {}
    for check_id, reason, resource in skips:
        kind, *_, name = resource.split(".")
        grouped.setdefault((check_id, reason), set()).add(f"{kind}/{name}")
    lines = [f"{c} ({', '.join(sorted(objs))}): {r}" for (c, r), objs in sorted(grouped.items())]
    return passed, failures, len(skips), lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["secrets"]:
        ensure_secrets()
        return 0
    if argv[:1] == ["render"]:
        ensure_secrets()
        sys.stdout.write(yaml.safe_dump_all(render(argv[1]), sort_keys=False))
        return 0
    ensure_secrets()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="k8s-check-") as tmp:
        for overlay in OVERLAYS:
            docs = render(overlay)
            for doc in docs:
                problem = validate(doc)
                if problem:
                    problems.append(f"overlays/{overlay} {_name(doc)}: {problem}")
            (Path(tmp) / f"{overlay}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
            print(
                f"k8s-check: overlays/{overlay}: {len(docs)} objects rendered and validated"
                f" (Kubernetes {KUBERNETES_VERSION}, CRDs)"
            )
        passed, failures, skipped, exceptions = checkov(Path(tmp))
    print(
        f"k8s-check: checkov: {passed} passed, {len(failures)} failed, {skipped} skipped"
        " (each skip justified in its manifest):"
    )
    for line in exceptions:
        print(f"  skipped {line}")
    problems += [f"checkov: {f}" for f in failures]
    for problem in problems:
        print(f"k8s-check: FAILED {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
