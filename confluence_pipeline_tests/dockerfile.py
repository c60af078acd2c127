"""A Dockerfile reader and linter for machines without hadolint or a Docker engine.

The rules are a subset of hadolint's (ids kept where one exists) plus what a build would catch
first: every ``COPY`` source exists and is inside the build context left by ``.dockerignore``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

SECRET_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
SECRET_FILE = re.compile(r"(^|/)(\.env(\..*)?|.*\.pem|.*\.key|id_rsa.*|\.netrc|\.pypirc)$")
FULL_VERSION_TAG = re.compile(r":\d+\.\d+\.\d+[^:@]*$")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of a CMD/ENTRYPOINT/RUN in exec form, else ``None``."""
        if not self.value.startswith("["):
            return None
        parsed = json.loads(self.value)
        return [str(part) for part in parsed]

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """``--flag=value`` options and the remaining words (COPY, ADD, FROM)."""
        words = shlex.split(self.value)
        flags: dict[str, str] = {}
        while words and words[0].startswith("--"):
            name, _, value = words.pop(0)[2:].partition("=")
            flags[name] = value
        return flags, words

    def commands(self) -> list[str]:
        """The shell commands of a RUN, split on ``&&``."""
        return [part.strip() for part in self.value.split("&&") if part.strip()]


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, continuation lines joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line[:-1].strip() if continued else line)
        if not continued:
            keyword, _, value = " ".join(p for p in pending if p).partition(" ")
            instructions.append(Instruction(keyword.upper(), value.strip(), start))
            pending = []
    return instructions


class DockerIgnore:
    """``.dockerignore`` semantics: patterns relative to the context root, ``*`` within one
    path segment, ``**`` across segments, a matched directory excludes what it holds, ``!``
    re-includes, the last matching pattern wins."""

    def __init__(self, text: str) -> None:
        self._rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = line.lstrip("!").strip().strip("/")
            self._rules.append((negate, re.compile(_glob_to_regex(pattern))))

    def ignored(self, path: str) -> bool:
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        ignored = False
        for negate, rule in self._rules:
            if any(rule.fullmatch(candidate) for candidate in candidates):
                ignored = not negate
        return ignored

    def context(self, root: Path) -> list[Path]:
        """Files of ``root`` that a build would send, relative to ``root``."""
        files = []
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not self.ignored(relative.as_posix()):
                files.append(relative)
        return files


def _glob_to_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def lint(dockerfile: str, context: Path, ignore: DockerIgnore) -> list[str]:
    """Problems found, each ``"<rule> line <n>: <what>"``; an empty list means clean."""
    instructions = parse(dockerfile)
    problems: list[str] = []

    def problem(rule: str, instruction: Instruction, what: str) -> None:
        problems.append(f"{rule} line {instruction.line}: {what}")

    env_no_cache = any(i.keyword == "ENV" and "PIP_NO_CACHE_DIR=1" in i.value for i in instructions)
    for instruction in instructions:
        keyword, value = instruction.keyword, instruction.value
        if keyword == "FROM":
            _, words = instruction.flags_and_args()
            image = words[0]
            if image.endswith(":latest") or (":" not in image and "@" not in image):
                problem("DL3007", instruction, f"{image}: pin a version, not latest")
            elif "@sha256:" not in image and not FULL_VERSION_TAG.search(image):
                problem("DL3006", instruction, f"{image}: pin a full x.y.z version or a digest")
        elif keyword == "WORKDIR" and not value.startswith("/"):
            problem("DL3000", instruction, "WORKDIR must be absolute")
        elif keyword == "ADD":
            problem("DL3020", instruction, "use COPY, not ADD")
        elif keyword in ("CMD", "ENTRYPOINT") and instruction.exec_form() is None:
            problem("DL3025", instruction, f"{keyword} must use the JSON (exec) form")
        elif keyword in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=", value) or [value.split()[0]]:
                if SECRET_NAME.search(name):
                    problem("SECRET", instruction, f"{keyword} {name}: secrets come at run time")
        elif keyword == "COPY":
            problems.extend(_copy_problems(instruction, context, ignore))
        elif keyword == "RUN":
            for command in instruction.commands():
                problems.extend(_run_problems(instruction, command, env_no_cache))
    users = [i for i in instructions if i.keyword == "USER"]
    if not users:
        problems.append("DL3002 line 0: no USER: the image would run as root")
    elif users[-1].value.split(":")[0] in ("root", "0"):
        problem("DL3002", users[-1], "the last USER must not be root")
    return problems


def _copy_problems(instruction: Instruction, context: Path, ignore: DockerIgnore) -> list[str]:
    flags, words = instruction.flags_and_args()
    if "from" in flags:  # from another build stage
        return []
    found = []
    for source in words[:-1]:
        where = f"COPY line {instruction.line}: {source}"
        if SECRET_FILE.search(source):
            found.append(f"SECRET {where} looks like a secret file")
        if not (context / source).exists():
            found.append(f"COPY {where} does not exist in the build context")
        elif ignore.ignored(source):
            found.append(f"COPY {where} is excluded by .dockerignore")
    return found


def _run_problems(instruction: Instruction, command: str, env_no_cache: bool) -> list[str]:
    where = f"line {instruction.line}"
    words = shlex.split(command)
    found = []
    if words[0] == "sudo":
        found.append(f"DL3004 {where}: no sudo in RUN")
        words = words[1:]
    if words[0] == "cd":
        found.append(f"DL3003 {where}: use WORKDIR, not cd")
    if words[:2] == ["pip", "install"] or words[:4] == ["python", "-m", "pip", "install"]:
        args = words[words.index("install") + 1 :]
        if "--no-cache-dir" not in args and not env_no_cache:
            found.append(f"DL3042 {where}: pip install without --no-cache-dir")
        packages = _pip_packages(args)
        unpinned = [p for p in packages if p != "." and "==" not in p]
        if unpinned:
            found.append(f"DL3013 {where}: pin {', '.join(unpinned)} (==) or use the lock")
    if words[:2] == ["apt-get", "install"] and "--no-install-recommends" not in words:
        found.append(f"DL3015 {where}: apt-get install without --no-install-recommends")
    return found


def _pip_packages(args: list[str]) -> list[str]:
    packages, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-r", "--requirement", "-c", "--constraint"):
            skip = True
        elif not arg.startswith("-"):
            packages.append(arg)
    return packages
