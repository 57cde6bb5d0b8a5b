"""Package indexes: which URL a name means, whose credentials go there, and what it holds.

Repository names resolve like twine (`~/.pypirc` index-servers, built-in pypi/testpypi), but
`TWINE_REPOSITORY*` variables are deliberately ignored: a stray one must never redirect an upload
aimed elsewhere. What an index holds is read from its simple API (PEP 691 JSON, or PEP 503 HTML
with `#sha256=` fragments), so "already uploaded" means "the same bytes are there".
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from packaging.utils import canonicalize_name

from . import redact
from .errors import ConfigError, CredentialsError, PackageIndexError

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"
BUILTIN = {"pypi": PYPI_UPLOAD, "testpypi": TESTPYPI_UPLOAD, "pypitest": TESTPYPI_UPLOAD}
_SIMPLE = {PYPI_UPLOAD: "https://pypi.org/simple/", TESTPYPI_UPLOAD: "https://test.pypi.org/simple/"}
_USER_AGENT = "releasekit"


@dataclass(frozen=True)
class Repository:
    """An upload target with the simple index that mirrors it and the credentials for it."""

    label: str  # the .pypirc section name, or the URL the user gave
    upload_url: str
    simple_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    credential_source: str | None = None  # "environment" | ".pypirc" | "keyring"

    @property
    def has_credentials(self) -> bool:
        return bool(self.password)


@dataclass(frozen=True)
class IndexFile:
    filename: str
    sha256: str | None
    url: str


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


def safe_for_credentials(url: str) -> bool:
    """Credentials may travel over https, or over plain http only to this machine."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback(url))


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def simple_url_for(upload_url: str, overrides: dict[str, str], label: str) -> str:
    """The simple index behind an upload URL: PyPI's, TestPyPI's, or `<server>/simple/`."""
    for key in (label, upload_url):
        if key in overrides:
            return overrides[key].rstrip("/") + "/"
    if upload_url in _SIMPLE:
        return _SIMPLE[upload_url]
    base = upload_url.rstrip("/")
    base = base.removesuffix("/legacy")
    return base + "/simple/"


def _keyring_credentials(url: str, username: str | None) -> tuple[str | None, str | None]:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None, None
    try:
        cred = keyring.get_credential(url, username)
        if cred is not None and cred.password:
            return cred.username or username, cred.password
        # Backends without credential lookup by service only: the name twine documents.
        user = username or "__token__"
        password = keyring.get_password(url, user)
        return (user, password) if password else (None, None)
    except (keyring.errors.KeyringError, RuntimeError):
        return None, None


