"""Benchmark a whole release: `invoke release` against the same steps run by hand.

Generates a small package (3 modules), a medium one (300 modules of ~200 lines and 5 MiB of
package data) and two large ones (3 modules with 256 MiB and 1 GiB of incompressible package
data), starts local indexes (pypiserver on 127.0.0.1) and bare git remotes, and then, in rounds
that alternate the pipelines, releases every package for real:

  releasekit  `invoke release --bump patch --yes --json` (per-step times from the summary's
              "steps", or from its progress lines when the summary has none)
  standard    bump2version, python -m build, twine check, twine upload x2, venv + pip install x2,
              git push
  uv          bump2version, uv build, uv publish x2, uv venv + uv pip install x2, git push

Then `invoke --list` start-up (releasekit's tasks vs a trivial tasks.py), `releasekit status` and
a release refused by preflight (a changed tracked file), both with the indexes up, and the peak
memory of a release. The large packages are released once per pipeline (no warm-up, one round, whatever
--rounds says), with the memory sampler on, and their files are deleted from the indexes after
each release, so the 1 GiB case needs about 20 GB of disk at its peak, not 20 GB a round.
Prints a table of medians, a growth table (seconds per step against the package data size), the
ratios against the targets, and the same as markdown.
Everything happens in one temporary directory with a throwaway HOME; nothing leaves 127.0.0.1
except the build requirements (setuptools), which come from the package registry or your caches.

Usage: bench.py [--rounds N] [--warmup N] [--sizes small,medium,256mb,1gb] [--no-large]
                [--startup-runs N] [--quick] [--markdown FILE] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import _bootstrap
import _sandbox

if TYPE_CHECKING:
    from releasekit.testing.localindex import LocalIndex

_bootstrap.ensure_env()

BIN = Path(sys.executable).parent
START = "1.0.0"  # every project starts here; each round releases the next patch
PIPELINES = ("releasekit", "standard", "uv")
STEPS = ("bump", "build", "check", "upload-test", "verify-test", "upload-live", "verify-live", "push")
ROW_LABELS = {
    "bump": "bump + commit + tag",
    "build": "build sdist + wheel",
    "check": "check (twine --strict)",
    "upload-test": "upload to test index",
    "verify-test": "verify install (test)",
    "upload-live": "upload to live index",
    "verify-live": "verify install (live)",
    "push": "git push",
    "other": "start-up, plan, preflight",
    "summary": "summary, exit",
    "total": "total",
}
STEP_LINE = re.compile(r"^(\S) (?:(?:skipped|would) )?([a-z-]+)\b.*?(?:\((\d+(?:\.\d+)?)s\))?\s*$")
PROBE = (
    "import importlib, importlib.metadata as md, sys\n"
    "name, version, module = sys.argv[1:4]\n"
    "assert md.version(name) == version, md.version(name)\n"
    "importlib.import_module(module)\n"
)
TRIVIAL_TASKS = (
    'from invoke import task\n\n\n@task\ndef hello(c):\n    """Say hello."""\n    print("hello")\n'
)
DATA_FILES, DATA_FILE_SIZE = 20, 256 * 1024  # 5 MiB of incompressible package data
MEDIUM_MODULES, FUNCTIONS_PER_MODULE = 300, 18  # ~200 lines a module
# The large packages ship files of 8 MiB: setuptools' wheel writer holds each file whole (and its
# compressed copy), so with 64 MiB files the build backend alone peaks near 250 MB.
LARGE_FILE = 8 << 20
# Package data of each large size; they are released once per pipeline.
LARGE = {"256mb": 256 << 20, "1gb": 1 << 30}
SIZES = ("small", "medium", *LARGE)
SIZE_LABELS = {
    "small": "3 modules",
    "medium": f"{MEDIUM_MODULES} modules, 5 MiB package data",
    "256mb": "3 modules, 256 MiB incompressible package data",
    "1gb": "3 modules, 1 GiB incompressible package data",
}
PEAK_LIMIT_MB = {"small": 200, "medium": 200, "256mb": 100, "1gb": 100}
# Large uploads and installs over loopback take longer than the default per-step timeout allows.
LARGE_TIMEOUT = 900
GIT_STORE_RAW = {
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "core.compression",
    "GIT_CONFIG_VALUE_0": "0",
    "GIT_CONFIG_KEY_1": "core.bigFileThreshold",
    "GIT_CONFIG_VALUE_1": "1m",
}


class BenchError(Exception):
    """A pipeline step failed: the benchmark is void; the message is one line plus a tail."""


# -- the generated packages -------------------------------------------------------------------


def _module_text(index: int) -> str:
    """About 200 lines of plain, importable Python."""
    lines = [
        f'"""Module {index:03d}: generated code for the releasekit benchmark."""',
        "",
        "from __future__ import annotations",
        "",
        "import math",
        "from dataclasses import dataclass",
        "",
        f"CONSTANT = {index}",
        "",
        "",
        "@dataclass",
        "class Record:",
        '    """A small record."""',
        "",
        "    key: str",
        "    value: float",
        "",
        "    def scaled(self, factor: float) -> float:",
        "        return self.value * factor * CONSTANT",
    ]
    for j in range(FUNCTIONS_PER_MODULE):
        lines += [
            "",
            "",
            f"def combine_{j}(x: float, y: float = 1.0) -> float:",
            f'    """Combine x and y, variant {j}."""',
            f"    total = x * {j + 1} + y",
            "    if total > 100:",
            "        total = math.sqrt(total)",
            "    for k in range(3):",
            "        total += k * 0.5",
            "    return total",
        ]
    return "\n".join(lines) + "\n"


def write_project(dest: Path, name: str, size: str, large_data: Path | None = None) -> None:
    """A package like tests/projects/sample: setuptools, src layout, bump2version config.

    A large size hard-links the data files of `large_data` (made once by `make_large_data`), so
    every pipeline ships the same bytes without a copy of them each.
    """
    pkg = name.replace("-", "_")
    medium = size == "medium"
    has_data = medium or size in LARGE
    files: dict[str, str] = {
        "README.md": f"# {name}\n\nA generated package that the releasekit benchmark releases.\n",
        "LICENSE.txt": (_bootstrap.ROOT / "LICENSE.txt").read_text("utf-8"),
        ".gitignore": "dist/\nbuild/\n*.egg-info/\n__pycache__/\n.env\n.pypirc\n",
        "tasks.py": 'from releasekit.tasks import ns\n\n__all__ = ["ns"]\n',
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "{START}"\n'
            'description = "A generated package for the releasekit benchmark."\nreadme = "README.md"\n'
            'requires-python = ">=3.9"\nlicense = "MIT"\nlicense-files = ["LICENSE.txt"]\n'
            'authors = [{ name = "Bench Releaser", email = "bench@example.invalid" }]\n'
            'classifiers = ["Programming Language :: Python :: 3"]\ndependencies = []\n\n'
            '[tool.setuptools.packages.find]\nwhere = ["src"]\nnamespaces = false\n'
            + (f'\n[tool.setuptools.package-data]\n{pkg} = ["data/*.bin"]\n' if has_data else "")
            + (f"\n[tool.releasekit]\ntimeout = {LARGE_TIMEOUT}\n" if size in LARGE else "")
        ),
        "setup.cfg": (
            f"[bumpversion]\ncurrent_version = {START}\n"
            "parse = (?P<major>\\d+)\\.(?P<minor>\\d+)\\.(?P<patch>\\d+)"
            "(?:(?P<pre_l>a|b|rc)(?P<pre_n>\\d+))?\n"
            "serialize = \n\t{major}.{minor}.{patch}{pre_l}{pre_n}\n\t{major}.{minor}.{patch}\n\n"
            '[bumpversion:file:pyproject.toml]\nsearch = version = "{current_version}"\n'
            'replace = version = "{new_version}"\n\n'
            f"[bumpversion:file:src/{pkg}/__init__.py]\n"
        ),
        f"src/{pkg}/__init__.py": (
            f'"""{name}: generated for the releasekit benchmark."""\n\n__version__ = "{START}"\n'
        ),
        f"src/{pkg}/core.py": _module_text(0),
        f"src/{pkg}/cli.py": "from .core import combine_0\n\n\ndef main():\n    print(combine_0(1.0))\n",
    }
    if medium:
        for i in range(1, MEDIUM_MODULES - 2):  # with __init__, core and cli: 300 modules
            files[f"src/{pkg}/mod_{i:03d}.py"] = _module_text(i)
    for relative, text in files.items():
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        (dest / relative).write_text(text, encoding="utf-8")
    if medium:
        rng = random.Random(20250101)  # the same bytes for every pipeline # noqa: S311
        (dest / "src" / pkg / "data").mkdir()
        for i in range(DATA_FILES):
            (dest / "src" / pkg / "data" / f"blob_{i:02d}.bin").write_bytes(rng.randbytes(DATA_FILE_SIZE))
    if large_data is not None:
        (dest / "src" / pkg / "data").mkdir()
        for blob in sorted(large_data.iterdir()):
            os.link(blob, dest / "src" / pkg / "data" / blob.name)


def make_large_data(directory: Path, size: int) -> Path:
    """`size` bytes of random (incompressible) data in files of LARGE_FILE, written in blocks."""
    directory.mkdir(parents=True)
    for i in range(size // LARGE_FILE):
        with (directory / f"blob_{i:03d}.bin").open("wb") as out:
            for _ in range(LARGE_FILE >> 20):
                out.write(os.urandom(1 << 20))
    return directory


# -- running commands -------------------------------------------------------------------------


@dataclass
class Ran:
    seconds: float
    maxrss_kb: int  # the largest single process of the command's tree (wait4's rusage)
    stdout: str
    stderr: list[tuple[float, str]]  # each line with the seconds since the start when it arrived


class Runner:
    """Runs commands with a fixed environment; logs go to files, rusage comes from wait4."""

    def __init__(self, env: dict[str, str], logs: Path, bump2version: Path) -> None:
        self.env, self.logs, self.count = env, logs, 0
        self.bump2version = bump2version
        self.cpu = 0.0  # user + system seconds of every command so far, children included
        self.peak_kb = 0  # the largest ru_maxrss of a command since the last reset

    def run(
        self,
        cmd: Sequence[str],
        cwd: Path,
        extra_env: dict[str, str] | None = None,
        on_start: Callable[[int], None] | None = None,
        expect: int = 0,
    ) -> Ran:
        self.count += 1
        out_path = self.logs / f"{self.count}.out"
        env = {**self.env, **(extra_env or {})}
        stamped: list[tuple[float, str]] = []
        with out_path.open("wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE
            )
            if on_start is not None:
                on_start(proc.pid)
            assert proc.stderr is not None
            with proc.stderr:
                for raw in proc.stderr:  # releasekit flushes a line as each step ends
                    stamped.append((time.perf_counter() - start, raw.decode("utf-8", "replace").rstrip("\n")))
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu += usage.ru_utime + usage.ru_stime
        self.peak_kb = max(self.peak_kb, usage.ru_maxrss)
        ran = Ran(seconds, usage.ru_maxrss, out_path.read_text("utf-8", "replace"), stamped)
        (self.logs / f"{self.count}.err").write_text(
            "".join(f"{t:8.3f} {ln}\n" for t, ln in stamped), "utf-8"
        )
        if proc.returncode != expect:
            lines = [ln.strip() for _, ln in stamped] + ran.stdout.splitlines()
            lines = [ln for ln in lines if ln]
            shown = " ".join(Path(c).name if os.sep in c else c for c in cmd[:3])
            raise BenchError(f"`{shown} ...` exited with {proc.returncode}: {' | '.join(lines[-6:])[-900:]}")
        return ran


# -- the three pipelines ----------------------------------------------------------------------


@dataclass
class Project:
    pipeline: str
    size: str
    name: str
    path: Path
    test: LocalIndex
    live: LocalIndex
    released: int = 0  # patch releases so far

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")

    def next_version(self) -> str:
        major, minor, patch = (int(part) for part in START.split("."))
        return f"{major}.{minor}.{patch + self.released + 1}"


@dataclass
class Measure:
    steps: dict[str, float]
    total: float
    cpu: float  # user + system seconds of the commands and their children
    maxrss_kb: int = 0


def run_releasekit(
    runner: Runner, project: Project, on_start: Callable[[int], None] | None = None
) -> Measure:
    version = project.next_version()
    cmd = [str(BIN / "invoke"), "release", "--bump", "patch", "--yes", "--json"]
    cpu = runner.cpu
    ran = runner.run(cmd, project.path, on_start=on_start)
    summary = json.loads(ran.stdout)
    steps = _steps_from_summary(summary, ran) if "steps" in summary else _steps_from_progress(ran)
    done = summary["complete"] and summary["pushed"] and all(d["verified"] for d in summary["destinations"])
    if summary["version"] != version or not done or steps is None or not set(STEPS) <= set(steps):
        tail = " | ".join(line for _, line in ran.stderr[-8:])
        raise BenchError(f"releasekit did not release {version} completely: {tail}")
    project.released += 1
    steps["bump"] += steps.pop("tag", 0.0)  # the hand-run pipelines commit and tag in one command
    return Measure(steps, ran.seconds, runner.cpu - cpu, ran.maxrss_kb)


def _steps_from_summary(summary: dict[str, Any], ran: Ran) -> dict[str, float] | None:
    """Per-step seconds from the summary's "steps": [{"name", "outcome", "seconds", "detail"}].

    A step's time is what the release measured for it; everything else (start-up, planning,
    preflight, the bookkeeping between steps, the summary, steps the benchmark has no row for)
    goes to "other".
    """
    steps: dict[str, float] = {}
    for step in summary["steps"]:
        if step["outcome"] == "failed":
            return None
        if step["outcome"] == "done" and step["name"] in (*STEPS, "tag"):
            steps[step["name"]] = steps.get(step["name"], 0.0) + float(step["seconds"])
    steps["other"] = max(0.0, ran.seconds - sum(steps.values()))
    return steps


def _steps_from_progress(ran: Ran) -> dict[str, float] | None:
    """Per-step seconds from the progress lines, timestamped as they arrive on stderr.

    A step's time is from the previous step's line to its own (so the bookkeeping between two
    steps counts to the later one); the first step's comes from its own "(N.Ns)".
    """
    steps: dict[str, float] = {}
    first: float | None = None
    last: float | None = None
    for arrived, line in ran.stderr:
        match = STEP_LINE.match(line)
        if not (match and match.group(1) == "✓" and match.group(3) and match.group(2) in (*STEPS, "tag")):
            continue
        if first is None:
            first = arrived - float(match.group(3))
        steps[match.group(2)] = arrived - (first if last is None else last)
        last = arrived
    if last is None:
        return None
    steps["other"] = first or 0.0
    steps["summary"] = ran.seconds - last
    return steps


def _bump_by_hand(runner: Runner, project: Project, version: str) -> float:
    cmd = [
        str(runner.bump2version), "--new-version", version, "--commit", "--tag",
        "--tag-name", "v{new_version}", "--message", "Release {new_version}",
        "--tag-message", "Release {new_version}", "patch",
    ]  # fmt: skip
    return runner.run(cmd, project.path).seconds


def _verify_by_hand(
    runner: Runner, project: Project, version: str, venv: list[str], install: list[str]
) -> float:
    """Create the environment, install name==version from the index, check the version and import."""
    env_dir = Path(venv[-1])
    python = str(env_dir / "bin" / "python")
    seconds = runner.run(venv, project.path).seconds
    seconds += runner.run([*install, f"{project.name}=={version}"], project.path).seconds
    seconds += runner.run(
        [python, "-I", "-c", PROBE, project.name, version, project.module], project.path
    ).seconds
    shutil.rmtree(env_dir)
    return seconds


def run_standard(runner: Runner, project: Project, scratch: Path) -> Measure:
    version, cpu = project.next_version(), runner.cpu
    runner.peak_kb = 0
    out = scratch / f"{project.name}-{version}-dist"
    steps = {"bump": _bump_by_hand(runner, project, version)}
    py = sys.executable
    steps["build"] = runner.run([py, "-m", "build", "--outdir", str(out), "."], project.path).seconds
    files = [str(p) for p in sorted(out.iterdir())]
    steps["check"] = runner.run([str(BIN / "twine"), "check", "--strict", *files], project.path).seconds
    for role, index in (("test", project.test), ("live", project.live)):
        creds = {"TWINE_USERNAME": index.username, "TWINE_PASSWORD": index.password}
        upload = [str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar"]
        steps[f"upload-{role}"] = runner.run(
            [*upload, "--repository-url", index.url, *files], project.path, extra_env=creds
        ).seconds
        env_dir = scratch / f"{project.name}-{version}-{role}-venv"
        env_python = str(env_dir / "bin" / "python")
        pip = [env_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        steps[f"verify-{role}"] = _verify_by_hand(
            runner, project, version, [py, "-m", "venv", str(env_dir)],
            [*pip, "--no-deps", "--no-cache-dir", "--index-url", index.simple_url],
        )  # fmt: skip
    return _push_and_finish(runner, project, version, out, steps, cpu)


def _push_and_finish(
    runner: Runner, project: Project, version: str, out: Path, steps: dict[str, float], cpu: float
) -> Measure:
    """The last step of both hand-run pipelines, then the round's measure."""
    steps["push"] = runner.run(
        ["git", "push", "--quiet", "--atomic", "origin", "main", f"v{version}"], project.path
    ).seconds
    shutil.rmtree(out)
    project.released += 1
    return Measure(steps, sum(steps.values()), runner.cpu - cpu, runner.peak_kb)


