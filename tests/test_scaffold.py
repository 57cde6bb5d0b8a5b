"""`releasekit scaffold`: a new package that builds, tests and releases with no edits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import Result, run_cli, run_installed
from tests.support.indexes import IndexPair, write_pypirc
from tests.support.leaks import assert_no_secret

BIN = Path(sys.executable).parent


def _scaffold(where: Path, capsys, *args: str):
    where.mkdir(parents=True, exist_ok=True)
    return run_cli(where, capsys, "scaffold", *args)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_scaffold_then_release_round_trip(tmp_path, capsys, index_pair: IndexPair, isolated_env):
    name = f"rk-scaffold-{os.urandom(3).hex()}"
    created = _scaffold(
        tmp_path / "src-dir", capsys, name, "--description", "A package made by the tests.",
        "--author", "Ada Lovelace", "--email", "ada@example.org", "--license", "Apache-2.0",
        "--url", "https://github.com/ada/" + name, "--keywords", "demo,tests",
    )  # fmt: skip
    assert created.code == 0, created.err
    package = tmp_path / "src-dir" / name
    import_name = name.replace("-", "_")
    expected = {
        "pyproject.toml", "setup.cfg", "LICENSE.txt", "README.md", "CHANGELOG.md", ".gitignore", "tasks.py",
        f"src/{import_name}/__init__.py", f"tests/test_{import_name}.py", ".github/workflows/release.yml",
    }  # fmt: skip
    files = {
        p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert files == expected
    assert _git(package, "status", "--porcelain") == ""
    assert _git(package, "log", "--format=%s") == f"Create {name} 0.1.0 with releasekit scaffold"
    assert "Apache License" in (package / "LICENSE.txt").read_text()
    assert "Ada Lovelace" in (package / "LICENSE.txt").read_text()
    pyproject = (package / "pyproject.toml").read_text()
    assert 'license = "Apache-2.0"' in pyproject and 'license-files = ["LICENSE.txt"]' in pyproject
    assert f'Download = "https://github.com/ada/{name}/archive/refs/tags/v0.1.0.tar.gz"' in pyproject
    gitignore = (package / ".gitignore").read_text().split()
    assert {"dist/", ".env", ".pypirc"} <= set(gitignore)
    assert "## [Unreleased]" in (package / "CHANGELOG.md").read_text()

    # Its own tests pass as generated.
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package, capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": "src"}, timeout=120,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr

    # Give it a remote, then release it exactly as a user would, with invoke and its tasks.py.
    remote = tmp_path / "remote.git"
    _git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(remote))
    _git(package, "remote", "add", "origin", str(remote))
    _git(package, "push", "--quiet", "-u", "origin", "main")
    write_pypirc(isolated_env, index_pair)
    secrets = (index_pair.test.index.password, index_pair.live.index.password)
    test_run = run_installed(package, "invoke", "release", "--test")
    assert test_run.returncode == 0, test_run.stderr
    assert "✓ check" in test_run.stderr and "✓ verify-test" in test_run.stderr  # twine check --strict passed
    assert f"first release of {name} on testpypi" in test_run.stderr
    live_run = run_installed(package, "invoke", "release", "--bump", "patch", "--yes", "--json")
    assert live_run.returncode == 0, live_run.stderr
    assert '"complete": true' in live_run.stdout and '"version": "0.1.0"' in live_run.stdout
    assert "refs/tags/v0.1.0" in _git(package, "ls-remote", "--tags", "origin")
    assert_no_secret(test_run.stdout + test_run.stderr + live_run.stdout + live_run.stderr, *secrets)

    # The first release took the changelog's Unreleased notes; the next live one needs notes of its own.
    changelog = (package / "CHANGELOG.md").read_text()
    assert "## [Unreleased]\n\n## [0.1.0] - " in changelog and f"- The first version of {name}." in changelog
    empty = run_installed(package, "invoke", "release", "--bump", "minor", "--yes")
    assert empty.returncode == 1 and "has no notes for 0.2.0" in empty.stderr
    (package / "CHANGELOG.md").write_text(
        changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n- Faster.\n", 1)
    )
    _git(package, "commit", "-qam", "Note a change")
    # The next release bumps every place the version lives, download link included.
    bumped = run_installed(package, "invoke", "release", "--bump", "minor", "--yes")
    assert bumped.returncode == 0, bumped.stderr
    assert "archive/refs/tags/v0.2.0.tar.gz" in (package / "pyproject.toml").read_text()
    assert '__version__ = "0.2.0"' in (package / "src" / import_name / "__init__.py").read_text()


@pytest.mark.parametrize("flags", [[], ["--binary"]], ids=["build", "binary"])
def test_generated_workflow_passes_actionlint_and_zizmor(tmp_path, capsys, flags):
    assert (
        _scaffold(tmp_path, capsys, "wf-pkg", "--author", "A", "--email", "a@example.org", *flags).code == 0
    )
    workflow = tmp_path / "wf-pkg" / ".github" / "workflows" / "release.yml"
    for tool in ("actionlint", "zizmor"):
        assert (BIN / tool).exists(), f"{tool} is missing: install the test extras (pip install -e '.[test]')"
    lint = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(workflow)], capture_output=True, text=True
    )
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr
    audit = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-config", "--no-progress", "--color=never", str(workflow)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr
    text = workflow.read_text()
    assert text.count("id-token: write") == 1
    assert ("pypa/cibuildwheel@" in text) is bool(flags)
    assert "run: releasekit release --dist dist/ --yes" in text


def test_the_workflow_runs_the_releasekit_that_wrote_it(tmp_path, capsys):
    from releasekit import __version__

    assert _scaffold(tmp_path, capsys, "pin-pkg", "--author", "A", "--no-git").code == 0
    text = (tmp_path / "pin-pkg" / ".github" / "workflows" / "release.yml").read_text()
    assert f'python -m pip install "releasekit=={__version__}"' in text


@pytest.mark.parametrize("flags", [[], ["--binary"]], ids=["build", "binary"])
def test_the_readme_says_once_how_to_register_the_trusted_publisher(tmp_path, capsys, flags):
    url = "https://github.com/ada/tp-pkg"
    assert _scaffold(tmp_path, capsys, "tp-pkg", "--author", "A", "--no-git", "--url", url, *flags).code == 0
    readme = (tmp_path / "tp-pkg" / "README.md").read_text()

    assert readme.count("https://test.pypi.org/manage/account/publishing/") == 1
    assert readme.count("https://pypi.org/manage/account/publishing/") == 1
    for line in ("- project name: `tp-pkg`", "- repository: `ada/tp-pkg`", "- workflow file: `release.yml`",
                 "- environment: `pypi`"):  # fmt: skip
        assert readme.count(line) == 1, line
    assert ("cibuildwheel" in readme) is bool(flags)
    assert "{{" not in readme and "{%" not in readme


def test_the_readme_without_a_github_url_names_the_repository_generically(tmp_path, capsys):
    assert _scaffold(tmp_path, capsys, "nourl-pkg", "--author", "A", "--no-git").code == 0
    readme = (tmp_path / "nourl-pkg" / "README.md").read_text()

    assert "- repository: this project's GitHub owner and repository" in readme


BAD_NAMES = {
    "": "is empty",
    "-pkg": "starts with '-'",
    "my pkg": "contains a path separator or space",
    "a/b": "contains a path separator or space",
    "..": "contains a path separator or space",
    "naïve": "is not ASCII",
    "pkg-": "is not a valid project name (PEP 508)",
    "pkg!": "is not a valid project name (PEP 508)",
    "json": "shadowing the standard library module",
    "Asyncio": "shadowing the standard library module",
    "1pkg": "which Python cannot import",
    "class": "which Python cannot import",
}


@pytest.mark.parametrize("name", list(BAD_NAMES))
def test_bad_names_are_refused_and_leave_nothing(name, tmp_path, capsys):
    where = tmp_path / "here"
    result = _scaffold(where, capsys, f"--name={name}", "--author", "A", "--email", "a@example.org")
    assert result.code == 1
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: ") and BAD_NAMES[name] in last, result.err
    assert "Traceback" not in result.err
    assert list(where.iterdir()) == []


def test_unknown_license_is_refused_with_the_list(tmp_path, capsys):
    result = _scaffold(tmp_path, capsys, "lic-pkg", "--author", "A", "--license", "WTFPL")
    assert result.code == 1
    assert "unknown license 'WTFPL'" in result.err
    assert "MIT" in result.err and "GPL-3.0-or-later" in result.err and "MPL-2.0" in result.err
    assert not (tmp_path / "lic-pkg").exists()


@pytest.mark.parametrize(
    "license_id", ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "MPL-2.0", "GPL-3.0-or-later"]
)
def test_every_license_builds_into_the_package(license_id, tmp_path, capsys):
    result = _scaffold(
        tmp_path, capsys, "lic-pkg", "--author", "Grace Hopper", "--license", license_id, "--no-git"
    )
    assert result.code == 0, result.err
    text = (tmp_path / "lic-pkg" / "LICENSE.txt").read_text()
    assert len(text) > 700 and "{{" not in text
    assert f'license = "{license_id}"' in (tmp_path / "lic-pkg" / "pyproject.toml").read_text()
    if license_id in ("MIT", "BSD-3-Clause", "ISC"):
        assert "Grace Hopper" in text


def test_non_empty_destination_needs_force_and_keeps_user_files(tmp_path, capsys):
    dest = tmp_path / "existing"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    (dest / "README.md").write_text("my own readme\n")
    refused = _scaffold(tmp_path, capsys, "keep-pkg", "--dest", str(dest), "--author", "A")
    assert refused.code == 1 and "exists and is not empty" in refused.err and "--force" in refused.err
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "notes.txt"]
    assert (dest / "README.md").read_text() == "my own readme\n"

    forced = _scaffold(tmp_path, capsys, "keep-pkg", "--dest", str(dest), "--author", "A", "--force")
    assert forced.code == 0, forced.err
    assert (dest / "notes.txt").read_text() == "mine\n"
    assert "kept your file notes.txt" in forced.err
    assert "overwrote README.md" in forced.err
    assert (dest / "pyproject.toml").exists()


def test_dry_run_and_no_git(tmp_path, capsys):
    dry = _scaffold(tmp_path, capsys, "dry-pkg", "--author", "A", "--dry-run")
    assert dry.code == 0 and "would" in dry.err and "dry-pkg/pyproject.toml" in dry.err
    assert not (tmp_path / "dry-pkg").exists()
    plain = _scaffold(tmp_path, capsys, "plain-pkg", "--author", "A", "--no-git")
    assert plain.code == 0
    assert (tmp_path / "plain-pkg" / "pyproject.toml").exists()
    assert not (tmp_path / "plain-pkg" / ".git").exists()


def test_defaults_from_git_config_and_missing_author_without_terminal(tmp_path, capsys, monkeypatch):
    defaulted = _scaffold(tmp_path, capsys, "dflt-pkg", "--no-git")
    assert defaulted.code == 0, defaulted.err
    assert (
        'authors = [{ name = "Release Tester", email = "tester@example.invalid" }]'
        in (tmp_path / "dflt-pkg" / "pyproject.toml").read_text()
    )
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    missing = _scaffold(tmp_path, capsys, "anon-pkg", "--no-git")
    assert missing.code == 1
    assert "no author given and no terminal to ask on; pass --author" in missing.err
    assert not (tmp_path / "anon-pkg").exists()


def test_a_failing_first_commit_leaves_nothing(tmp_path, capsys, monkeypatch):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'commits are blocked' >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))
    where = tmp_path / "here"
    result = _scaffold(where, capsys, "hooked-pkg", "--author", "A")
    assert result.code == 1 and "git commit failed" in result.err and "commits are blocked" in result.err
    assert list(where.iterdir()) == []


def test_templates_ship_inside_the_wheel(tmp_path):
    """Every file under templates/ is in releasekit's own wheel, where scaffold finds it installed."""
    import zipfile

    from releasekit.dists.builder import build_dists

    root = Path(__file__).resolve().parent.parent
    artifacts = build_dists(root, tmp_path / "dist")
    wheel = next(a for a in artifacts if a.kind == "wheel")
    shipped = {
        n.removeprefix("releasekit/") for n in zipfile.ZipFile(wheel.path).namelist() if "/templates/" in n
    }
    in_repo = {p.relative_to(root).as_posix() for p in (root / "templates").rglob("*") if p.is_file()}
    assert shipped == in_repo


