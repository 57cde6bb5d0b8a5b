"""The fixture projects under tests/projects/ and the handle a test gets on a rendered one."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECTS = Path(__file__).resolve().parent.parent / "projects"
BACKENDS = PROJECTS / "backends"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stripped stdout (fails the test on error)."""
    result = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


@dataclass(frozen=True)
class Project:
    """A rendered sample project: a git work tree on main, pushed to a bare ``origin``."""

    path: Path
    name: str
    import_name: str
    remote: Path

    def git(self, *args: str) -> str:
        """Run git in the project and return its stripped stdout (fails the test on error)."""
        return git(self.path, *args)


def use_build_backend(project_path: Path, module: str) -> None:
    """Make the project build with one of tests/projects/backends/ in-tree (`_backend/`), committed.

    A MANIFEST.in keeps `_backend/` in the sdist, so the wheel (built from it) finds it too.
    """
    (project_path / "_backend").mkdir()
    (project_path / "_backend" / f"{module}.py").write_text((BACKENDS / f"{module}.py").read_text())
    (project_path / "MANIFEST.in").write_text("graft _backend\n")
    pyproject = project_path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'build-backend = "setuptools.build_meta"',
            f'build-backend = "{module}"\nbackend-path = ["_backend"]',
        )
    )
    for args in (["add", "-A"], ["commit", "-qm", f"build with {module}"]):
        subprocess.run(["git", *args], cwd=project_path, check=True, capture_output=True)
