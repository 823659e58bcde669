"""deploy/: the Kubernetes manifests, the compose file and the Dockerfile, validated offline.

- Built-in Kubernetes kinds: kubernetes-validate --strict (its bundled schemas; unknown fields fail).
- KEDA's ScaledObject and TriggerAuthentication are CRDs that kubernetes-validate does not know
  (it only warns and exits 0). They are validated here against deploy/k8s/schemas/*.json, a
  hand-written strict subset of the KEDA 2.x CRDs, and cross-checked against the Deployments.
- compose.yaml: check-jsonschema with its bundled Compose specification (vendor.compose-spec).
- Dockerfile: hadolint, failing on warnings and errors.
- Every CMS_* name in deploy/ must be a field of cms.settings.SystemSettings (or a documented exception).

Beyond the schemas, the wiring is checked: selectors, named ports, probes, Secret and ConfigMap
references, autoscaler targets, queue names and ports against the settings.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cms.system import SystemSettings
from consumers.registry import CONSUMERS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
BIN = Path(sys.executable).parent

IMAGE = "newsroom-cms:0.1.0"
EXAMPLE_SECRET = "secret.example.yaml"
# Consumers deployed by these manifests (others may land in consumers/ before they are deployed;
# every registered consumer must be deployed: see test_every_registered_consumer_is_deployed).
DEPLOYED_CONSUMERS = ("search", "social", "ads", "webhooks", "purge")
# CMS_* names read outside SystemSettings, with the file that reads them.
NOT_SETTINGS = {"CMS_MIGRATIONS_DIR": ROOT / "cms" / "schema.py"}

Doc = dict[str, Any]


def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing from the venv: pip install -e '.[dev]'"
    return str(path)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # Our own venv's tools, with arguments built here from repository paths.
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)  # noqa: S603


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _docs(*, include_example: bool = True) -> list[Doc]:
    return [
        doc
        for path in _manifest_files()
        if include_example or path.name != EXAMPLE_SECRET
        for doc in _load(path)
    ]


def _of_kind(kind: str) -> list[Doc]:
    return [doc for doc in _docs(include_example=kind == "Secret") if doc["kind"] == kind]


def _named(kind: str, name: str) -> Doc:
    found = [doc for doc in _of_kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _is_keda(doc: Doc) -> bool:
    return str(doc["apiVersion"]).startswith("keda.sh/")


def _pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def _config() -> dict[str, str]:
    data: dict[str, str] = _of_kind("ConfigMap")[0]["data"]
    return data


def _deployment_for(selector: dict[str, str]) -> list[Doc]:
    return [
        d
        for d in _of_kind("Deployment")
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]


def _scripts() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(project["project"]["scripts"])


# --- Kubernetes: built-in kinds ---------------------------------------------------------------


def test_kubernetes_manifests_validate_strictly() -> None:
    """Every manifest passes strict Kubernetes validation; only KEDA's kinds go unchecked there."""
    files = _manifest_files()
    result = _run(_tool("kubernetes-validate"), "--strict", *map(str, files))
    lines = result.stdout.splitlines()
    report = result.stdout + result.stderr

    assert result.returncode == 0, report
    assert not [line for line in lines if not line.startswith(("INFO ", "WARN "))], report
    passed = [line for line in lines if line.startswith("INFO ") and " passed for resource " in line]
    warned = [line for line in lines if line.startswith("WARN ")]
    builtin = [doc for doc in _docs() if not _is_keda(doc)]
    keda = [doc for doc in _docs() if _is_keda(doc)]
    assert len(passed) == len(builtin), report
    # The only resources it cannot check are KEDA's: those are covered by the schema test below.
    assert len(warned) == len(keda), report
    for line in warned:
        assert re.search(r"Couldn't find schema for kind \w+ with api version keda\.sh/v1alpha1", line), line


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    """The validator has teeth: a misspelt field in a Service fails it, named in the output."""
    service = copy.deepcopy(_named("Service", "newsroom-api"))
    service["spec"]["ports"][0]["portz"] = 80
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(service), encoding="utf-8")

    result = _run(_tool("kubernetes-validate"), "--strict", str(path))

    assert result.returncode != 0
    assert "portz" in result.stdout


# --- Kubernetes: KEDA custom resources ---------------------------------------------------------


