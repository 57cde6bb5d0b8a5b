"""Issue 11, case 7: bad input is one `error:` line and exit code 1, never a traceback.

Each test drives the `releasekit` command as a user would and checks that nothing changed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Result, run_cli, run_installed
from tests.support.indexes import write_pypirc
from tests.support.projects import Project


def one_error_line(result: Result) -> str:
    """The run failed with exit 1 and exactly one `error:` line, the last thing on stderr."""
    assert result.code == 1, result.text
    assert "Traceback" not in result.text, result.text
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.err
    assert result.err.strip().splitlines()[-1] == errors[0], result.err
    return errors[0]


def unchanged(project: Project, head: str) -> None:
    assert project.git("rev-parse", "HEAD") == head
    assert project.git("tag", "--list") == ""
    assert project.git("status", "--porcelain") == ""


# bad UTF-8


def test_bad_utf8_in_pyproject_is_one_line(make_project, capsys) -> None:
    project = make_project()
    pyproject = project.path / "pyproject.toml"
    pyproject.write_bytes(pyproject.read_bytes().replace(b"A tiny sample", b"A tiny \xff sample"))
    for args in (("release", "--dry-run"), ("status", "--offline")):
        line = one_error_line(run_cli(project.path, capsys, *args))
        assert "pyproject.toml is not UTF-8" in line and "save it as UTF-8" in line


def test_bad_utf8_in_setup_cfg_is_one_line(make_project, capsys) -> None:
    project = make_project()
    setup_cfg = project.path / "setup.cfg"
    setup_cfg.write_bytes(setup_cfg.read_bytes() + b"# caf\xe9 in latin-1\n")
    line = one_error_line(run_cli(project.path, capsys, "status", "--offline"))
    assert "setup.cfg" in line


def test_bad_utf8_in_pypirc_is_one_line_that_hides_the_file(make_project, isolated_env, capsys) -> None:
    project = make_project()
    (isolated_env / ".pypirc").write_bytes(b"[pypi]\nusername = __token__\npassword = s3cr\xffet\n")
    result = run_cli(project.path, capsys, "release", "--dry-run")
    line = one_error_line(result)
    assert ".pypirc cannot be parsed" in line and "s3cr" not in result.text


# [tool.releasekit] values


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_timeout_that_is_not_a_finite_number_is_one_line(value, make_project, capsys) -> None:
    project = make_project()
    with (project.path / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[tool.releasekit]\ntimeout = {value}\n")
    line = one_error_line(run_cli(project.path, capsys, "release", "--dry-run"))
    assert "'timeout'" in line and "positive number of seconds" in line


@pytest.mark.parametrize(
    ("key", "value"),
    [("commit-message", "Release {ver}"), ("tag-message", "Release {0}"), ("commit-message", "{")],
)
def test_a_message_format_that_would_fail_at_release_time_fails_at_once(
    key, value, make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    write_pypirc(isolated_env, index_pair)  # were it to get that far: only the local indexes
    with (project.path / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[tool.releasekit]\n{key} = "{value}"\n')
    project.git("commit", "-qam", "configure")
    head = project.git("rev-parse", "HEAD")
    line = one_error_line(run_cli(project.path, capsys, "release", "--bump", "patch", "--test"))
    assert f"'{key}'" in line and "only {version} is known" in line
    unchanged(project, head)


# invoke config files


def test_a_malformed_releasekit_yaml_is_one_line(make_project, capsys) -> None:
    project = make_project()
    (project.path / "releasekit.yaml").write_text("releasekit:\n  timeout: [30\n", encoding="utf-8")
    line = one_error_line(run_cli(project.path, capsys, "status", "--offline"))
    assert "releasekit.yaml is not valid YAML" in line and "fix it or remove it" in line


def test_a_malformed_user_config_is_one_line(make_project, isolated_env, capsys) -> None:
    project = make_project()
    (isolated_env / ".releasekit.yaml").write_text("releasekit: {timeout: 5\n", encoding="utf-8")
    line = one_error_line(run_cli(project.path, capsys, "status", "--offline"))
    assert ".releasekit.yaml is not valid YAML (line 2)" in line
    (isolated_env / ".releasekit.yaml").unlink()
    (isolated_env / ".releasekit.json").write_text('{"releasekit": ', encoding="utf-8")
    line = one_error_line(run_cli(project.path, capsys, "status", "--offline"))
    assert ".releasekit.json is not valid JSON (line 1)" in line


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b"releasekit: 5\n", "'releasekit' in the invoke config is not a mapping"),
        (b"- a list\n", "must hold a mapping"),
        (b"releasekit:\n  timeout: caf\xe9\n", "releasekit.yaml is not UTF-8"),
    ],
)
def test_a_releasekit_yaml_of_the_wrong_shape_is_one_line(text, says, make_project, capsys) -> None:
    project = make_project()
    (project.path / "releasekit.yaml").write_bytes(text)
    assert says in one_error_line(run_cli(project.path, capsys, "status", "--offline"))


def test_the_project_releasekit_yaml_is_read(make_project, index_pair, isolated_env, capsys) -> None:
    """The README promises it; invoke only reads project config next to a tasks.py it found."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "releasekit.yaml").write_text("releasekit:\n  tag-format: release-{version}\n", "utf-8")
    project.git("add", "releasekit.yaml")
    project.git("commit", "-qm", "configure")
    result = run_cli(project.path, capsys, "release", "--dry-run")
    assert "release-1.4.2" in result.text, result.text