def resolve_repository(
    target: str,
    *,
    simple_overrides: dict[str, str],
    pypirc: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Repository:
    """Resolve a .pypirc section name or URL to a Repository with its credentials.

    Credentials come, like twine's, from TWINE_USERNAME/TWINE_PASSWORD, then the .pypirc section,
    then keyring. They may only travel over https or to a loopback address.
    """
    environ = dict(os.environ) if environ is None else environ
    path = pypirc or pypirc_path()
    parser = read_pypirc(path)
    section: str | None = None
    if "://" in target:
        upload_url, label = target, redact.scrub(target)
        section = next(
            (s for s in parser.sections() if parser.get(s, "repository", fallback="") == target), None
        )
    else:
        aliases = [target] + (["testpypi", "pypitest"] if target in ("testpypi", "pypitest") else [])
        section = next((a for a in aliases if parser.has_section(a)), None)
        label = target
        if section is not None:
            upload_url = parser.get(section, "repository", fallback=BUILTIN.get(target, ""))
        elif target in BUILTIN:
            upload_url = BUILTIN[target]
        else:
            known = ", ".join(sorted(set(parser.sections()) - {"distutils"} | {"pypi", "testpypi"}))
            raise ConfigError(f"unknown repository '{target}'", f"use a URL or one of: {known}")
        if not upload_url:
            raise ConfigError(
                f"[{section}] in {path.name} has no repository URL", "add repository = https://..."
            )
    scheme = urllib.parse.urlsplit(upload_url).scheme
    if scheme not in ("http", "https"):
        raise ConfigError(f"repository URL '{redact.scrub(upload_url)}' is not http(s)")

    username = environ.get("TWINE_USERNAME") or None
    password = environ.get("TWINE_PASSWORD") or None
    source = "environment" if password else None
    if section is not None and not password:
        username = username or parser.get(section, "username", fallback=None)
        password = parser.get(section, "password", fallback=None) or None
        source = ".pypirc" if password else None
    if not password:
        username, password = _keyring_credentials(upload_url, username)
        source = "keyring" if password else None
    if password and not username:
        username = "__token__"
    redact.register(password, username)
    if password and scheme != "https" and not is_loopback(upload_url):
        raise CredentialsError(
            f"refusing to send credentials to {redact.scrub(upload_url)} over plain http",
            "use an https URL (only loopback addresses may use http)",
        )
    simple = simple_url_for(upload_url, simple_overrides, label)
    return Repository(label, upload_url, simple, username, password, source)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _open(url: str, timeout: float, accept: str) -> tuple[bytes, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # http(s) only: checked on resolve
        return resp.read(), resp.headers.get("Content-Type", ""), resp.geturl()


def list_files(repo: Repository, project: str, timeout: float) -> dict[str, IndexFile]:
    """Every file the index holds for `project`, by file name; an unknown project is empty."""
    url = urllib.parse.urljoin(repo.simple_url, canonicalize_name(project) + "/")
    accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
    try:
        body, ctype, final_url = _open(url, timeout, accept)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        if exc.code >= 500:
            raise PackageIndexError(
                f"{repo.label} index is unavailable ({exc.code}) at {redact.scrub(repo.simple_url)}",
                "re-run the same command when it is back",
            ) from exc
        raise PackageIndexError(
            f"{repo.label} index answered {exc.code} for {redact.scrub(url)}",
            "check the repository URL, or set simple-index for it in [tool.releasekit]",
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PackageIndexError(
            f"{repo.label} index at {redact.scrub(repo.simple_url)} is unreachable ({reason})",
            "check the network or the index, then re-run the same command",
        ) from exc
    files: dict[str, IndexFile] = {}
    if "json" in ctype:
        for entry in json.loads(body).get("files", []):
            href = urllib.parse.urljoin(final_url, entry["url"])
            files[entry["filename"]] = IndexFile(
                entry["filename"], entry.get("hashes", {}).get("sha256"), href
            )
        return files
    parser = _LinkParser()
    parser.feed(body.decode("utf-8", "replace"))
    for href, text in parser.links:
        absolute = urllib.parse.urljoin(final_url, href)
        path, _, fragment = absolute.partition("#")
        filename = urllib.parse.unquote(path.rsplit("/", 1)[-1]) or text
        algo, _, digest = fragment.partition("=")
        files[filename] = IndexFile(filename, digest if algo == "sha256" else None, path)
    return files


# The largest file a download accepts unless the caller says otherwise: far above any index's
# upload limit, low enough that a server streaming without end is cut off before the disk fills.
DOWNLOAD_LIMIT = 4 << 30
_DOWNLOAD_BLOCK = 1 << 20


def download(
    file: IndexFile,
    dest: Path,
    timeout: float,
    *,
    expected_sha256: str | None = None,
    max_bytes: int = DOWNLOAD_LIMIT,
) -> Path:
    """Fetch a file the index holds into `dest`, refusing it unless its sha256 is the expected one.

    The body streams to a temporary file inside `dest`, hashed as it arrives, so memory does not
    grow with the file. `timeout` bounds the whole request (connecting, headers and every read),
    not each read, so a server that trickles bytes cannot hold the release; `max_bytes` bounds
    its size. Only when the sha256 matches the listing's (and `expected_sha256`, when given) is
    the file renamed into place; on any failure or interrupt the temporary file is removed, so a
    partial download is never left where a later run would trust it.
    """
    import hashlib
    import http.client
    import tempfile
    import time

    if Path(file.filename).name != file.filename or file.filename.startswith("."):
        raise PackageIndexError(f"the index lists a file named {file.filename!r}, which is not a file name")
    if urllib.parse.urlsplit(file.url).scheme not in ("http", "https"):
        raise PackageIndexError(f"the index lists {file.filename} at a URL that is not http(s)")
    deadline = time.monotonic() + timeout
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix=f".{file.filename}.", suffix=".part", dir=dest)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:

            def keep(block: bytes) -> None:
                digest.update(block)
                out.write(block)

            try:
                _stream(file, keep, deadline, max_bytes)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                if isinstance(reason, TimeoutError):
                    raise PackageIndexError(
                        f"downloading {file.filename} took longer than the {timeout:g}s timeout",
                        "re-run the same command; for large files on a slow network raise `timeout`",
                    ) from exc
                raise PackageIndexError(
                    f"cannot download {file.filename}: {redact.scrub(str(reason))}",
                    "re-run the same command; nothing partial was kept",
                ) from exc
        found = digest.hexdigest()
        if file.sha256 and found != file.sha256:
            raise PackageIndexError(
                f"{file.filename} downloaded with a different sha256 than the index lists"
            )
        if expected_sha256 and found != expected_sha256:
            raise PackageIndexError(
                f"{file.filename} downloaded with sha256 {found}, not the {expected_sha256} expected",
                "the index serves other bytes than the ones this release recorded: do not publish them",
            )
        target = dest / file.filename
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _stream(file: IndexFile, sink: Callable[[bytes], None], deadline: float, max_bytes: int) -> None:
    """Pass the body of `file.url` to `sink` block by block, within the deadline and the size limit."""
    import time

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the download took longer than the timeout")
        return left

    request = urllib.request.Request(file.url, headers={"Accept": "*/*", "User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=remaining()) as resp:  # http(s) only: checked on resolve
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise OSError(f"the index announces {int(length):,} bytes, more than the {max_bytes:,} allowed")
        received = 0
        while True:
            _tighten(resp, remaining())
            # read1: one receive per call, so a server trickling bytes meets the deadline.
            block = resp.read1(_DOWNLOAD_BLOCK)
            if not block:
                break
            received += len(block)
            if received > max_bytes:
                raise OSError(f"the body is larger than the {max_bytes:,} bytes allowed")
            sink(block)
        if length and length.isdigit() and received != int(length):
            raise OSError(f"the connection closed after {received:,} of {int(length):,} bytes")


def _tighten(resp: object, seconds: float) -> None:
    """Let the next read block for no longer than what is left of the deadline.

    urllib gives the socket one timeout for every operation, so connecting and reading the
    headers are bounded per operation; the body is bounded by the deadline. The stdlib has no
    public handle on the response's socket: this reaches it where http.client keeps it, and
    where it cannot, the deadline is still checked between reads.
    """
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None and hasattr(sock, "settimeout"):
        sock.settimeout(seconds)