def run_uv(runner: Runner, project: Project, scratch: Path) -> Measure:
    version, cpu = project.next_version(), runner.cpu
    runner.peak_kb = 0
    uv = str(BIN / "uv")
    out = scratch / f"{project.name}-{version}-dist"
    steps = {"bump": _bump_by_hand(runner, project, version)}
    steps["build"] = runner.run([uv, "build", "--quiet", "--out-dir", str(out)], project.path).seconds
    files = [str(p) for p in sorted(out.iterdir())]
    for role, index in (("test", project.test), ("live", project.live)):
        creds = {"UV_PUBLISH_USERNAME": index.username, "UV_PUBLISH_PASSWORD": index.password}
        publish = [uv, "publish", "--quiet", "--trusted-publishing", "never", "--publish-url", index.url]
        steps[f"upload-{role}"] = runner.run([*publish, *files], project.path, extra_env=creds).seconds
        env_dir = scratch / f"{project.name}-{version}-{role}-venv"
        install = [uv, "pip", "install", "--quiet", "--python", str(env_dir / "bin" / "python")]
        steps[f"verify-{role}"] = _verify_by_hand(
            runner, project, version, [uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)],
            [*install, "--no-deps", "--no-cache", "--index-url", index.simple_url],
        )  # fmt: skip
    return _push_and_finish(runner, project, version, out, steps, cpu)


