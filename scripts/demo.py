"""The releasekit demo: a real release, end to end, without touching anything of yours.

Two local indexes stand in for TestPyPI and PyPI; a sample package lives in a git repository with
a bare `origin`. The installed `releasekit` runs as a user would type it: `release --test`, then
`release --yes --json`, which resumes: the bytes verified on the test index go live, then the push.
The demo then proves the live index holds the very bytes verified on the test index and the tag
reached the remote. All of it happens in one temporary directory with a throwaway HOME (own git
identity, .pypirc and null keyring); uploads go only to 127.0.0.1. Usage: demo.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _bootstrap
import _sandbox

if TYPE_CHECKING:
    from releasekit.testing.localindex import LocalIndex

_bootstrap.ensure_env()

NAME, VERSION = "demo-greeter", "1.4.2"


class DemoError(Exception):
    """Something in the demo went wrong; the message is one line."""


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise DemoError(f"git {args[0]} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return proc.stdout.strip()


def make_project(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """Render the sample package, commit it on main and push it to a bare `origin`."""
    project, remote = root / "work" / NAME, root / "remotes" / f"{NAME}.git"
    _sandbox.render_sample(project, NAME, VERSION)
    _sandbox.init_with_remote(project, remote, env)
    return project, remote


def releasekit(project: Path, env: dict[str, str], *args: str) -> tuple[str, float]:
    """Run the installed command as typed; stderr streams through, stdout is shown and kept."""
    print(f"\n$ releasekit {' '.join(args)}", flush=True)
    command = [str(Path(sys.executable).parent / "releasekit"), *args]
    start, out = time.monotonic(), []
    with subprocess.Popen(
        command, cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    ) as proc:
        for line in proc.stdout or ():
            print(line, end="", flush=True)
            out.append(line)
    if proc.returncode:
        raise DemoError(f"releasekit {' '.join(args)} exited with {proc.returncode}")
    return "".join(out), time.monotonic() - start


def report(summary: dict[str, Any], test: LocalIndex, live: LocalIndex, refs: str) -> None:
    """Print where the package went, then check that against both indexes and the remote."""
    name, tag, commit = summary["name"], summary["tag"], summary["commit"]
    print(f"\n== {name} {summary['version']} released (tag {tag}, commit {commit[:10]})")
    for dest in summary["destinations"]:
        state = "verified: installed and imported" if dest["verified"] else "NOT verified"
        print(f"  {dest['index']:<9} {dest['simple_url']}{name}/  ({state})")
        for filename, outcome in dest["files"].items():
            print(f"      {filename:<40} {outcome}")
    print(f"  git       {tag} pushed to origin, a bare repository")
    done = summary["complete"] and summary["pushed"] and all(d["verified"] for d in summary["destinations"])
    if not done:
        raise DemoError("the JSON summary says the release is not complete, verified and pushed")
    test_files, live_files = (
        _sandbox.index_hashes(test.packages_dir),
        _sandbox.index_hashes(live.packages_dir),
    )
    if not live_files or live_files != test_files:
        raise DemoError("the live index does not hold the same files and bytes as the test index")
    if {f["sha256"] for f in summary["files"]} != set(live_files.values()):
        raise DemoError("the indexes hold other bytes than the ones the release built")
    if not {f"{commit}\trefs/tags/{tag}^{{}}", f"{commit}\trefs/tags/{tag}"} & set(refs.splitlines()):
        raise DemoError(f"tag {tag} is not on the remote at the released commit")
    print(f"checked: the live index holds the test index's bytes ({len(live_files)} files):")
    for filename, digest in sorted(live_files.items()):
        print(f"  {filename:<40} sha256 {digest}")
    print(f"checked: git ls-remote origin has {tag} -> {commit[:10]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print it")
    keep = parser.parse_args().keep
    from releasekit.errors import ReleaseError
    from releasekit.testing.localindex import serve_local_index

    root = Path(tempfile.mkdtemp(prefix="releasekit-demo-"))
    tempfile.tempdir = str(root / "tmp")  # the indexes' htpasswd files and releasekit's scratch, too
    try:
        for sub in ("home", "tmp", "indexes"):
            (root / sub).mkdir()
        with ExitStack() as stack:
            test, live = (
                stack.enter_context(serve_local_index(root / "indexes" / role, username="demo", password=pw))
                for role, pw in (("testpypi", secrets.token_urlsafe(16)), ("pypi", secrets.token_urlsafe(16)))
            )
            env = _sandbox.sandbox_env(root / "home")
            _sandbox.write_pypirc(root / "home", test, live)
            print(f"test index (testpypi): {test.url}\nlive index (pypi):     {live.url}")
            project, remote = make_project(root, env)
            print(f"sample package: {NAME} {VERSION}, committed on main and pushed to a bare origin")
            _, tested = releasekit(project, env, "release", "--test")
            out, released = releasekit(project, env, "release", "--yes", "--json")
            report(json.loads(out), test, live, git(root, env, "ls-remote", str(remote)))
        print(f"\ntimings: {'releasekit release --test':<47}{tested:6.1f}s")
        print(f"         {'releasekit release --yes --json':<47}{released:6.1f}s")
        print("demo passed: tested, published, verified and pushed")
    except (DemoError, ReleaseError, OSError, ValueError, KeyError) as exc:
        sys.exit(f"demo failed: {exc}")
    finally:
        if keep:
            print(f"kept the demo directory: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
