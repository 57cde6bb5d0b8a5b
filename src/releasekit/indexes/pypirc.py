"""Write and check ~/.pypirc the safe way: API tokens, mode 0600, nothing else disturbed.

Edits are made line by line so the user's other sections and comments survive (configparser
would drop comments); the file is replaced atomically through a 0600 temporary file, so it is
never readable by others, not even for a moment. Nothing here ever prints a token.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from releasekit import redact
from releasekit.errors import ConfigError, CredentialsError
from releasekit.indexes.urls import (
    BUILTIN,
    PYPI_UPLOAD,
    TESTPYPI_UPLOAD,
    safe_for_credentials,
)


def pypirc_path() -> Path:
    return Path(os.path.expanduser("~/.pypirc"))


def read_pypirc(path: Path) -> configparser.RawConfigParser:
    """Parse .pypirc; a parse error is reported without its text, which may hold a password."""
    parser = configparser.RawConfigParser()
    if path.is_file():
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            where = f" near line {line}" if line else ""
            raise ConfigError(
                f"{path.name} cannot be parsed{where} (details hidden: the file holds credentials)",
                "fix its INI syntax",
            ) from None
    return parser


def pypirc_warnings(path: Path) -> list[str]:
    """A .pypirc holding passwords that others can read is worth a warning every time."""
    if not path.is_file():
        return []
    mode = path.stat().st_mode
    parser = read_pypirc(path)
    has_password = any(parser.has_option(s, "password") for s in parser.sections())
    if has_password and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [f"{path.name} holds passwords and is readable by others; run: chmod 600 ~/.pypirc"]
    return []


_SECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


_HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Change:
    path: Path
    section: str
    url: str
    stored_in: str  # "file" | "keyring"


def token_index(token: str) -> str | None:
    """ "pypi" or "testpypi" when the token's macaroon names its index, else None."""
    if not token.startswith("pypi-"):
        return None
    body = token[5:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if b"test.pypi.org" in raw:
        return "testpypi"
    if b"pypi.org" in raw:
        return "pypi"
    return None


def _section_bounds(lines: list[str], section: str) -> tuple[int, int] | None:
    start = None
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if match and start is not None:
            return start, number
        if match and match.group(1).strip() == section:
            start = number
    return (start, len(lines)) if start is not None else None


def _option_span(lines: list[str], bounds: tuple[int, int], key: str) -> tuple[int, int] | None:
    """The lines of `key` in a section, with its indented continuation lines."""
    pattern = re.compile(rf"^{re.escape(key)}\s*[=:]", re.IGNORECASE)
    for number in range(bounds[0] + 1, bounds[1]):
        if pattern.match(lines[number]):
            end = number + 1
            while end < bounds[1] and lines[end][:1] in (" ", "\t") and lines[end].strip():
                end += 1
            return number, end
    return None


def _set(lines: list[str], section: str, key: str, value_lines: list[str]) -> None:
    bounds = _section_bounds(lines, section)
    if bounds is None:
        if lines and lines[-1].strip():
            lines.append("\n")
        lines.append(f"[{section}]\n")
        bounds = (len(lines) - 1, len(lines))
    span = _option_span(lines, bounds, key)
    if span is not None:
        lines[span[0] : span[1]] = value_lines
        return
    insert = bounds[1]
    while insert > bounds[0] + 1 and not lines[insert - 1].strip():
        insert -= 1
    lines[insert:insert] = value_lines


def _remove(lines: list[str], section: str, key: str) -> None:
    bounds = _section_bounds(lines, section)
    span = _option_span(lines, bounds, key) if bounds else None
    if span is not None:
        del lines[span[0] : span[1]]


def _index_servers(path: Path) -> list[str]:
    parser = read_pypirc(path)
    return parser.get("distutils", "index-servers", fallback="").split()


def refuse_unsafe_target(path: Path) -> None:
    """No symlinks (the write would land elsewhere), no credentials inside a project."""
    if path.is_symlink():
        raise CredentialsError(f"{path} is a symlink", "replace it with a regular file, then re-run")
    if path.exists() and not path.is_file():
        raise CredentialsError(f"{path} is not a regular file")
    seen = [path.parent.absolute(), *path.parent.absolute().parents]
    seen += [path.parent.resolve(), *path.parent.resolve().parents]  # a symlinked folder too
    for directory in dict.fromkeys(seen):
        if any((directory / marker).exists() for marker in _PROJECT_MARKERS):
            raise CredentialsError(
                f"refusing to write credentials inside the project at {directory}",
                "keep them in ~/.pypirc, outside any project (it could be committed or packaged)",
            )


def write_token(
    path: Path,
    *,
    section: str,
    token: str,
    url: str | None = None,
    use_keyring: bool = False,
) -> Change:
    """Create or update one section with `__token__` and the token (or a keyring entry)."""
    refuse_unsafe_target(path)
    upload_url = _upload_url_for(section, url)
    redact.register(token, "__token__")
    _check_token(token, upload_url)
    if _canonical(upload_url) in (PYPI_UPLOAD, TESTPYPI_UPLOAD):
        upload_url = _canonical(upload_url)
    lines = _read_lines(path)
    _set_repository(lines, path, section, upload_url, with_url=bool(url) or section not in BUILTIN)
    if use_keyring:
        _store_in_keyring(upload_url, token)
        _remove(lines, section, "password")
    else:
        _set(lines, section, "password", [f"password = {token}\n"])
    _write_private(path, "".join(lines))
    return Change(path, section, upload_url, "keyring" if use_keyring else "file")


def _upload_url_for(section: str, url: str | None) -> str:
    """Where `section` uploads: `url`, or the built-in one of its name; only where a secret may go.

    The name must be one twine can read back as a section (and not its own [distutils]).
    """
    if not _SECTION.match(section) or section == "distutils":
        raise CredentialsError(
            f"'{section}' cannot be a repository name", "use letters, digits, '-', '_', '.'"
        )
    upload_url = url or BUILTIN.get(section)
    if upload_url is None:
        raise CredentialsError(f"[{section}] is not a built-in repository", "pass --url with its upload URL")
    if not safe_for_credentials(upload_url):
        raise CredentialsError(f"refusing to store credentials for {redact.scrub(upload_url)}", "use https")
    return upload_url


def _check_token(token: str, upload_url: str) -> None:
    """Refuse a token that cannot work, before anything is written.

    A pasted line break, a password where PyPI takes only API tokens, or a token issued by the
    other one of PyPI and TestPyPI would each fail only at the first upload.
    """
    if not token.strip():
        raise CredentialsError("the token is empty", "paste the API token from your account settings")
    if any(ch.isspace() or ord(ch) < 32 for ch in token):
        raise CredentialsError("the token contains spaces or line breaks", "paste it again, on one line")
    canonical = _canonical(upload_url)
    if canonical not in (PYPI_UPLOAD, TESTPYPI_UPLOAD):
        return
    if not token.startswith("pypi-"):
        raise CredentialsError(
            "that is not a PyPI API token (they start with 'pypi-'); PyPI accepts only API tokens",
            "create one in your account settings, under API tokens",
        )
    meant = token_index(token)
    target = "testpypi" if canonical == TESTPYPI_UPLOAD else "pypi"
    if meant and meant != target:
        raise CredentialsError(
            f"that token was issued by {meant}, not {target}", f"use a token from the {target} site"
        )


def _set_repository(lines: list[str], path: Path, section: str, upload_url: str, *, with_url: bool) -> None:
    """List `section` in index-servers (pypi and testpypi too) and make it a `__token__` section.

    Its `repository` URL is written only when one was given or the name is not built in: for the
    built-in names (pypi, testpypi) twine knows the URL itself.
    """
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    servers = _index_servers(path) if path.exists() else []
    for name in ("pypi", "testpypi", section):
        if name not in servers:
            servers.append(name)
    _set(lines, "distutils", "index-servers", ["index-servers =\n", *[f"    {s}\n" for s in servers]])
    if with_url:
        _set(lines, section, "repository", [f"repository = {upload_url}\n"])
    _set(lines, section, "username", ["username = __token__\n"])


def _read_lines(path: Path) -> list[str]:
    """The file's lines, to edit in place; bad UTF-8 is reported without quoting the file."""
    if not path.exists():
        return []
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        raise CredentialsError(
            f"{path.name} is not UTF-8 (details hidden: the file holds credentials); nothing was changed",
            "save it as UTF-8, or move it away and re-run",
        ) from None


def _store_in_keyring(url: str, token: str) -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(url, "__token__", token)
        stored = keyring.get_password(url, "__token__")
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise CredentialsError(
            "no usable system keyring to store the token in", "drop --keyring to keep it in ~/.pypirc (0600)"
        ) from exc
    except (ImportError, AttributeError, ValueError) as exc:  # how keyring fails to load a named backend
        raise CredentialsError(
            f"the keyring backend cannot be loaded ({type(exc).__name__}: {exc})",
            "fix PYTHON_KEYRING_BACKEND or keyringrc.cfg, or drop --keyring to keep it in ~/.pypirc (0600)",
        ) from exc
    if stored != token:  # a disabled keyring accepts writes and keeps nothing
        raise CredentialsError(
            "the system keyring did not keep the token", "drop --keyring to keep it in ~/.pypirc (0600)"
        )


def _canonical(url: str) -> str:
    return url.rstrip("/") + "/"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pypirc.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check(path: Path) -> list[str]:
    """Problems with a .pypirc, each one line, never quoting a secret."""
    if path.is_symlink():
        return [f"{path.name} is a symlink; make it a regular file"]
    if not path.exists():
        return [f"{path.name} does not exist; create it with `releasekit pypirc`"]
    problems = []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        problems.append(f"{path.name} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")
    parser = read_pypirc(path)
    problems += _server_problems(parser)
    for section in parser.sections():
        if section != "distutils":
            problems += _section_problems(parser, section)
    return problems


def _server_problems(parser: configparser.RawConfigParser) -> list[str]:
    """index-servers must name pypi and testpypi, and each name it lists must resolve to a URL."""
    problems = []
    servers = parser.get("distutils", "index-servers", fallback="").split()
    for name in ("pypi", "testpypi"):
        if name not in servers and not (name == "testpypi" and "pypitest" in servers):
            problems.append(f"index-servers does not list {name}")
    for name in servers:
        if not parser.has_section(name) and name not in BUILTIN:  # twine falls back to the built-in URL
            problems.append(f"index-servers lists {name}, but there is no [{name}] section")
    return problems


def _section_problems(parser: configparser.RawConfigParser, section: str) -> list[str]:
    """What PyPI would refuse in one section, and a password sent in the clear.

    Its password and username are registered with `redact` before any message is made, so none
    of the problems can quote them.
    """
    problems = []
    url = _canonical(parser.get(section, "repository", fallback=BUILTIN.get(section, "")))
    password = parser.get(section, "password", fallback="")
    username = parser.get(section, "username", fallback="")
    redact.register(password, username)
    if url in (PYPI_UPLOAD, TESTPYPI_UPLOAD) and password:
        target = "testpypi" if url == TESTPYPI_UPLOAD else "pypi"
        if not password.startswith("pypi-"):
            problems.append(f"[{section}] has a password that is not an API token; PyPI accepts only tokens")
        elif username != "__token__":
            problems.append(f"[{section}] uses a token with username '{username}'; it must be __token__")
        meant = token_index(password)
        if meant and meant != target:
            problems.append(f"[{section}] holds a token issued by {meant}, but uploads to {target}")
    if password and url.lower().startswith("http://") and not safe_for_credentials(url):
        problems.append(f"[{section}] sends its password over plain http ({redact.scrub(url)})")
    return problems
