"""releasekit's own distribution: it builds without a warning and ships every template.

`scaffold` reads its templates from the installed package, so a template the wheel leaves out
breaks `releasekit scaffold` only after a release; and a build that warns teaches people to
ignore the warnings that matter. Built exactly as a user would, `python -m build` (sdist, then
the wheel from the sdist), from a copy of the checkout so the work tree gets no build droppings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checkout_copy(dest: Path) -> Path:
    """The files git would commit now (tracked and new, not ignored), as a fresh source tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.mark.slow
def test_own_sdist_and_wheel_build_without_warnings_and_ship_every_template(tmp_path: Path) -> None:
    source = _checkout_copy(tmp_path / "releasekit")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else distutils warns that it cannot byte-compile
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Package would be ignored" not in output
    assert [line for line in output.splitlines() if "warning" in line.lower()] == []

    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file())
    assert len(templates) >= 15  # licenses, the package files, .gitignore and the workflow among them
    assert "templates/package/.github/workflows/release.yml.j2" in templates
    assert "templates/package/.gitignore.j2" in templates

    (wheel,) = (tmp_path / "dist").glob("releasekit-*.whl")
    with zipfile.ZipFile(wheel) as zipped:
        shipped = sorted(n.removeprefix("releasekit/") for n in zipped.namelist() if "/templates/" in n)
    assert shipped == templates

    (sdist,) = (tmp_path / "dist").glob("releasekit-*.tar.gz")
    with tarfile.open(sdist) as tarred:
        in_sdist = sorted(m.name.split("/", 1)[1] for m in tarred.getmembers() if m.isfile())
    assert [n for n in in_sdist if n.startswith("templates/")] == templates
