"""The Docker image without a Docker engine: the Dockerfile passes a hadolint-like lint, the
compose file runs it three ways with secrets from the environment, the Helm values agree with
the instance config and the image, and the Dockerfile's own install steps, replayed in a fresh
venv, give working Dagster entry points."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from confluence_pipeline_tests.dockerfile import DockerIgnore, Instruction, lint, parse

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORE = DockerIgnore((ROOT / ".dockerignore").read_text())
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
APP_SERVICES = ("user_code", "webserver", "daemon")
# RUN commands that only shape the image's OS (users, folders); a venv has nothing to mirror.
SYSTEM_COMMANDS = {"groupadd", "useradd", "mkdir", "chown", "chmod"}
INSTALL_TIMEOUT_S = 900


def _cmd() -> list[str]:
    [cmd] = [i for i in parse(DOCKERFILE) if i.keyword == "CMD"]
    form = cmd.exec_form()
    assert form is not None
    return form


def test_dockerfile_passes_the_lint() -> None:
    assert lint(DOCKERFILE, ROOT, IGNORE) == []


def test_the_lint_catches_what_it_claims_to() -> None:
    bad = """FROM python:latest
WORKDIR app
ENV LLAMA_CLOUD_API_KEY=llx-123
ADD . /app
COPY .env missing.txt /app/
COPY confluence_pipeline_tests /app/tests
RUN cd /app && sudo pip install dagster
CMD dagster-webserver
USER root
"""
    rules = {problem.split()[0] for problem in lint(bad, ROOT, IGNORE)}

    assert rules == {
        "DL3007", "DL3000", "SECRET", "DL3020", "COPY", "DL3003", "DL3004", "DL3013",
        "DL3042", "DL3025", "DL3002",
    }  # fmt: skip
    assert lint("FROM python:3.11-slim\nUSER app\n", ROOT, IGNORE)[0].startswith("DL3006")


IGNORED = (
    ".env",
    ".venv/bin/python",
    ".git/config",
    ".demo/state.db",
    "confluence_pipeline_tests/test_cli.py",
    "confluence_pipeline/defs/__pycache__/assets.cpython-311.pyc",
)
KEPT = (
    "pyproject.toml",
    "README.md",
    "confluence_pipeline/definitions.py",
    "confluence_pipeline/state/migrations/env.py",
    "deploy/requirements.txt",
)


def test_dockerignore_keeps_secrets_caches_and_tests_out_of_the_context() -> None:
    assert [path for path in IGNORED if not IGNORE.ignored(path)] == []
    assert [path for path in KEPT if IGNORE.ignored(path)] == []


def test_the_lock_pins_every_dependency_the_package_declares() -> None:
    lines = (ROOT / "deploy" / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    versions: dict[str, str] = {}
    for pin in pins:
        name, _, version = pin.partition("==")
        assert version and re.fullmatch(r"[\w.+!-]+", version), f"not pinned: {pin}"
        versions[canonicalize_name(name)] = version
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    extra = (ROOT / "deploy" / "requirements.in").read_text().splitlines()
    declared += [line for line in extra if "==" in line and not line.startswith("#")]
    for requirement in map(Requirement, declared):
        pinned = versions.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is missing: run `make lock`"
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"{requirement} but the lock has {pinned}: run `make lock`"
        )
    # Dagster's libraries are released together with dagster: one version line for all
    assert versions["dagster-k8s"] == versions["dagster-postgres"]
    core = {name: v for name, v in versions.items() if name.startswith("dagster") and v[0] == "1"}
    assert len(set(core.values())) == 1, core


def test_compose_runs_one_image_three_ways_with_secrets_from_the_environment() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", *APP_SERVICES}
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert services["user_code"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert services["user_code"]["command"] == _cmd()
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"KEY|SECRET|TOKEN|PASSWORD|WEBHOOK", key):
                assert str(value).startswith("${"), f"{name}.{key} must come from the environment"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / "deploy" / source).exists(), source
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    host_env = workspace["load_from"][0]["grpc_server"]["host"]["env"]
    assert services["webserver"]["environment"][host_env] == "user_code"


def _replay(instructions: list[Instruction], context: Path, image: Path, venv: Path) -> None:
    """Runs the Dockerfile's COPY and pip steps with ``image`` standing for ``/``; pip runs
    from the venv. Deviation, for speed: pip may use its download cache here."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    workdir = image
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = image / instruction.value.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            _, words = instruction.flags_and_args()
            *sources, target = words
            destination = image / target.lstrip("/") if target.startswith("/") else workdir / target
            for source in sources:
                _copy(context / source, destination, into=target.endswith("/") or len(sources) > 1)
        elif instruction.keyword == "RUN":
            for command in instruction.commands():
                words = command.split()
                if words[0] in SYSTEM_COMMANDS:
                    continue
                assert words[0] == "pip", f"line {instruction.line}: cannot replay {command!r}"
                words = [w for w in words if w != "--no-cache-dir"]
                done = subprocess.run(
                    [str(venv / "bin" / "python"), "-m", *words],
                    cwd=workdir,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT_S,
                )
                assert done.returncode == 0, (
                    f"{command}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
                )