def test_missing_fields_are_asked_on_a_terminal(tmp_path):
    """On a real (pseudo-)terminal: asked with git config defaults; Enter takes the default."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: releasekit on a terminal, in tmp_path
        os.chdir(tmp_path)
        os.execv(str(BIN / "releasekit"), [str(BIN / "releasekit"), "scaffold", "tty-pkg", "--no-git"])  # noqa: S606
    answers = {
        b"Description [The tty-pkg package.]: ": b"Typed on a terminal.\n",
        b"Author [Release Tester]: ": b"\n",
    }
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        for prompt, answer in list(answers.items()):
            if seen.endswith(prompt):
                os.write(fd, answer)
                del answers[prompt]
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert not answers, f"never asked: {list(answers)}"
    pyproject = (tmp_path / "tty-pkg" / "pyproject.toml").read_text()
    assert 'description = "Typed on a terminal."' in pyproject
    assert 'authors = [{ name = "Release Tester", email = "tester@example.invalid" }]' in pyproject


# Issue 11, case 8: hostile inputs never write an unparsable pyproject.toml, and never a traceback.


def _one_error_line(result: Result) -> str:
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and result.err.strip().splitlines()[-1] == errors[0], result.err
    return errors[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ('https://example.org/a"b', "contains '\"'"),
        ("https://example.org/a\nb", "contains '\\n'"),
        ("https://example.org/a b", "contains ' '"),
        ("https://example.org/<x>", "contains '<', '>'"),
        ("ftp://example.org/pkg", "not an http(s) URL"),
        ("https:///no-host", "not an http(s) URL with a host"),
        ("http://[::1/x", "is not a valid URL"),
        ("https://example.org:port/", "is not a valid URL"),
    ],
)
def test_hostile_urls_are_refused_in_one_line_and_leave_nothing(url, says, tmp_path, capsys):
    where = tmp_path / "here"
    result = _scaffold(where, capsys, "url-pkg", "--author", "A", "--url", url)
    line = _one_error_line(result)
    assert line.startswith("error: --url ") and says in line
    assert list(where.iterdir()) == []


NASTY = [
    'He said "hi"',
    "back\\slash \\n not a newline \\u0041",
    "a\ttab",
    "a carriage\rreturn",
    "an escape \x1b[31m and a DEL \x7f",
    "'''\"\"\" both quotes",
    "unicode: naïve Ωμέγα 日本語 😀 \u2028",
    "# not a comment ] [ } {",
    "trailing backslash \\",
]


@pytest.mark.parametrize("text", NASTY)
def test_every_scaffolded_pyproject_parses_whatever_the_inputs(text, tmp_path, capsys):
    import tomllib

    one_line = not any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in text)
    result = _scaffold(
        tmp_path, capsys, "nasty-pkg", "--no-git", "--description", text, "--author", text,
        "--email", f"{text}@example.org", "--keywords", f"{text},plain", "--url", "https://example.org/x%22y",
    )  # fmt: skip
    if not one_line:
        assert "one line" in _one_error_line(result)
        assert not (tmp_path / "nasty-pkg").exists()
        return
    assert result.code == 0, result.err
    project = tomllib.loads((tmp_path / "nasty-pkg" / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["description"] == text
    assert project["authors"] == [{"name": text, "email": f"{text}@example.org"}]
    assert project["keywords"] == [k.strip() for k in f"{text},plain".split(",") if k.strip()]
    assert project["urls"]["Source"] == "https://example.org/x%22y"


def test_the_toml_encoder_round_trips_every_character():
    import tomllib

    from releasekit.scaffold import toml_value

    text = "".join(chr(c) for c in range(0x250)) + "\u2028\ufeff\U0001f600\U0010ffff"
    assert tomllib.loads(f"v = {toml_value(text)}\nw = {toml_value([text, ''])}")["w"] == [text, ""]
    assert tomllib.loads(f"v = {toml_value(text)}")["v"] == text


@pytest.mark.parametrize("flag", ["--author", "--email", "--keywords"])
def test_line_breaks_in_one_line_fields_are_refused(flag, tmp_path, capsys):
    value = "a\nb@example.org" if flag == "--email" else "a\nb"
    args = {"--author": "A", "--email": "a@example.org", flag: value}
    result = _scaffold(tmp_path, capsys, "nl-pkg", "--no-git", *[x for kv in args.items() for x in kv])
    assert f"error: {flag} " in _one_error_line(result)


def test_a_300_character_name_is_a_one_line_error(tmp_path, capsys):
    where = tmp_path / "here"
    line = _one_error_line(_scaffold(where, capsys, "a" * 300, "--author", "A", "--email", "a@example.org"))
    assert "300 characters" in line and "shorter name" in line
    assert list(where.iterdir()) == []


def test_a_dest_below_a_regular_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a directory\n")
    result = _scaffold(
        tmp_path, capsys, "below-pkg", "--dest", str(tmp_path / "a-file" / "pkg"), "--author", "A"
    )
    line = _one_error_line(result)
    assert "which is a file" in line and "--dest" in line
    assert (tmp_path / "a-file").read_text() == "not a directory\n"


def test_a_dest_name_the_file_system_refuses_is_a_one_line_error(tmp_path, capsys):
    result = _scaffold(tmp_path, capsys, "long-pkg", "--dest", str(tmp_path / ("d" * 300)), "--author", "A")
    assert "cannot create the package" in _one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
