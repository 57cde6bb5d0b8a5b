"""Cached build environments: made once, reused, replaced when requirements change or age."""

from __future__ import annotations

import os
import time

from releasekit.dists import environments


def test_environments_are_reused_keyed_by_requirements_and_renewed_when_stale(tmp_path, monkeypatch):
    monkeypatch.setenv("RELEASEKIT_CACHE_DIR", str(tmp_path / "cache"))
    first = environments.env_for({"setuptools>=77"})
    assert os.path.exists(first.python_executable)
    ready = first.path / "releasekit-ready.json"
    made = ready.stat().st_mtime

    again = environments.env_for({"setuptools>=77"})
    assert again.path == first.path and ready.stat().st_mtime == made  # reused, not remade

    other = environments.env_for({"setuptools>=77", "wheel"})
    assert other.path != first.path  # other requirements, other environment

    old = time.time() - environments.MAX_AGE - 60
    os.utime(ready, (old, old))
    renewed = environments.env_for({"setuptools>=77"})
    assert renewed.path == first.path and ready.stat().st_mtime > old  # stale: made anew
    leftovers = [p.name for p in (tmp_path / "cache" / "build-envs").iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no half-made environments left behind
