"""Version sources: every fixture layout under tests/projects is detected, read and written.

The fixtures are real project layouts (each names the repository it is modelled on); the tests
need neither git nor a network, except the one marked `slow` that builds every fixture.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import _sandbox
import pytest

from releasekit.dists.builder import build_dists
from releasekit.errors import VersionError
from releasekit.versioning import detect
from releasekit.versioning.detect import read_version, write_version
from tests.support.projects import PROJECTS

NAME, IMPORT = "rk-fixture", "rk_fixture"
OLD, NEW, PRE = "1.4.2", "1.5.0", "2.0.0rc1"

# layout -> (the member folder, describe(), the files a bump rewrites)
WRITING = {
    "setuptools_setup_py": (
        ".",
        f"setup.py reads src/{IMPORT}/__version__.py",
        [f"src/{IMPORT}/__version__.py"],
    ),
    "setup_cfg": (
        ".",
        f"setup.cfg [metadata] version = attr: {IMPORT}.__version__ (src/{IMPORT}/__init__.py)",
        [f"src/{IMPORT}/__init__.py"],
    ),
    "setuptools_attr": (
        ".",
        f"setuptools attr: {IMPORT}.__version__ (src/{IMPORT}/__init__.py)",
        [f"src/{IMPORT}/__init__.py"],
    ),
    "hatch_path": (".", f"hatch version path ({IMPORT}/__version__.py)", [f"{IMPORT}/__version__.py"]),
    "flit_core": (".", f"flit __version__ (src/{IMPORT}/__init__.py)", [f"src/{IMPORT}/__init__.py"]),
    "pdm_file": (".", f"pdm-backend file (src/{IMPORT}/__init__.py)", [f"src/{IMPORT}/__init__.py"]),
    "poetry_core": (".", "[tool.poetry] version", ["pyproject.toml"]),
    "bump2version": (
        ".",
        "bump2version (.bumpversion.cfg)",
        [".bumpversion.cfg", "setup.py", "README.rst", f"src/{IMPORT}/__init__.py", f"src/{IMPORT}/about.py"],
    ),
    "bump_my_version": (
        ".",
        "bump-my-version ([tool.bumpversion])",
        ["pyproject.toml", f"src/{IMPORT}/__init__.py"],
    ),
    "uv_build": (".", "static [project] version in pyproject.toml", ["pyproject.toml"]),
    # A static version beside the package's own copy (openai/openai-python's habit): both move.
    "monorepo": (
        f"packages/{NAME}",
        "static [project] version in pyproject.toml, and the copy in __init__.py",
        ["pyproject.toml", f"src/{IMPORT}/__init__.py"],
    ),
}
# layout -> (describe(), the generated version files)
FROM_GIT = {
    "setuptools_scm": ("setuptools-scm (git tags)", [f"src/{IMPORT}/_version.py"]),
    "hatch_vcs": ("hatch-vcs (git tags)", [f"src/{IMPORT}/_version.py"]),
}


def render(tmp_path: Path, layout: str, version: str = OLD) -> Path:
    root = tmp_path / layout
    _sandbox.render_sample(root, NAME, version, PROJECTS / layout)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_fixture_layout_is_covered() -> None:
    layouts = {p.name for p in PROJECTS.iterdir() if p.is_dir()} - {"sample", "cext", "backends"}
    assert layouts == set(WRITING) | set(FROM_GIT)


@pytest.mark.parametrize("layout", sorted(WRITING))
def test_a_fixture_is_detected_and_named(tmp_path: Path, layout: str) -> None:
    member, described, files = WRITING[layout]
    project = render(tmp_path, layout) / member

    source = read_version(project)

    assert source.describe() == described
    assert source.version == OLD
    assert source.files == tuple(project / f for f in files)
    assert source.writes_files
    assert source.generated_files == ()
    assert detect.project_name(project) == NAME


@pytest.mark.parametrize("new", [NEW, PRE])
@pytest.mark.parametrize("layout", sorted(WRITING))
def test_a_fixture_bump_rewrites_only_its_version_literals(tmp_path: Path, layout: str, new: str) -> None:
    member, _, files = WRITING[layout]
    root = render(tmp_path, layout)
    project = root / member
    before = tree(root)

    changed = write_version(project, read_version(project), new)

    after = tree(root)
    rewritten = {name for name in after if after[name] != before[name]}
    assert set(after) == set(before)  # nothing created, nothing removed
    assert rewritten == {f"{member}/{f}".removeprefix("./") for f in files}
    assert set(changed) == {project / f for f in files}  # every rewritten file is committed
    for name in rewritten:
        old_text, new_text = before[name].decode(), after[name].decode()
        if name.endswith(".bumpversion.cfg"):  # bump2version rewrites it through configparser
            old_text = "".join(ln for ln in old_text.splitlines(True) if not ln.startswith("#"))
        assert new_text.replace(new, OLD) == old_text  # only the version moved
        for pin in ("companion==", "companion>=", '"companion": ', "companion = { version = "):
            assert (pin + OLD in old_text) == (pin + OLD in new_text) or pin not in old_text
    assert read_version(project).version == new


@pytest.mark.parametrize("layout", sorted(WRITING))
def test_a_fixture_bump_that_fails_changes_nothing(tmp_path: Path, layout: str) -> None:
    """The last file no longer holds the version that was read: every other file is put back."""
    member, _, files = WRITING[layout]
    root = render(tmp_path, layout)
    project = root / member
    source = read_version(project)
    last = project / files[-1]
    last.write_text(last.read_text("utf-8").replace(OLD, "1.4.1"), encoding="utf-8")
    before = tree(root)

    with pytest.raises(VersionError):
        write_version(project, source, NEW)

    assert tree(root) == before


def test_the_bump2version_labelled_section_and_glob_files_are_returned(tmp_path: Path) -> None:
    root = render(tmp_path, "bump2version")

    changed = write_version(root, read_version(root), PRE)

    readme = (root / "README.rst").read_text("utf-8")
    assert f"badge/version-{PRE}-blue" in readme  # the labelled section
    assert f"**{PRE}**" in readme  # the unlabelled section of the same file
    assert f"companion>={OLD}" in readme  # no section searches for it
    assert root / "README.rst" in changed
    assert root / "src" / IMPORT / "about.py" in changed  # from the glob
    assert f"current_version = {PRE}\n" in (root / ".bumpversion.cfg").read_text("utf-8")


@pytest.mark.parametrize("layout", sorted(FROM_GIT))
def test_a_git_derived_fixture_writes_nothing(tmp_path: Path, layout: str) -> None:
    described, generated = FROM_GIT[layout]
    project = render(tmp_path, layout)
    before = tree(project)

    source = read_version(project)

    assert source.describe() == described
    assert source.version == ""
    assert source.files == ()
    assert not source.writes_files
    assert source.generated_files == tuple(project / f for f in generated)
    assert write_version(project, source, NEW) == ()
    assert tree(project) == before
    assert detect.project_name(project) == NAME


# Layouts that need no fixture of their own: one file each.


@pytest.mark.parametrize(
    ("files", "described", "version", "rewritten"),
    [
        (
            {"setup.py": "from setuptools import setup\nsetup(name=\"x\", version='0.4.7dev1')\n"},
            "setup.py literal",
            "0.4.7dev1",
            "setup.py",
        ),
        (
            {
                "setup.py": 'from setuptools import setup\nVERSION = "2.3.0.dev"\n'
                'setup(name="x", version=VERSION)\n'
            },
            "setup.py literal",
            "2.3.0.dev",
            "setup.py",
        ),
        (
            {"setup.cfg": "[metadata]\nname = x\nversion = 2.3.0.dev\n\n[options]\nzip_safe = 2.3.0.dev\n"},
            "setup.cfg [metadata] version",
            "2.3.0.dev",
            "setup.cfg",
        ),
        (
            {"setup.cfg": "[metadata]\nname = x\nversion = file: VERSION\n", "VERSION": "1.0.0\n"},
            "setup.cfg [metadata] version = file: VERSION",
            "1.0.0",
            "VERSION",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\ndynamic = ["version"]\n\n'
                '[tool.setuptools.dynamic]\nversion = {file = ["VERSION.txt"]}\n',
                "VERSION.txt": "3.1\n",
            },
            "setuptools file: VERSION.txt",
            "3.1",
            "VERSION.txt",
        ),
        (
            {
                "pyproject.toml": '[build-system]\nbuild-backend = "hatchling.build"\n\n[project]\n'
                'name = "x"\n'
                'dynamic = ["version"]\n\n[tool.hatch.version]\npath = "x.py"\n'
                "pattern = \"VERSION_INFO = '(?P<version>[^']+)'\"\n",
                "x.py": "__version__ = '9.9.9'\nVERSION_INFO = '1.2.0b3'\n",
            },
            "hatch version path (x.py)",
            "1.2.0b3",
            "x.py",
        ),
        (
            {
                "setup.py": "from setuptools import setup\n"
                "setup(name='x', version=open('x/VERSION').read())\n",
                "x/VERSION": "0.9.0\n",
            },
            "setup.py reads x/VERSION",
            "0.9.0",
            "x/VERSION",
        ),
    ],
)
def test_one_file_layouts(
    tmp_path: Path, files: dict[str, str], described: str, version: str, rewritten: str
) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    before = tree(tmp_path)

    source = read_version(tmp_path)
    assert (source.describe(), source.version, source.files) == (described, version, (tmp_path / rewritten,))
    assert write_version(tmp_path, source, PRE) == (tmp_path / rewritten,)

    after = tree(tmp_path)
    assert {n for n in after if after[n] != before[n]} == {rewritten}
    assert after[rewritten].decode().replace(PRE, version, 1) == before[rewritten].decode()


def test_quoting_and_line_endings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[project]\r\nname = 'x'\r\nversion = '1.0'  # the release\r\n")

    write_version(tmp_path, read_version(tmp_path), "1.1")

    assert path.read_bytes() == b"[project]\r\nname = 'x'\r\nversion = '1.1'  # the release\r\n"


def test_a_version_re_exported_from_another_module_is_followed(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\ndynamic = ["version"]\n\n[tool.setuptools.dynamic]\n'
        'version = {attr = "x.__version__"}\n',
    )
    write(tmp_path / "src" / "x" / "__init__.py", "from ._version import __version__ as __version__\n")
    write(tmp_path / "src" / "x" / "_version.py", '__version__: str = "0.3.0"\n')

    source = read_version(tmp_path)

    assert source.describe() == "setuptools attr: x.__version__ (src/x/_version.py)"
    assert source.files == (tmp_path / "src" / "x" / "_version.py",)


def test_a_version_that_is_not_a_literal_is_refused_naming_the_file(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\ndynamic = ["version"]\n\n[tool.setuptools.dynamic]\n'
        'version = {attr = "x.__version__"}\n',
    )
    write(
        tmp_path / "x" / "__init__.py",
        "import importlib.metadata\n__version__ = importlib.metadata.version('x')\n",
    )

    with pytest.raises(VersionError) as caught:
        read_version(tmp_path)

    assert caught.value.message == "attr: x.__version__: no version literal found in __init__.py"
    assert caught.value.hint == 'write __version__ = "1.2.3" as a plain string in x/__init__.py'


@pytest.mark.parametrize(
    ("pyproject", "extra", "described", "generated"),
    [
        (
            '[build-system]\nbuild-backend = "pdm.backend"\n\n[project]\nname = "x"\n'
            'dynamic = ["version"]\n\n'
            '[tool.pdm.version]\nsource = "scm"\nwrite_to = "x/_version.py"\n',
            {"src/x/__init__.py": ""},
            "pdm-backend scm (git tags)",
            ["src/x/_version.py"],
        ),
        (
            '[build-system]\nrequires = ["setuptools", "versioneer[toml]"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            '[project]\nname = "x"\ndynamic = ["version"]\n\n[tool.versioneer]\nVCS = "git"\n'
            'versionfile_source = "x/_version.py"\n',
            {},
            "versioneer (git tags)",
            [],
        ),
        (
            "",
            {
                "setup.py": "from setuptools import setup\n"
                "setup(name='x', use_scm_version={'write_to': 'x/_v.py'})\n"
            },
            "setuptools-scm (git tags)",
            ["x/_v.py"],  # written by the backend into the sdist: expected, not untracked
        ),
    ],
)
def test_other_git_derived_sources(
    tmp_path: Path, pyproject: str, extra: dict[str, str], described: str, generated: list[str]
) -> None:
    if pyproject:
        write(tmp_path / "pyproject.toml", pyproject)
    for name, text in extra.items():
        write(tmp_path / name, text)

    source = read_version(tmp_path)

    assert (source.describe(), source.writes_files, source.version) == (described, False, "")
    assert source.generated_files == tuple(tmp_path / g for g in generated)


@pytest.mark.parametrize(("new", "short"), [("1.5.0", "1.5"), ("2.0.0rc1", "2.0")])
def test_bump2version_file_serialize_of_its_own_is_applied(tmp_path: Path, new: str, short: str) -> None:
    """A pre-release is carried through bump2version in parts, so a short form still takes its own."""
    write(
        tmp_path / ".bumpversion.cfg",
        "[bumpversion]\ncurrent_version = 1.4.2\n\n[bumpversion:file:docs/conf.py]\n"
        "serialize = {major}.{minor}\nsearch = short = '{current_version}'\n"
        "replace = short = '{new_version}'\n",
    )
    conf = write(tmp_path / "docs" / "conf.py", "short = '1.4'\nrelease = '1.4.2'\n")

    write_version(tmp_path, read_version(tmp_path), new)

    assert conf.read_text("utf-8") == f"short = '{short}'\nrelease = '1.4.2'\n"


@pytest.mark.parametrize(
    ("old", "new"), [("1.4.2", "1.4.3.dev0"), ("1.4.3.dev0", "1.4.3"), ("1.4.2", "1.5.0rc1")]
)
def test_bump2version_parse_with_a_pre_release_part_takes_any_version(
    tmp_path: Path, old: str, new: str
) -> None:
    """A parse that knows rc but not dev (tests/projects/sample): its own parts, else verbatim."""
    write(
        tmp_path / "setup.cfg",
        f"[bumpversion]\ncurrent_version = {old}\n"
        "parse = (?P<major>\\d+)\\.(?P<minor>\\d+)\\.(?P<patch>\\d+)(?:(?P<pre_l>a|b|rc)(?P<pre_n>\\d+))?\n"
        "serialize =\n\t{major}.{minor}.{patch}{pre_l}{pre_n}\n\t{major}.{minor}.{patch}\n\n"
        "[bumpversion:file:x.py]\n",
    )
    module = write(tmp_path / "x.py", f'__version__ = "{old}"\n')

    assert write_version(tmp_path, read_version(tmp_path), new) == (tmp_path / "setup.cfg", module)

    assert module.read_text("utf-8") == f'__version__ = "{new}"\n'
    assert read_version(tmp_path).version == new


def test_bump_my_version_never_commits_tags_or_runs_hooks(tmp_path: Path) -> None:
    """The config asks for a commit, a tag and hooks; releasekit's bump does none of them."""
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\nversion = "1.4.2"  # kept\n\n'
        "[tool.bumpversion]\ncurrent_version = '1.4.2'  # a comment\ncommit = true\ntag = true\n"
        'setup_hooks = ["touch setup-hook"]\npre_commit_hooks = ["touch pre-commit-hook"]\n'
        'post_commit_hooks = ["touch post-commit-hook"]\n\n'
        '[[tool.bumpversion.files]]\nglob = "src/**/*.py"\n',
    )
    write(tmp_path / "src" / "x" / "__init__.py", '__version__ = "1.4.2"\n')
    write(tmp_path / "src" / "x" / "sub" / "about.py", 'VERSION = "1.4.2"\n')
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "Initial commit")
    source = read_version(tmp_path)
    assert source.files == tuple(
        tmp_path / f for f in ("pyproject.toml", "src/x/__init__.py", "src/x/sub/about.py")
    )

    changed = write_version(tmp_path, source, PRE)

    assert set(changed) == set(source.files)
    assert (
        (tmp_path / "pyproject.toml")
        .read_text("utf-8")
        .startswith(
            f'[project]\nname = "x"\nversion = "{PRE}"  # kept\n\n'
            f"[tool.bumpversion]\ncurrent_version = '{PRE}'  # a comment\n"
        )
    )
    assert (tmp_path / "src" / "x" / "sub" / "about.py").read_text("utf-8") == f'VERSION = "{PRE}"\n'
    log = subprocess.run(["git", "log", "--oneline"], cwd=tmp_path, capture_output=True, text=True)
    tags = subprocess.run(["git", "tag"], cwd=tmp_path, capture_output=True, text=True)
    assert (len(log.stdout.splitlines()), tags.stdout) == (1, "")
    assert not list(tmp_path.glob("*-hook"))


