"""Render templates/ into a new package that builds, tests and releases with no edits.

Templates are data: files under `templates/package/` (names and contents are Jinja2, `.j2`
stripped) plus one license text from `templates/licenses/`. Everything is rendered into a
temporary directory next to the destination and moved into place at the end, so a failure never
leaves half a package; an existing file the templates do not produce is never touched.
"""

from __future__ import annotations

import datetime
import keyword
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from releasekit import __version__, vcs
from releasekit.errors import ScaffoldError

INITIAL_VERSION = "0.1.0"
NEWEST_PYTHON = (3, 14)
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
# Names become directory and file names (.NAME.scaffold-*, tests/test_NAME.py), which most file
# systems cap at 255 bytes; PyPI sets no limit of its own.
MAX_NAME = 200
# Characters RFC 3986 never allows raw in a URL: they must be percent-encoded.
_URL_UNSAFE = frozenset('"<>\\^`{|}')
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class PackageSpec:
    """What the new package is; every field has been validated by `make_spec`."""

    name: str
    import_name: str
    description: str
    author: str
    email: str
    license: str
    python: str
    url: str | None = None
    keywords: tuple[str, ...] = field(default=())
    binary: bool = False  # the release workflow builds wheels on a cibuildwheel matrix


@dataclass(frozen=True)
class ScaffoldResult:
    dest: Path
    written: tuple[str, ...]
    overwritten: tuple[str, ...]
    kept: tuple[str, ...]  # files already there that the templates do not produce
    commit: str | None