def test_a_malformed_invoke_yaml_under_invoke_is_left_to_invoke(make_project) -> None:
    """Documents the limit: `invoke` loads invoke.yaml itself, before any releasekit code runs."""
    project = make_project()
    (project.path / "tasks.py").write_text("from releasekit.tasks import ns\n", encoding="utf-8")
    (project.path / "invoke.yaml").write_text("releasekit: [\n", encoding="utf-8")
    ran = run_installed(project.path, "invoke", "status", "--offline", timeout=120)
    assert ran.returncode != 0 and "invoke.yaml" in ran.stderr


# empty and multi-line versions


@pytest.mark.parametrize(
    "args", [("--new-version", ""), ("--bump", ""), ("--bump", " "), ("--bump", "minor", "--pre", "")]
)
def test_empty_bump_or_version_flags_are_refused(
    args, make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    write_pypirc(isolated_env, index_pair)  # were it to get that far: only the local indexes
    head = project.git("rev-parse", "HEAD")
    for mode in ("--dry-run", "--test"):
        line = one_error_line(run_cli(project.path, capsys, "release", mode, *args))
        assert "was given an empty value" in line and args[-2] in line
    unchanged(project, head)


@pytest.mark.parametrize("version", ["1.4.3\n", "1.4.3\nRelease 9.9.9", " 1.4.3", "1.4.3\t"])
def test_a_version_with_a_line_break_or_blank_is_refused(
    version, make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    write_pypirc(isolated_env, index_pair)  # were it to get that far: only the local indexes
    head = project.git("rev-parse", "HEAD")
    line = one_error_line(run_cli(project.path, capsys, "release", "--new-version", version, "--test"))
    assert "contains whitespace or a line break" in line and "\n" not in line
    unchanged(project, head)


# git


def test_status_in_a_repository_without_a_commit(tmp_path, capsys) -> None:
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "fresh"\nversion = "0.1.0"\n', "utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
    for args in (("status",), ("status", "--offline", "--json")):
        line = one_error_line(run_cli(project, capsys, *args))
        assert "no commit yet" in line


def test_a_keyring_backend_that_cannot_be_imported(tmp_path: Path, monkeypatch) -> None:
    """`pypirc --keyring` with a backend that does not exist: as a user would run it, in a subprocess."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_such_module.Keyring")
    monkeypatch.setenv("TWINE_PASSWORD", "pypi-" + "A" * 60)
    target = tmp_path / "elsewhere" / ".pypirc"
    target.parent.mkdir()
    ran = run_installed(target.parent, "releasekit", "pypirc", "--keyring", "--config-file", str(target))
    assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.strip().splitlines()[-1].startswith("error: the keyring backend cannot be loaded")
    assert "PYTHON_KEYRING_BACKEND" in ran.stderr and "A" * 60 not in ran.stderr
    assert not target.exists()