def test_bump2version_placeholder_it_does_not_fill_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path / ".bumpversion.cfg",
        "[bumpversion]\ncurrent_version = 1.4.2\n\n[bumpversion:file:a.txt]\nsearch = {current_major}\n",
    )
    write(tmp_path / "a.txt", "1\n")
    before = tree(tmp_path)

    with pytest.raises(VersionError) as caught:
        write_version(tmp_path, read_version(tmp_path), "2.0.0")

    assert caught.value.message == (
        "bump2version could not write 2.0.0: its config uses {current_major}, which it does not fill in"
    )
    assert tree(tmp_path) == before


def test_hatch_code_source_is_refused_with_what_to_do(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[build-system]\nbuild-backend = "hatchling.build"\n\n[project]\nname = "x"\n'
        'dynamic = ["version"]\n\n'
        '[tool.hatch.version]\nsource = "code"\npath = "x.py"\n',
    )

    with pytest.raises(VersionError) as caught:
        read_version(tmp_path)

    assert caught.value.message == "[tool.hatch.version] source = 'code' is not one releasekit can write"


@pytest.mark.parametrize(
    ("files", "name"),
    [
        ({"pyproject.toml": '[project]\nname = "My_Project"\nversion = "1"\n'}, "my-project"),
        ({"pyproject.toml": '[tool.poetry]\nname = "Poetry.Pkg"\nversion = "1"\n'}, "poetry-pkg"),
        ({"setup.cfg": "[metadata]\nname = cfg_pkg\nversion = 1\n"}, "cfg-pkg"),
        ({"setup.py": "import setuptools\nsetuptools.setup(name='Py_Pkg', version='1')\n"}, "py-pkg"),
    ],
)
def test_project_name_from_any_declaration(tmp_path: Path, files: dict[str, str], name: str) -> None:
    for filename, text in files.items():
        write(tmp_path / filename, text)

    assert detect.project_name(tmp_path) == name