def templates_root() -> Path:
    """templates/ inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent.parent / "templates"):
        if (candidate / "package").is_dir():
            return candidate
    raise ScaffoldError("releasekit's templates are missing", "reinstall releasekit")


def licenses() -> list[str]:
    return sorted(p.name.removesuffix(".txt.j2") for p in (templates_root() / "licenses").glob("*.txt.j2"))


def check_name(name: str) -> str:
    """Validate a project name; return its import name. Refuses what would break or shadow."""
    if not name:
        raise ScaffoldError("the package name is empty", "pass a name such as my-pkg")
    if len(name) > MAX_NAME:
        raise ScaffoldError(
            f"the package name is {len(name)} characters long; at most {MAX_NAME} fit in file names",
            "choose a shorter name",
        )
    if not name.isascii():
        raise ScaffoldError(f"package name '{name}' is not ASCII", "use letters, digits, '-', '_' and '.'")
    if name.startswith("-"):
        raise ScaffoldError(f"package name '{name}' starts with '-'", "names start with a letter or digit")
    if any(ch in name for ch in "/\\ \t") or name in (".", ".."):
        raise ScaffoldError(
            f"package name '{name}' contains a path separator or space", "use --dest DIR to choose where"
        )
    if not _NAME.match(name):
        raise ScaffoldError(
            f"'{name}' is not a valid project name (PEP 508)",
            "use letters, digits, and '-', '_', '.' between them",
        )
    import_name = re.sub(r"[-.]+", "_", name).lower()
    if not import_name.isidentifier() or keyword.iskeyword(import_name):
        raise ScaffoldError(f"'{name}' gives the import name '{import_name}', which Python cannot import")
    if import_name in sys.stdlib_module_names:
        raise ScaffoldError(
            f"'{name}' would be imported as '{import_name}', shadowing the standard library module",
            "choose another name",
        )
    return import_name


def make_spec(
    name: str,
    *,
    description: str,
    author: str,
    email: str,
    license: str = "MIT",
    python: str = ">=3.11",
    url: str | None = None,
    keywords: str | list[str] = (),  # type: ignore[assignment]
    binary: bool = False,
) -> PackageSpec:
    """Validate every field, with one clear error per problem."""
    import_name = check_name(name)
    if license not in licenses():
        raise ScaffoldError(f"unknown license '{license}'", f"choose one of: {', '.join(licenses())}")
    try:
        SpecifierSet(python)
    except InvalidSpecifier as exc:
        raise ScaffoldError(f"--python '{python}' is not a version specifier", "use e.g. '>=3.11'") from exc
    if "\n" in description or "\r" in description:
        raise ScaffoldError("the description must be one line", "put longer text in README.md")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    words = tuple(k.strip() for k in keywords if k.strip())
    for flag, value in (("--description", description), ("--author", author), ("--email", email),
                        ("--keywords", ",".join(words))):  # fmt: skip
        _one_line(flag, value)
    if email and "@" not in email:
        raise ScaffoldError(f"'{email}' is not an email address")
    if url:
        _check_url(url)
    return PackageSpec(name, import_name, description, author, email, license, python, url, words, binary)


def _one_line(flag: str, value: str) -> None:
    """Core metadata fields are single header lines: a control character would corrupt them."""
    if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
        raise ScaffoldError(f"{flag} {value!r} must be one line, without control characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):  # undecodable bytes from argv
        raise ScaffoldError(f"{flag} is not valid UTF-8", "give it as UTF-8 text")


def _check_url(url: str) -> None:
    """An http(s) URL with a host and nothing that must be percent-encoded (it lands in TOML and links)."""
    shown = ascii(url)
    bad = sorted({ch for ch in url if ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch in _URL_UNSAFE})
    if bad:
        raise ScaffoldError(
            f"--url {shown} contains {', '.join(ascii(ch) for ch in bad)}, which a URL cannot hold",
            "percent-encode it, or fix the URL",
        )
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a bad port only shows when asked for
    except ValueError as exc:
        raise ScaffoldError(f"--url {shown} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScaffoldError(
            f"--url {shown} is not an http(s) URL with a host", "e.g. https://github.com/you/pkg"
        )


def toml_value(value: str | list[str]) -> str:
    """`value` as a TOML basic string (or array of them): the template's only way to write text.

    Backslash, quote and every control character are escaped as the TOML spec requires; other
    characters are written as they are (TOML is UTF-8), so whatever the inputs the file parses.
    """
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    escaped = []
    for ch in value:
        if ch in ('"', "\\"):
            escaped.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def _python_versions(spec: str) -> list[str]:
    minimum = (3, 9)
    for item in SpecifierSet(spec):
        if item.operator in (">=", "~=", "=="):
            parts = [int(p) for p in re.findall(r"\d+", item.version)[:2]]
            minimum = max(minimum, (parts[0], parts[1] if len(parts) > 1 else 0))
    versions = [f"3.{minor}" for minor in range(minimum[1], NEWEST_PYTHON[1] + 1)] if minimum[0] == 3 else []
    return [v for v in versions if SpecifierSet(spec).contains(f"{v}.0")] or [f"{minimum[0]}.{minimum[1]}"]


def _context(spec: PackageSpec) -> dict[str, object]:
    match = _GITHUB.match(spec.url or "")
    url = f"https://github.com/{match.group(1)}/{match.group(2)}" if match else spec.url
    versions = _python_versions(spec.python)
    return {
        "name": spec.name,
        "import_name": spec.import_name,
        "version": INITIAL_VERSION,
        "description": spec.description,
        "author": spec.author,
        "holder": spec.author,
        "email": spec.email,
        "license": spec.license,
        "python": spec.python,
        "python_versions": versions,
        "min_python": versions[0],
        "url": url,
        "github_repo": f"{match.group(1)}/{match.group(2)}" if match else None,
        "keywords": list(spec.keywords),
        "year": datetime.date.today().year,
        "binary": spec.binary,
        # The workflow installs the releasekit that wrote it: the job holding id-token: write runs
        # a pinned publisher, as its actions are pinned.
        "releasekit_version": __version__,
    }


def render(spec: PackageSpec) -> dict[str, str]:
    """Relative path -> content of every file of the new package."""
    import jinja2
    import jinja2.sandbox

    root = templates_root()
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=jinja2.select_autoescape(),
    )
    env.filters["toml"] = toml_value
    context = _context(spec)
    files: dict[str, str] = {}
    package = root / "package"
    for source in sorted(package.rglob("*.j2")):
        relative = source.relative_to(package).as_posix().removesuffix(".j2")
        path = env.from_string(relative).render(context)
        files[path] = env.get_template(source.relative_to(root).as_posix()).render(context)
    files["LICENSE.txt"] = env.get_template(f"licenses/{spec.license}.txt.j2").render(context)
    return files


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def scaffold(spec: PackageSpec, dest: Path, *, force: bool = False, git: bool = True) -> ScaffoldResult:
    """Create the package at `dest`; with `force`, add to an existing directory, keeping its files.

    A destination the file system refuses (below a regular file, a name too long, no permission)
    is a ScaffoldError naming it; the temporary tree is removed, so nothing is left behind.
    """
    files = render(spec)
    dest = dest.absolute()
    try:
        blocker = next((p for p in dest.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise ScaffoldError(f"--dest {dest} is below {blocker}, which is a file", "choose another --dest")
        return _scaffold(spec, files, dest, force=force, git=git)
    except OSError as exc:
        raise ScaffoldError(
            f"cannot create the package at {dest}: {exc.strerror or exc}", "choose another --dest"
        ) from exc


def _scaffold(
    spec: PackageSpec, files: dict[str, str], dest: Path, *, force: bool, git: bool
) -> ScaffoldResult:
    if dest.exists() and not dest.is_dir():
        raise ScaffoldError(f"{dest.name} exists and is not a directory", "choose another --dest")
    existing = sorted(
        p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts
    ) if dest.is_dir() else []  # fmt: skip
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise ScaffoldError(
            f"{dest.name} exists and is not empty",
            "choose another --dest, or pass --force to add the package's files (yours are kept)",
        )
    overwritten = tuple(p for p in existing if p in files)
    kept = tuple(p for p in existing if p not in files)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.scaffold-", dir=dest.parent))
    commit: str | None = None
    message = f"Create {spec.name} {INITIAL_VERSION} with releasekit scaffold"
    try:
        _write_tree(tmp, files)
        in_repo = dest.is_dir() and vcs.inside_work_tree(dest)
        if git and not dest.exists():
            commit = vcs.init_and_commit(tmp, message, (spec.author, spec.email))
        if not dest.exists() or not any(dest.iterdir()):
            if dest.exists():
                dest.rmdir()
            os.rename(tmp, dest)
        else:
            for relative in files:
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / relative, dest / relative)
            if git and not in_repo:
                commit = vcs.init_and_commit(dest, message, (spec.author, spec.email))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ScaffoldResult(dest, tuple(files), overwritten, kept, commit)
