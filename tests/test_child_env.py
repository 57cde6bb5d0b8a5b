"""Children never inherit a credential: the build backend, uv and the verifying import.

The backend and the installed package are real code run by real tools; each one writes the
environment it was given to a file, which is then read back here.
"""

from __future__ import annotations

import json
import secrets
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from releasekit import redact
from releasekit.dists.builder import build_dists
from releasekit.dists.verify import verify_install
from tests.support.dists import make_wheel
from tests.support.indexes import IndexPair, twine_upload
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project, use_build_backend

# Credentials as CI systems and upload tools set them; none may reach a child.
CREDENTIALS = {
    "TWINE_PASSWORD": "pypi-" + "A" * 60,
    "TWINE_USERNAME": "__token__",
    "UV_PUBLISH_TOKEN": "uv-publish-credential-1",
    "GITHUB_TOKEN": "ghs_github-credential-123",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-credential",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc.invalid/?token=request-credential",
    "PYPI_API_TOKEN": "pypi-api-credential-xyz",
    "MY_DEPLOY_PASSWORD": "deploy-credential-456",
    "AWS_SECRET_ACCESS_KEY": "aws-credential-789",
}
HARMLESS = {"UV_INDEX_URL": "https://mirror.invalid/simple/", "TOKENIZERS_PARALLELISM": "false"}


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_credential_variables_are_recognised_by_name(name: str) -> None:
    assert redact.is_credential_variable(name)
    assert redact.is_credential_variable(name.lower())


@pytest.mark.parametrize("name", ["PATH", "HOME", "UV_INDEX_URL", "UV_INDEX_MIRROR_PASSWORD", "TOKENIZERS_X"])
def test_other_variables_are_kept(name: str) -> None:
    assert not redact.is_credential_variable(name)


def test_child_environ_drops_credentials_by_name_and_by_value() -> None:
    secret = "a-registered-password-" + secrets.token_hex(4)
    redact.register(secret)
    try:
        base = {
            **CREDENTIALS,
            **HARMLESS,
            "PATH": "/usr/bin",
            "CI_COPY": f"https://user:{secret}@upload.invalid/",
        }
        env = redact.child_environ(base)
    finally:
        redact.forget_all()

    assert env == {**HARMLESS, "PATH": "/usr/bin"}
    assert "TWINE_PASSWORD" not in redact.child_environ({"TWINE_PASSWORD": "x"})


def _set_credentials(monkeypatch: pytest.MonkeyPatch, dump: Path) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RK_ENV_DUMP", str(dump))


def _seen(dump: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in dump.read_text("utf-8").splitlines()]


def test_the_build_backend_sees_no_credential(
    make_project: Callable[..., Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    use_build_backend(project.path, "dumping_backend")
    dump = tmp_path / "backend-env.jsonl"
    _set_credentials(monkeypatch, dump)

    build_dists(project.path, tmp_path / "dist")

    seen = _seen(dump)
    assert [entry["hook"] for entry in seen] == ["build_sdist", "build_wheel"]
    for entry in seen:
        env = entry["env"]
        assert isinstance(env, dict)
        assert not set(CREDENTIALS) & set(env)
        assert env["RK_ENV_DUMP"] == str(dump)  # the rest of the environment is there
    assert_no_secret(dump.read_text("utf-8"), *CREDENTIALS.values())


def test_the_verifying_install_and_import_see_no_credential(
    index_pair: IndexPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_pair.test.index
    name = f"rk-env-{secrets.token_hex(4)}"
    module = name.replace("-", "_")
    # The package writes the environment it is imported in, as any import-time code could.
    init = textwrap.dedent("""\
        import json, os
        with open(os.environ["RK_ENV_DUMP"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"hook": "import", "env": dict(os.environ)}) + "\\n")
        __version__ = "0.1.0"
    """)
    wheel = make_wheel(tmp_path, name, init=init)
    uploaded = twine_upload(index, wheel, password=index.password)
    assert uploaded.returncode == 0, uploaded.stderr
    dump = tmp_path / "import-env.jsonl"
    _set_credentials(monkeypatch, dump)

    verify_install(
        name=name, version="0.1.0", index_url=index.simple_url, dependencies=[],
        dependency_index_url=index.simple_url, modules=[module], timeout=120,
    )  # fmt: skip

    (entry,) = _seen(dump)
    env = entry["env"]
    assert isinstance(env, dict)
    assert not set(CREDENTIALS) & set(env)
    assert_no_secret(dump.read_text("utf-8"), *CREDENTIALS.values())


def test_git_and_its_hooks_get_no_credential(make_project: Callable[..., Project], monkeypatch, tmp_path):
    from releasekit import vcs

    project = make_project()
    dump = tmp_path / "hook-env.txt"
    hook = project.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nenv > {dump}\n")
    hook.chmod(0o755)
    _set_credentials(monkeypatch, tmp_path / "unused")
    repo = vcs.open_repo(project.path)
    (project.path / "NOTES.md").write_text("notes\n")
    vcs.commit_files(repo, [project.path / "NOTES.md"], "a commit whose hook records its environment")
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert all(not seen.get(name) for name in CREDENTIALS), "a credential reached git's hook"