def _keda_schema(kind: str) -> Doc:
    path = K8S / "schemas" / f"{kind.lower()}.json"
    assert path.is_file(), f"no schema for KEDA kind {kind}: add {path.relative_to(ROOT)}"
    schema: Doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_keda_resources_match_their_schemas() -> None:
    """The ScaledObject and TriggerAuthentication manifests validate against KEDA's own schemas."""
    keda = [doc for doc in _docs() if _is_keda(doc)]

    assert {doc["kind"] for doc in keda} == {"ScaledObject", "TriggerAuthentication"}
    for doc in keda:
        validator = jsonschema.Draft202012Validator(_keda_schema(doc["kind"]))
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{doc['kind']} {doc['metadata']['name']}: {errors}"


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        (("spec",), "maxReplicas", 5),  # the HPA's name for it, not KEDA's
        (("spec", "triggers", 0, "metadata"), "queue", "cms.search"),
        (("spec", "triggers", 0, "metadata"), "value", 200),  # metadata values are strings
    ],
)
def test_keda_schema_catches_mistakes(where: tuple[str | int, ...], field: str, value: object) -> None:
    """KEDA's schema refuses the HPA's field name, an unknown trigger key and a non-string value."""
    scaled = copy.deepcopy(_of_kind("ScaledObject")[0])
    node: Any = scaled
    for step in where:
        node = node[step]
    node[field] = value

    assert not jsonschema.Draft202012Validator(_keda_schema("ScaledObject")).is_valid(scaled)


def test_every_consumer_scales_on_its_own_queue() -> None:
    """Each consumer scales on its own queue's length, reading the broker URL from its own Secret key."""
    prefix = _config()["CMS_AMQP_PREFIX"]
    auths = {doc["metadata"]["name"]: doc for doc in _of_kind("TriggerAuthentication")}
    scaled = {doc["spec"]["scaleTargetRef"]["name"]: doc for doc in _of_kind("ScaledObject")}

    assert set(scaled) == {f"newsroom-consumer-{name}" for name in DEPLOYED_CONSUMERS}
    for name in DEPLOYED_CONSUMERS:
        target = f"newsroom-consumer-{name}"
        deployment = _named("Deployment", target)
        spec = scaled[target]["spec"]
        assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
        assert "replicas" not in deployment["spec"], f"{target}: KEDA owns the replica count"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        [trigger] = spec["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == f"{prefix}.{name}"
        assert trigger["metadata"]["mode"] == "QueueLength"
        # The scaler reads the broker URL from the same Secret key as the consumer itself.
        [ref] = auths[trigger["authenticationRef"]["name"]]["spec"]["secretTargetRef"]
        assert ref["parameter"] == "host"
        [container] = _pod_spec(deployment)["containers"]
        amqp = next(e for e in container["env"] if e["name"] == "CMS_AMQP_URL")
        assert amqp["valueFrom"]["secretKeyRef"] == {"name": ref["name"], "key": ref["key"]}


# --- Kubernetes: wiring ------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    """kustomization.yaml lists each manifest once, leaves the example Secret out, and names the image."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = kustomization["resources"]

    assert len(listed) == len(set(listed))
    assert set(listed) == {p.name for p in _manifest_files()} - {EXAMPLE_SECRET}
    assert [image["name"] for image in kustomization["images"]] == [IMAGE.split(":")[0]]


def test_workloads_run_the_image_as_non_root_with_resources_and_references_that_exist() -> None:
    """Every workload runs our image as non-root, bounded, with config and secret keys that exist."""
    config = _of_kind("ConfigMap")[0]["metadata"]["name"]
    secret = _of_kind("Secret")[0]
    example = (K8S / EXAMPLE_SECRET).read_text(encoding="utf-8")
    scripts = _scripts()
    workloads = _of_kind("Deployment") + _of_kind("Job")

    assert {w["metadata"]["name"] for w in workloads} == {
        "newsroom-api",
        "newsroom-relay",
        "newsroom-migrate",
        *(f"newsroom-consumer-{name}" for name in DEPLOYED_CONSUMERS),
    }
    for workload in workloads:
        name = workload["metadata"]["name"]
        pod = _pod_spec(workload)
        # Service links would inject <SERVICE>_PORT=tcp://... variables, which can collide with CMS_*.
        assert pod["enableServiceLinks"] is False, name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        for container in pod["containers"]:
            assert container["image"] == IMAGE, name
            assert container["command"][0] in scripts, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name} {bound}"
            assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == [config], name
            for env in container.get("env", []):
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"], name
                assert ref["key"] == env["name"], name
                if ref.get("optional"):  # documented in the example, not given a value there
                    assert ref["key"] in example, f"{name}: {ref['key']} undocumented"
                else:
                    assert ref["key"] in secret["stringData"], name
            assert "CMS_DATABASE_URL" in {env["name"] for env in container.get("env", [])}, name