# -- memory -----------------------------------------------------------------------------------


class TreeSampler:
    """Samples, every `interval` seconds, the RSS summed over a process and its descendants,
    and the process's own high-water mark (VmHWM). Linux /proc only; elsewhere it reports None."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.root = interval, 0
        self.tree_peak: int | None = None
        self.own_peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def start(self, pid: int) -> None:
        self.root = pid
        if Path("/proc/self/stat").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path("/proc", entry.name, "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * self._page
        total, todo = 0, [self.root]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo.extend(children.get(pid, ()))
        if total:
            self.tree_peak = max(self.tree_peak or 0, total)
        try:
            status = Path("/proc", str(self.root), "status").read_text()
        except OSError:
            return
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            self.own_peak = max(self.own_peak or 0, int(match.group(1)) * 1024)


# -- results ----------------------------------------------------------------------------------


@dataclass
class Results:
    rounds: int
    warmup: int
    runs: dict[tuple[str, str], list[Measure]] = field(default_factory=dict)
    startup: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[str, dict[str, int | None]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # 1-minute load average, before and after

    def median(self, size: str, pipeline: str, row: str) -> float | None:
        runs = self.runs.get((size, pipeline), [])
        values = [
            m.total if row == "total" else m.cpu if row == "cpu" else m.steps[row]
            for m in runs
            if row in (*m.steps, "total", "cpu")
        ]
        return statistics.median(values) if values else None

    def peak(self, size: str, pipeline: str) -> int | None:
        """The largest single process of any round of this pipeline at this size, in bytes."""
        peaks = [m.maxrss_kb * 1024 for m in self.runs.get((size, pipeline), []) if m.maxrss_kb]
        return max(peaks) if peaks else None


def _fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}x"


def _mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:.0f} MB"


def step_table(results: Results, size: str) -> list[list[str]]:
    rows = [["step (median s)", "releasekit", "standard", "uv", "rk / uv", "rk / standard"]]
    for row in (*STEPS, "other", "summary", "total"):
        rk, std, uv = (results.median(size, p, row) for p in PIPELINES)
        if row in ("other", "summary"):
            std = uv = None
        label = ROW_LABELS[row]
        if row == "total":
            label = f"**{label}**"
        rows.append([label, _fmt_s(rk), _fmt_s(std), _fmt_s(uv), _ratio(rk, uv), _ratio(rk, std)])
    spread = []
    for pipeline in PIPELINES:
        totals = [m.total for m in results.runs.get((size, pipeline), [])]
        spread.append(f"{min(totals):.2f}-{max(totals):.2f}" if totals else "—")
    rows.append(["total, min-max", *spread, "", ""])
    rk, std, uv = (results.median(size, p, "cpu") for p in PIPELINES)
    rows.append(
        ["CPU time (user + sys)", _fmt_s(rk), _fmt_s(std), _fmt_s(uv), _ratio(rk, uv), _ratio(rk, std)]
    )
    return rows


def targets(results: Results, sizes: Sequence[str]) -> list[list[str]]:
    rows = [["target", "measured", "limit", ""]]

    def add(what: str, value: float | None, limit: float, unit: str = "x", fmt: str = "{:.2f}") -> None:
        if value is None:
            rows.append([what, "not measured", f"≤ {fmt.format(limit)}{unit}", "—"])
            return
        verdict = "PASS" if value <= limit else "MISS"
        rows.append([what, f"{fmt.format(value)}{unit}", f"≤ {fmt.format(limit)}{unit}", verdict])

    def ratio(size: str, row: str, other: str) -> float | None:
        a, b = results.median(size, "releasekit", row), results.median(size, other, row)
        return None if a is None or not b else a / b

    if "small" in sizes:
        add("small: release / uv pipeline", ratio("small", "total", "uv"), 0.6)
        add("small: release / standard pipeline", ratio("small", "total", "standard"), 0.1)
    if "medium" in sizes:
        add("medium: build step / uv build", ratio("medium", "build", "uv"), 1.0)
        add("medium: release / uv pipeline", ratio("medium", "total", "uv"), 1.25)
    rk, empty = results.startup.get("releasekit"), results.startup.get("empty")
    delta = statistics.median(rk) - statistics.median(empty) if rk and empty else None
    add(
        "`invoke --list`: releasekit minus empty tasks.py",
        None if delta is None else delta * 1000,
        150,
        " ms",
        "{:.0f}",
    )
    for key, what in (("refusal", "preflight refusal (dirty tree)"), ("status", "`releasekit status`")):
        runs = results.startup.get(key)  # measured on the first size, both indexes up
        add(f"{sizes[0]}: {what}", statistics.median(runs) if runs else None, 0.5, " s")
    for size in LARGE:
        if size in sizes:
            add(f"{size}: build step / uv build", ratio(size, "build", "uv"), 1.25)
            # issue 13: no slower than uv at 256 MiB; at 1 GiB only how it grows is asked for
            add(f"{size}: release / uv pipeline", ratio(size, "total", "uv"), 1.0 if size == "256mb" else 1.5)
    for size, mem in results.memory.items():
        value = mem.get("largest")
        add(f"{size}: peak memory of a release (largest process)", None if value is None else value / 1e6,
            PEAK_LIMIT_MB[size], " MB", "{:.0f}")  # fmt: skip
    return rows


def growth_table(results: Results, sizes: Sequence[str]) -> list[list[str]] | None:
    """Seconds per step against the package data (small is 0), for releasekit and uv."""
    grown = [s for s in ("small", *LARGE) if s in sizes]
    if len(grown) < 2:
        return None
    data = {"small": "0", "256mb": "256 MiB", "1gb": "1 GiB"}
    head = [f"rk {data[s]}" for s in grown] + [f"uv {data[s]}" for s in grown]
    rows = [["step (s) by package data", *head]]
    for row in (*STEPS, "other", "total"):
        label = ROW_LABELS[row] if row != "other" else "everything else (start-up, plan, preflight, summary)"
        cells = []
        for pipeline in ("releasekit", "uv"):
            for size in grown:
                value = results.median(size, pipeline, row)
                if row == "other" and pipeline == "releasekit":
                    value = (value or 0.0) + (results.median(size, pipeline, "summary") or 0.0)
                cells.append("—" if pipeline == "uv" and row == "other" else _fmt_s(value))
        rows.append([f"**{label}**" if row == "total" else label, *cells])
    peaks = [_mb(results.peak(size, p)) for p in ("releasekit", "uv") for size in grown]
    rows.append(["largest process (wait4 rusage)", *peaks])
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        head = "| " + " | ".join(rows[0]) + " |"
        rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|"
        return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in rows[1:])])
    plain = [[c.replace("**", "").replace("`", "") for c in r] for r in rows]
    widths = [max(len(r[i]) for r in plain) for i in range(len(plain[0]))]
    lines = []
    for n, r in enumerate(plain):
        cells = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_info(load: Sequence[float]) -> list[str]:
    cpu = "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
        mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        memory = f"{int(mem.group(1)) / 1024 / 1024:.0f} GiB" if mem else "?"
    except OSError:
        memory = "?"
    uv_version = subprocess.run([str(BIN / "uv"), "--version"], capture_output=True, text=True, check=False)
    head = subprocess.run(["git", "-C", str(_bootstrap.ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(_bootstrap.ROOT), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    versions = {n: importlib.metadata.version(n) for n in ("releasekit", "build", "twine", "invoke", "pip")}
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), {memory} RAM, {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, {uv_version.stdout.strip()}, "
        + ", ".join(f"{n} {v}" for n, v in versions.items()),
        f"releasekit at commit {head or '?'}" + (" with uncommitted changes in src/" if dirty else ""),
        "load average (1 min) before / after the run: " + " / ".join(f"{v:.2f}" for v in load),
    ]


def report(results: Results, sizes: Sequence[str], markdown: bool) -> str:
    out: list[str] = []
    title = (lambda t: f"### {t}") if markdown else (lambda t: f"== {t}")
    out.append(f"{results.rounds} rounds, alternating, after {results.warmup} warm-up round(s); medians.")
    for size in sizes:
        what = SIZE_LABELS[size] + ("; one round" if size in LARGE else "")
        out += [
            "",
            title(f"{size} package ({what}), seconds"),
            "",
            render(step_table(results, size), markdown),
        ]
    labels = {
        "releasekit": "`invoke --list`, tasks.py = `from releasekit.tasks import ns`",
        "empty": "`invoke --list`, a trivial tasks.py (one task)",
        "releasekit-cmd": "`releasekit --list`",
        "dry-run": "`invoke release --bump patch --yes --dry-run` (start-up + plan + preflight)",
        "status": "`releasekit status` (git, the remote and both indexes)",
        "refusal": "`invoke release --bump patch --yes` in a dirty tree (refused by preflight)",
    }
    if results.startup:
        count = max(len(v) for v in results.startup.values())
        startup = [[f"start-up and planning (median of {count} runs)", "ms"]]
        for key, label in labels.items():
            if results.startup.get(key):
                startup.append([label, f"{statistics.median(results.startup[key]) * 1000:.0f}"])
        out += ["", title("start-up"), "", render(startup, markdown)]
    if results.memory:
        mem_rows = [["peak memory of one release", *results.memory]]
        for key, label in (
            ("own", "releasekit's process (VmHWM, sampled)"),
            ("largest", "largest single process in the tree (wait4 rusage)"),
            ("tree", "whole process tree, summed RSS (sampled every 50 ms)"),
        ):
            mem_rows.append([label, *(_mb(m.get(key)) for m in results.memory.values())])
        for pipeline in ("standard", "uv"):
            mem_rows.append([f"{pipeline} pipeline: largest single process (wait4 rusage)",
                             *(_mb(results.peak(size, pipeline)) for size in results.memory)])  # fmt: skip
        out += ["", title("memory"), "", render(mem_rows, markdown)]
    growth = growth_table(results, sizes)
    if growth is not None:
        out += ["", title("growth with package data (releasekit and uv)"), "", render(growth, markdown)]
    out += ["", title("targets"), "", render(targets(results, sizes), markdown), ""]
    out += [("- " if markdown else "") + line for line in machine_info(results.load)]
    return "\n".join(out)


# -- the run ----------------------------------------------------------------------------------


def measure_startup(runner: Runner, rk_dir: Path, empty_dir: Path, runs: int) -> dict[str, list[float]]:
    commands = {
        "releasekit": ([str(BIN / "invoke"), "--list"], rk_dir),
        "empty": ([str(BIN / "invoke"), "--list"], empty_dir),
        "releasekit-cmd": ([str(BIN / "releasekit"), "--list"], empty_dir),
        "dry-run": ([str(BIN / "invoke"), "release", "--bump", "patch", "--yes", "--dry-run"], rk_dir),
        "status": ([str(BIN / "releasekit"), "status"], rk_dir),
        "refusal": ([str(BIN / "invoke"), "release", "--bump", "patch", "--yes"], rk_dir),
    }
    found: dict[str, list[float]] = {k: [] for k in commands}
    readme = rk_dir / "README.md"
    clean = readme.read_bytes()
    for n in range(runs + 1):  # the first round warms the page cache and writes .pyc files
        for key, (cmd, cwd) in commands.items():
            if key == "refusal":  # a tracked file changed: preflight must refuse, exit 1
                readme.write_bytes(clean + b"\nan uncommitted line\n")
                try:
                    ran = runner.run(cmd, cwd, expect=1)
                finally:
                    readme.write_bytes(clean)
                if "uncommitted changes" not in " ".join(line for _, line in ran.stderr):
                    raise BenchError(f"a release in a dirty tree was not refused as such: {ran.stderr[-3:]}")
            else:
                ran = runner.run(cmd, cwd)
            if n:
                found[key].append(ran.seconds)
    return found


def new_work(runner: Runner, project: Project) -> None:
    """A commit before every release, outside the timing and alike for every pipeline: the same
    release command run again on the commit it released is, for releasekit, a re-run (a no-op)."""
    notes = project.path / "CHANGES.txt"
    with notes.open("a", encoding="utf-8") as fh:
        fh.write(f"work before release {project.released + 1}\n")
    for args in (["add", "CHANGES.txt"], ["commit", "-qm", f"work {project.released + 1}"]):
        subprocess.run(["git", *args], cwd=project.path, env=runner.env, check=True, capture_output=True)


def measure_memory(runner: Runner, project: Project) -> dict[str, int | None]:
    new_work(runner, project)
    sampler = TreeSampler()
    try:
        measure = run_releasekit(runner, project, on_start=sampler.start)
    finally:
        sampler.stop()
    return {"own": sampler.own_peak, "largest": measure.maxrss_kb * 1024, "tree": sampler.tree_peak}


@contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="releasekit-bench-"))
    tempfile.tempdir = str(root / "tmp")  # the indexes' htpasswd files and releasekit's scratch, too
    try:
        for sub in ("home", "tmp", "indexes", "work", "logs", "scratch"):
            (root / sub).mkdir()
        yield root
    finally:
        if keep:
            print(f"kept the benchmark directory: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def generate(
    runner: Runner, root: Path, size: str, pairs: dict[str, tuple[LocalIndex, LocalIndex]]
) -> dict[tuple[str, str], Project]:
    """One project of this size for each pipeline, each in its own git repository with a remote."""
    started = time.monotonic()
    large_data = make_large_data(root / "data" / size, LARGE[size]) if size in LARGE else None
    projects = {}
    for pipeline in PIPELINES:
        name = f"bench-{size}-{pipeline}"
        path = root / "work" / name
        write_project(path, name, size, large_data)
        remote = root / "remotes" / f"{name}.git"
        if large_data is None:
            _sandbox.init_with_remote(path, remote, runner.env)
        else:
            init_large_with_remote(path, remote, runner.env)
        projects[size, pipeline] = Project(pipeline, size, name, path, *pairs[pipeline])
    if large_data is not None:
        # Each hard link changed the shared files' ctime, so the copies committed earlier have a
        # stale git index: the first `git status` of a timed step would hash the data again.
        for project in projects.values():
            subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=project.path, env=runner.env,
                           check=False, capture_output=True, timeout=600)  # fmt: skip
    say(f"generated the {size} package x {len(PIPELINES)} pipelines in {time.monotonic() - started:.0f}s")
    return projects


def init_large_with_remote(project: Path, remote: Path, env: dict[str, str]) -> None:
    """`_sandbox.init_with_remote` for a large package, in seconds rather than minutes.

    git stores the data uncompressed (deflating random bytes gains nothing), and the remote is a
    local bare clone, which hard-links the objects instead of pushing a GiB through a pack.
    """
    env = {**env, **GIT_STORE_RAW}

    def git(cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=600)

    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "Initial commit"]):
        git(project, *args)
    remote.parent.mkdir(parents=True, exist_ok=True)
    git(remote.parent, "clone", "--quiet", "--bare", str(project), remote.name)
    git(project, "remote", "add", "origin", str(remote))
    git(project, "fetch", "--quiet", "origin")
    git(project, "branch", "--quiet", "--set-upstream-to", "origin/main", "main")


def measure_size(
    runner: Runner,
    root: Path,
    size: str,
    projects: dict[tuple[str, str], Project],
    results: Results,
    rounds: int,
    warmup: int,
) -> None:
    """The rounds of one size, then its memory; a large size gets one round, sampled."""
    scratch = root / "scratch"
    large = size in LARGE
    sampler = TreeSampler()

    def releasekit(project: Project) -> Measure:
        if not large:
            return run_releasekit(runner, project)
        try:
            return run_releasekit(runner, project, on_start=sampler.start)
        finally:
            sampler.stop()

    runners: dict[str, Callable[[Project], Measure]] = {
        "releasekit": releasekit,
        "standard": lambda p: run_standard(runner, p, scratch),
        "uv": lambda p: run_uv(runner, p, scratch),
    }
    if large:
        rounds, warmup = 1, 0
    for n in range(warmup + rounds):
        order = PIPELINES[n % 3 :] + PIPELINES[: n % 3]  # rotate, so no pipeline always goes first
        for pipeline in order:
            project = projects[size, pipeline]
            new_work(runner, project)
            measure = runners[pipeline](project)
            label = f"warm-up {n + 1}" if n < warmup else f"round {n - warmup + 1}/{rounds}"
            say(f"{size:<6} {label:<11} {pipeline:<10} {project.name} {project.released:>2}: "
                f"{measure.total:6.2f}s, largest process {_mb(measure.maxrss_kb * 1024)}")  # fmt: skip
            if n >= warmup:
                results.runs.setdefault((size, pipeline), []).append(measure)
            if large:
                forget_release(project)
    if large:
        rk = results.runs[size, "releasekit"][0]
        results.memory[size] = {
            "own": sampler.own_peak,
            "largest": rk.maxrss_kb * 1024,
            "tree": sampler.tree_peak,
        }
    else:
        results.memory[size] = measure_memory(runner, projects[size, "releasekit"])
    say(f"{size:<6} memory: {', '.join(f'{k} {_mb(v)}' for k, v in results.memory[size].items())}")


def forget_release(project: Project) -> None:
    """Delete a large release's files from its indexes and releasekit's store: disk, not state."""
    dist = project.name.replace("-", "_")
    for index in (project.test, project.live):
        for path in index.packages_dir.iterdir():
            if path.name.startswith((dist, project.name)):
                path.unlink()
    shutil.rmtree(project.path / ".git" / "releasekit" / "artifacts", ignore_errors=True)


def install_bump2version(tools: Path) -> Path:
    """bump2version in an environment of its own; uv's cache makes it a second after the first run.

    It ships a `bumpversion` package, as bump-my-version (a test dependency) does: the two cannot
    share .venv-dev.
    """
    uv = str(BIN / "uv")
    for cmd in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(tools)],
        [uv, "pip", "install", "--quiet", "--python", str(tools / "bin" / "python"), "bump2version==1.0.1"],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
        if done.returncode:
            raise BenchError(f"cannot install bump2version: {done.stderr.strip()[-400:]}")
    return tools / "bin" / "bump2version"


def bench(root: Path, sizes: Sequence[str], rounds: int, warmup: int, startup_runs: int) -> Results:
    from releasekit.testing.localindex import serve_local_index

    bump2version = install_bump2version(root / "tools")

    results = Results(rounds=rounds, warmup=warmup, load=[os.getloadavg()[0]])
    with ExitStack() as stack:

        def serve(label: str) -> LocalIndex:
            password = secrets.token_urlsafe(16)
            return stack.enter_context(
                serve_local_index(root / "indexes" / label, username="bench", password=password)
            )

        # Each pipeline has its own pair of indexes, so none of them sees another's files.
        pairs = {p: (serve(f"{p}-test"), serve(f"{p}-live")) for p in PIPELINES}
        env = _sandbox.sandbox_env(
            root / "home", NO_COLOR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
            PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        )  # fmt: skip
        # A user's commands write .pyc files and reuse them; an inherited PYTHONDONTWRITEBYTECODE
        # would make every run compile releasekit's sources again (about 70 ms a start).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _sandbox.write_pypirc(root / "home", *pairs["releasekit"])
        runner = Runner(env, root / "logs", bump2version)
        projects: dict[tuple[str, str], Project] = {}
        for size in sizes:
            projects.update(generate(runner, root, size, pairs))
            measure_size(runner, root, size, projects, results, rounds, warmup)

        empty = root / "work" / "empty-tasks"
        empty.mkdir()
        (empty / "tasks.py").write_text(TRIVIAL_TASKS, encoding="utf-8")
        rk_dir = projects[sizes[0], "releasekit"].path
        results.startup = measure_startup(runner, rk_dir, empty, startup_runs)
        say("start-up measured")
    results.load.append(os.getloadavg()[0])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per package size (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--no-large", action="store_true", help="leave out the 256mb and 1gb packages")
    parser.add_argument("--startup-runs", type=int, default=10, help="runs of each start-up command")
    parser.add_argument("--quick", action="store_true", help="1 round, no warm-up, small package only")
    parser.add_argument("--markdown", type=Path, help="also write the markdown report to this file")
    parser.add_argument("--json", type=Path, help="also write every round's raw numbers to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print it")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        args.rounds, args.warmup, sizes, args.startup_runs = 1, 0, ["small"], 5
    if args.no_large:
        sizes = [s for s in sizes if s not in LARGE]
    if not sizes or set(sizes) - set(SIZES) or args.rounds < 1 or args.warmup < 0:
        parser.error(f"--sizes takes some of {', '.join(SIZES)}; --rounds must be at least 1")
    sizes = sorted(sizes, key=SIZES.index)  # small first: start-up is measured on the first size
    from releasekit.errors import ReleaseError

    started = time.monotonic()
    try:
        with workspace(args.keep) as root:
            results = bench(root, sizes, args.rounds, args.warmup, args.startup_runs)
    except (BenchError, ReleaseError, OSError, ValueError, KeyError) as exc:
        sys.exit(f"benchmark failed: {exc}")
    print(report(results, sizes, markdown=False))
    markdown = report(results, sizes, markdown=True)
    print("\n--- markdown ---\n")
    print(markdown)
    if args.markdown:
        args.markdown.write_text(markdown + "\n", encoding="utf-8")
    if args.json:
        raw = {
            "runs": {
                f"{size}/{pipeline}": [vars(m) for m in ms] for (size, pipeline), ms in results.runs.items()
            },
            "startup": results.startup,
            "memory": results.memory,
            "load": results.load,
        }
        args.json.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    say(f"benchmark took {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
