"""The support shared by the tests, the demo and the benchmark: sample project, remote, sandbox.

A throwaway HOME for the demo and the benchmark: none of the user's settings are read or written.

Its own git identity and config, a .pypirc naming the two local indexes, no TWINE_* or extra-index
variables, a null keyring, and loopback kept off any proxy. The user's uv, pip and releasekit
caches are kept: they only ever serve build requirements (verification bypasses them for the
package under test).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from releasekit.testing.localindex import LocalIndex

GITCONFIG = "[user]\n\tname = Demo Releaser\n\temail = demo@example.invalid\n[init]\n\tdefaultBranch = main\n"
_DROPPED = ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "PIP_FIND_LINKS", "VIRTUAL_ENV")


def sandbox_env(home: Path, **extra: str) -> dict[str, str]:
    """Write the throwaway HOME's git config and return the environment that uses it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(GITCONFIG, encoding="utf-8")
    real_home = Path.home()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWINE_", "UV_PUBLISH_")) and k not in _DROPPED
    }
    env.setdefault("UV_CACHE_DIR", str(real_home / ".cache" / "uv"))
    env.setdefault("PIP_CACHE_DIR", str(real_home / ".cache" / "pip"))
    env.setdefault("RELEASEKIT_CACHE_DIR", str(real_home / ".cache" / "releasekit"))
    no_proxy = ",".join(filter(None, ["127.0.0.1,localhost", env.get("no_proxy"), env.get("NO_PROXY")]))
    env.update(
        HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        TMPDIR=tempfile.gettempdir(), NO_PROXY=no_proxy, no_proxy=no_proxy,
    )  # fmt: skip
    env.update(extra)
    return env


SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "projects" / "sample"
# Tools leave these in the template (its pyproject.toml makes it a ruff root); never copy them.
CACHE_DIRS = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})


def write_pypirc(home: Path, test: LocalIndex, live: LocalIndex, *, live_password: str | None = None) -> Path:
    """A .pypirc naming both local indexes as testpypi and pypi, mode 0600 from the start.

    `live_password` replaces the live index's password, to stand in for a wrong one.
    """
    text = "[distutils]\nindex-servers =\n    testpypi\n    pypi\n"
    for label, index in (("testpypi", test), ("pypi", live)):
        password = live_password if label == "pypi" and live_password is not None else index.password
        text += f"\n[{label}]\nrepository = {index.url}\nusername = {index.username}\n"
        text += f"password = {password}\n"
    path = home / ".pypirc"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
    return path


def render_sample(dest: Path, name: str, version: str, template: Path = SAMPLE) -> None:
    """Render a project template: `{{name}}`, `{{import_name}}` and `{{version}}` in paths and text."""
    tokens = {"{{name}}": name, "{{import_name}}": name.replace("-", "_"), "{{version}}": version}

    def render(text: str) -> str:
        for token, value in tokens.items():
            text = text.replace(token, value)
        return text

    for source in sorted(template.rglob("*")):
        if not source.is_file() or CACHE_DIRS.intersection(source.parts):
            continue
        target = dest / render(source.relative_to(template).as_posix())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(source.read_text("utf-8")), encoding="utf-8")
        target.chmod(source.stat().st_mode & 0o777)


def index_hashes(packages_dir: Path, prefix: str = "") -> dict[str, str]:
    """The files a local index stores (those whose names start with `prefix`), by sha256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in Path(packages_dir).rglob("*")
        if p.is_file() and p.name.startswith(prefix)
    }


def init_with_remote(project: Path, remote: Path, env: dict[str, str]) -> None:
    """Commit the project on main and push it to a new bare repository as `origin`."""

    def git(cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)

    remote.mkdir(parents=True)
    git(remote, "init", "--quiet", "--bare", "-b", "main")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "Initial commit"]):
        git(project, *args)
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "--quiet", "-u", "origin", "main")