def test_deployments_probe_health_and_readiness_on_their_settings_port() -> None:
    """Each Deployment listens and is probed on the port its settings give it, with matching labels."""
    config = _config()
    defaults = SystemSettings()
    for deployment in _of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items(), name
        [container] = _pod_spec(deployment)["containers"]
        command = container["command"]
        variable = {
            ("cms", "serve"): "CMS_PORT",
            ("cms", "relay"): "CMS_RELAY_PORT",
        }.get(tuple(command)) or f"CMS_{command[1].upper()}_PORT"
        port = int(config[variable])
        # The ConfigMap repeats the defaults, so compose, docs and manifests all agree.
        assert port == getattr(defaults, variable.removeprefix("CMS_").lower()), variable
        assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [("http", port)], name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert container["startupProbe"]["httpGet"]["port"] == "http", name


def test_every_registered_consumer_is_deployed() -> None:
    """Every consumer in the registry has a Deployment running `cms-consumer NAME`."""
    assert set(CONSUMERS) <= set(DEPLOYED_CONSUMERS)
    for name in DEPLOYED_CONSUMERS:
        [container] = _pod_spec(_named("Deployment", f"newsroom-consumer-{name}"))["containers"]
        assert container["command"] == ["cms-consumer", name]


def test_services_budgets_and_autoscalers_select_existing_pods() -> None:
    """Services, disruption budgets and the API's autoscaler each select exactly one existing Deployment."""
    deployments = _of_kind("Deployment")
    for service in _of_kind("Service"):
        name = service["metadata"]["name"]
        [target] = _deployment_for(service["spec"]["selector"])
        assert not name.upper().replace("-", "_").startswith("CMS"), f"{name} would set CMS_* variables"
        named_ports = {p["name"] for c in _pod_spec(target)["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= named_ports, name

    budgets = _of_kind("PodDisruptionBudget")
    covered = {_deployment_for(b["spec"]["selector"]["matchLabels"])[0]["metadata"]["name"] for b in budgets}
    assert all(len(_deployment_for(b["spec"]["selector"]["matchLabels"])) == 1 for b in budgets)
    assert covered == {d["metadata"]["name"] for d in deployments}

    [hpa] = _of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "newsroom-api",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in _named("Deployment", "newsroom-api")["spec"], "the HPA owns the replica count"
    # One active relay and one hot standby (an advisory lock decides which is active).
    assert _named("Deployment", "newsroom-relay")["spec"]["replicas"] == 2


def test_example_secret_holds_only_placeholders() -> None:
    """The example Secret ships placeholders on .example.invalid hosts, never a usable credential."""
    [secret] = _of_kind("Secret")

    assert set(secret["stringData"]) == {"CMS_DATABASE_URL", "CMS_AMQP_URL"}
    for key, value in secret["stringData"].items():
        assert "PLACEHOLDER" in value, key
        assert ".example.invalid" in value, key


# --- Compose -----------------------------------------------------------------------------------


def _compose() -> Doc:
    loaded: Doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_compose_file_matches_the_compose_specification() -> None:
    """compose.yaml validates against the Compose specification's schema."""
    result = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))

    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_role_with_health_checks_and_ordering() -> None:
    """Compose runs migrate first, then every role on its default port with a /readyz health check."""
    services = _compose()["services"]
    defaults = SystemSettings()
    roles = {
        "api": (["cms", "serve"], "CMS_PORT"),
        "relay": (["cms", "relay"], "CMS_RELAY_PORT"),
        **{f"consumer-{n}": (["cms-consumer", n], f"CMS_{n.upper()}_PORT") for n in DEPLOYED_CONSUMERS},
    }

    assert set(services) == {"postgres", "rabbitmq", "migrate", *roles}
    assert services["migrate"]["command"] == ["cms", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("postgres", "rabbitmq"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
        assert services[name]["restart"] == "unless-stopped", name
    for name, (command, variable) in roles.items():
        service = services[name]
        environment = service["environment"]
        port = getattr(defaults, variable.removeprefix("CMS_").lower())
        assert service["command"] == command, name
        assert service["restart"] == "unless-stopped", name
        assert int(environment[variable]) == port, name
        assert {"CMS_DATABASE_URL", "CMS_AMQP_URL", "CMS_PUBLIC_URL"} <= set(environment), name
        assert environment["CMS_HOST"] == "0.0.0.0", f"{name} must listen beyond the container"  # noqa: S104
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        assert f"http://127.0.0.1:{port}/readyz" in test[3], name
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        if name != "api":  # the API never talks to the broker
            assert depends["rabbitmq"]["condition"] == "service_healthy", name


# --- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    """The Dockerfile has no hadolint warning."""
    result = _run(_tool("hadolint"), "--failure-threshold", "warning", "--no-color", str(DOCKERFILE))

    assert result.returncode == 0, result.stdout + result.stderr


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_final_stage_is_slim_non_root_and_ships_the_migrations() -> None:
    """The final stage is python:3.11-slim without compilers, runs as non-root and carries the migrations."""
    instructions = _instructions()
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    final = instructions[stages[-1] :]
    env = " ".join(arg for op, arg in final if op == "ENV")
    copies = [arg.split() for op, arg in final if op == "COPY"]
    users = [arg for op, arg in final if op == "USER"]
    runs = " ".join(arg for op, arg in final if op == "RUN")

    assert len(stages) >= 2
    assert all(instructions[i][1].startswith("python:3.11-slim") for i in stages)
    assert ["--from=build", "/opt/venv", "/opt/venv"] in copies
    [schema] = [c for c in copies if c[0] == "schema"]
    assert f"CMS_MIGRATIONS_DIR={schema[1]}/migrations" in env
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    assert not re.search(r"\b(gcc|build-essential|apt-get install)\b", runs)
    assert any(op == "HEALTHCHECK" for op, _ in final)
    assert json.loads(next(arg for op, arg in final if op == "CMD"))[0] in _scripts()


def test_dockerignore_lets_through_everything_the_dockerfile_copies() -> None:
    """The dockerignore denies all by default yet admits every path the Dockerfile copies."""
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    sources = [
        arg.split()[:-1] for op, arg in _instructions() if op == "COPY" and not arg.startswith("--from")
    ]

    assert "*" in ignore
    assert {source for group in sources for source in group} <= allowed


def test_the_image_installs_every_data_file_the_packages_read() -> None:
    """The image installs the project as a wheel (not editable): a data file next to the code
    that package-data does not list is missing there, and only there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data: dict[str, list[str]] = project["tool"]["setuptools"]["package-data"]
    for package in ("cms", "consumers"):
        directory = ROOT / package
        listed = {path for pattern in package_data.get(package, []) for path in directory.glob(pattern)}
        data = {
            path
            for path in directory.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
        }
        missing = sorted(path.relative_to(ROOT).as_posix() for path in data - listed)
        assert not missing, f"not in [tool.setuptools.package-data] {package}: {missing}"


# --- SystemSettings ----------------------------------------------------------------------------------


def test_every_cms_variable_in_deploy_is_a_setting() -> None:
    """Every CMS_* variable in compose, Dockerfile and manifests is a real setting, or read where listed."""
    files = [COMPOSE, DOCKERFILE, *_manifest_files()]
    named = {
        (name, path.relative_to(ROOT).as_posix())
        for path in files
        for name in re.findall(r"\bCMS_[A-Z0-9_]+\b", path.read_text(encoding="utf-8"))
    }
    fields = set(SystemSettings.model_fields)

    assert {name for name, _ in named} >= {"CMS_DATABASE_URL", "CMS_AMQP_URL", "CMS_PUBLIC_URL"}
    unknown = sorted(
        f"{name} in {where}"
        for name, where in named
        if name.removeprefix("CMS_").lower() not in fields and name not in NOT_SETTINGS
    )
    assert not unknown, f"not fields of cms.settings.SystemSettings: {unknown}"
    for name, reader in NOT_SETTINGS.items():
        assert f'"{name}"' in reader.read_text(encoding="utf-8"), f"{name} is no longer read by {reader.name}"