@pytest.mark.slow
def test_project_name_from_the_backend_when_setup_py_computes_it(tmp_path: Path) -> None:
    """The last resort: the backend's own metadata (a build environment, so slow)."""
    write(
        tmp_path / "setup.py",
        "from setuptools import setup\nsetup(name='-'.join(['rk', 'computed']), version='1')\n",
    )

    assert detect.project_name(tmp_path) == "rk-computed"


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted([*WRITING, *FROM_GIT]))
def test_every_fixture_builds(tmp_path: Path, layout: str) -> None:
    """Each fixture is a real project: releasekit's own build makes its sdist and wheel.

    Slow the first time (one cached build environment per backend); git-derived fixtures are
    tagged first, as the release will.
    """
    root = render(tmp_path, layout)
    project = root / WRITING[layout][0] if layout in WRITING else root
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "Initial commit")
    _git(root, "tag", "-a", f"v{OLD}", "-m", f"Release {OLD}")

    artifacts = build_dists(project, tmp_path / "dist")

    assert sorted(a.kind for a in artifacts) == ["sdist", "wheel"]
    assert {(a.name, a.version) for a in artifacts} == {(NAME, OLD)}


def test_two_labelled_bump2version_sections_on_one_file(tmp_path: Path) -> None:
    """ionelmc/cookiecutter-pylibrary's projects: a README badge and a compare link, each a section."""
    config = """[bumpversion]
current_version = 3.2.2

[bumpversion:file:setup.py]

[bumpversion:file (badge):README.rst]
search = /v{current_version}.svg
replace = /v{new_version}.svg

[bumpversion:file (link):README.rst]
search = /compare/v{current_version}...main
replace = /compare/v{new_version}...main
"""
    write(tmp_path / ".bumpversion.cfg", config)
    write(tmp_path / "setup.py", 'from setuptools import setup\nsetup(name="x", version="3.2.2")\n')
    readme = write(
        tmp_path / "README.rst", "Badge: https://img/v3.2.2.svg\nDiff: https://gh/compare/v3.2.2...main\n"
    )
    source = read_version(tmp_path)
    assert set(write_version(tmp_path, source, "3.2.3")) == {
        tmp_path / ".bumpversion.cfg",
        tmp_path / "setup.py",
        readme,
    }
    assert readme.read_text() == "Badge: https://img/v3.2.3.svg\nDiff: https://gh/compare/v3.2.3...main\n"
