"""A throwaway HOME for the demo and the benchmark: none of the user's settings are read or written.

Its own git identity and config, a .pypirc naming the two local indexes, no TWINE_* or extra-index
variables, a null keyring, and loopback kept off any proxy. The user's uv, pip and releasekit
caches are kept: they only ever serve build requirements (verification bypasses them for the
package under test).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from releasekit.localindex import LocalIndex

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


def write_pypirc(home: Path, test: LocalIndex, live: LocalIndex) -> None:
    """A .pypirc naming both local indexes as testpypi and pypi, mode 0600 from the start."""
    text = "[distutils]\nindex-servers =\n    testpypi\n    pypi\n"
    for label, index in (("testpypi", test), ("pypi", live)):
        text += f"\n[{label}]\nrepository = {index.url}\nusername = {index.username}\n"
        text += f"password = {index.password}\n"
    (home / ".pypirc").touch(mode=0o600)
    (home / ".pypirc").write_text(text, encoding="utf-8")


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