def _copy(source: Path, destination: Path, *, into: bool) -> None:
    target = destination / source.name if into or destination.is_dir() else destination
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_image_install_steps_give_working_entry_points(tmp_path: Path) -> None:
    context, image, venv = tmp_path / "context", tmp_path / "image", tmp_path / "venv"
    for relative in IGNORE.context(ROOT):  # exactly what `docker build` would send
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, context / relative)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)

    _replay(parse(DOCKERFILE), context, image, venv)

    home = tmp_path / "elsewhere"  # away from the checkout: imports come from the venv
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PYTHONPATH"))}
    env["DAGSTER_HOME"] = str(home)
    bin_dir = venv / "bin"

    def python(code: str) -> subprocess.CompletedProcess[str]:
        return _run([str(bin_dir / "python"), "-c", code], home, env)

    where = python("import confluence_pipeline as p; print(p.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    for command in [_cmd()] + [COMPOSE["services"][name]["command"] for name in APP_SERVICES]:
        first_option = next(i for i, word in enumerate(command) if word.startswith("-"))
        program, *subcommands = command[:first_option]
        done = _run([str(bin_dir / program), *subcommands, "--help"], home, env)
        assert done.returncode == 0, f"{command[:first_option]}: {done.stderr[-2000:]}"
    module = ["-m", "confluence_pipeline.definitions"]
    validated = _run([str(bin_dir / "dagster"), "definitions", "validate", *module], home, env)
    assert validated.returncode == 0, validated.stderr[-3000:]
    k8s = python("from dagster_k8s import K8sRunLauncher")  # run pods load the launcher
    assert k8s.returncode == 0, k8s.stderr[-2000:]
    migrated = python(
        "from confluence_pipeline.state import StateStore; StateStore.open('sqlite:///s.db', 'k')"
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]  # migrations ship in the package
    assert (image / "opt/dagster/dagster_home/dagster.yaml").exists()


def test_helm_values_carry_the_instance_limits_the_image_and_no_secrets() -> None:
    values = yaml.safe_load((ROOT / "deploy" / "helm-values.yaml").read_text())
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    runs, pools = instance["concurrency"]["runs"], instance["concurrency"]["pools"]
    chart = values["concurrency"]
    assert chart["enabled"] is True
    assert chart["runs"]["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    assert chart["runs"]["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert (chart["pools"]["defaultLimit"], chart["pools"]["granularity"]) == (
        pools["default_limit"],
        pools["granularity"],
    )
    scheme = instance["storage"]["postgres"]["postgres_db"]["scheme"]
    assert values["postgresql"]["postgresqlScheme"] == scheme
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["codeServerArgs"]
    assert " ".join(args) in " ".join(_cmd())  # the module the image serves
    uid = re.search(r"useradd [^\n]*--uid (\d+)", DOCKERFILE)
    assert uid and deployment["podSecurityContext"]["runAsUser"] == int(uid.group(1))
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert "confluence-pipeline" in [s["name"] for s in deployment["envSecrets"]]
    literal = [key for key in deployment["env"] if re.search(r"KEY|SECRET|TOKEN|PASSWORD", key)]
    assert literal == [] and "postgresqlPassword" not in values["postgresql"]
