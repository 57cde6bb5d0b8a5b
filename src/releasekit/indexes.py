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
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from . import redact
from .boundedhttp import USER_AGENT as _USER_AGENT
from .boundedhttp import Answer, Unreadable, fetch
from .errors import ConfigError, CredentialsError, PackageIndexError
from .indexurls import DEVPI_RULE, GENERIC_RULE, simple_rule_for, split_credentials, token_location
from .redact import printable

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"
BUILTIN = {"pypi": PYPI_UPLOAD, "testpypi": TESTPYPI_UPLOAD, "pypitest": TESTPYPI_UPLOAD}
# Where each PyPI host's tokens come from: the macaroon location PyPI writes into them.
_TOKEN_HOSTS = {"upload.pypi.org": "pypi.org", "pypi.org": "pypi.org", "test.pypi.org": "test.pypi.org"}
# Environment credentials for each role (the README's "Private indexes" states this rule).
ENV_CREDENTIALS = {
    "live": ("TWINE_USERNAME", "TWINE_PASSWORD"),
    "test": ("RELEASEKIT_TEST_USERNAME", "RELEASEKIT_TEST_PASSWORD"),
}
_PROBE_LIMIT = 64 * 1024
_DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Repository:
    """An upload target with the simple index that mirrors it and the credentials for it."""

    label: str  # the .pypirc section name, or the URL the user gave
    upload_url: str
    simple_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    credential_source: str | None = None  # "repository URL" | "environment" | ".pypirc" | "keyring"
    simple_rule: str = "as given"  # how simple_url was found: indexurls.simple_rule_for, devpi, setting

    @property
    def has_credentials(self) -> bool:
        return bool(self.password)


@dataclass(frozen=True)
class IndexFile:
    filename: str
    sha256: str | None
    url: str
    upload_time: str | None = None  # PEP 700 `upload-time`, when the index says


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
    """The simple index behind an upload URL, from the overrides or the URL alone (no network)."""
    return _simple_from(upload_url, overrides, label)[0]


def _simple_from(upload_url: str, overrides: dict[str, str], label: str) -> tuple[str, str]:
    for key in (label, upload_url):
        if key in overrides:
            return overrides[key].rstrip("/") + "/", "simple-index setting"
    found = simple_rule_for(upload_url)
    if found is not None:
        return found
    return upload_url.rstrip("/") + "/simple/", GENERIC_RULE


_DISCOVERED: dict[str, tuple[str, str]] = {}
_DISCOVERED_LOCK = threading.Lock()


def discover_simple(
    upload_url: str, overrides: dict[str, str], label: str, timeout: float
) -> tuple[str, str]:
    """Like `simple_url_for`, but a URL that cannot tell is asked: devpi answers ``+api``.

    The answer is cached per URL for the process, so a run resolves each index once at the cost
    of one bounded GET (never a simple root listing).
    """
    if any(key in overrides for key in (label, upload_url)) or simple_rule_for(upload_url):
        return _simple_from(upload_url, overrides, label)
    with _DISCOVERED_LOCK:
        if upload_url in _DISCOVERED:
            return _DISCOVERED[upload_url]
    found = _ask_devpi(upload_url, timeout)
    if found is None:  # no answer now: the listing will say why; ask again next time
        return upload_url.rstrip("/") + "/simple/", GENERIC_RULE
    with _DISCOVERED_LOCK:
        _DISCOVERED[upload_url] = found
    return found


def _ask_devpi(upload_url: str, timeout: float) -> tuple[str, str] | None:
    """devpi's ``+simple/`` if the server says it is devpi, else the generic rule; None: no answer."""
    try:
        answer = fetch(
            upload_url.rstrip("/") + "/+api", timeout, accept="application/json", limit=_PROBE_LIMIT
        )
    except Unreadable:
        return None
    try:
        data = json.loads(answer.body) if answer.status == 200 else None
    except (ValueError, RecursionError):
        data = None
    result = data.get("result") if isinstance(data, dict) else None
    simple = result.get("simpleindex") if isinstance(result, dict) else None
    if not isinstance(simple, str) or not simple.rstrip("/").endswith("/+simple"):
        return upload_url.rstrip("/") + "/simple/", GENERIC_RULE
    # Built from the URL the user configured, not from the server's idea of its own address.
    return upload_url.rstrip("/") + "/+simple/", DEVPI_RULE


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
    except (ImportError, AttributeError, ValueError) as exc:  # PYTHON_KEYRING_BACKEND names nothing
        raise CredentialsError(
            f"the keyring backend cannot be loaded ({type(exc).__name__})",
            "fix PYTHON_KEYRING_BACKEND or keyringrc.cfg, or set "
            "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring to skip the keyring",
        ) from None


def _check_token_destination(password: str, upload_url: str, label: str, source: str) -> None:
    """A PyPI token only goes to the PyPI that issued it: TestPyPI never sees a live token."""
    expected = _TOKEN_HOSTS.get((urllib.parse.urlsplit(upload_url).hostname or "").lower())
    issuer = token_location(password) if expected else None
    if issuer is None or issuer == expected:
        return
    raise CredentialsError(
        f"the token for {label} (from {source}) was issued by {printable(issuer)[:40]}, not {expected}: "
        f"refusing to send it to {redact.scrub(upload_url)}",
        f"create a token on {expected} and put it in the [{label}] section of ~/.pypirc",
    )


def resolve_repository(
    target: str,
    *,
    simple_overrides: dict[str, str],
    pypirc: Path | None = None,
    environ: dict[str, str] | None = None,
    role: Literal["test", "live"] = "live",
    timeout: float = _DEFAULT_TIMEOUT,
) -> Repository:
    """Resolve a .pypirc section name or URL to a Repository with its credentials.

    Credentials come from the repository URL itself (``https://user:pw@host/``, taken out of the
    URL), then the role's environment variables (`ENV_CREDENTIALS`: TWINE_USERNAME/TWINE_PASSWORD
    for the live index only, RELEASEKIT_TEST_USERNAME/RELEASEKIT_TEST_PASSWORD for the test
    index), then the .pypirc section, then keyring. They may only travel over https or to a
    loopback address, and a PyPI-issued token only to the PyPI that issued it. Finding the simple
    index may ask the server once (see `discover_simple`), bounded by `timeout`.
    """
    environ = dict(os.environ) if environ is None else environ
    path = pypirc or pypirc_path()
    parser = read_pypirc(path)
    section: str | None = None
    if "://" in target:
        upload_url, url_user, url_password = split_credentials(target)
        label = upload_url
        section = next(
            (
                s
                for s in parser.sections()
                if parser.get(s, "repository", fallback="") in (target, upload_url)
            ),
            None,
        )
    else:
        aliases = [target] + (["testpypi", "pypitest"] if target in ("testpypi", "pypitest") else [])
        section = next((a for a in aliases if parser.has_section(a)), None)
        label = target
        if section is not None:
            configured = parser.get(section, "repository", fallback=BUILTIN.get(target, ""))
        elif target in BUILTIN:
            configured = BUILTIN[target]
        else:
            known = ", ".join(sorted(set(parser.sections()) - {"distutils"} | {"pypi", "testpypi"}))
            raise ConfigError(f"unknown repository '{target}'", f"use a URL or one of: {known}")
        if not configured:
            raise ConfigError(
                f"[{section}] in {path.name} has no repository URL", "add repository = https://..."
            )
        upload_url, url_user, url_password = split_credentials(configured)
    _check_url(upload_url)
    username, password, source = _credentials(
        upload_url, parser, section, environ, role, (url_user, url_password)
    )
    if password and not username:
        username = "__token__"
    redact.register(password, username)
    if password and urllib.parse.urlsplit(upload_url).scheme != "https" and not is_loopback(upload_url):
        raise CredentialsError(
            f"refusing to send credentials to {redact.scrub(upload_url)} over plain http",
            "use an https URL (only loopback addresses may use http)",
        )
    if password and source:
        _check_token_destination(password, upload_url, label, source)
    simple, rule = discover_simple(upload_url, simple_overrides, label, timeout)
    return Repository(label, upload_url, simple, username, password, source, rule)


def _check_url(upload_url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(upload_url)
        parts.port  # noqa: B018 (a port that is not a number raises here, not deep in http.client)
    except ValueError:
        raise ConfigError(  # not shown: a password with a raw "/" or "#" is where it breaks
            "a repository URL has an invalid host or port (not shown: it may hold a password)",
            "write it as https://host[:port]/path/ and percent-encode a password kept in it",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"repository URL '{printable(redact.scrub(upload_url))}' is not http(s)")


def _credentials(
    upload_url: str,
    parser: configparser.RawConfigParser,
    section: str | None,
    environ: dict[str, str],
    role: Literal["test", "live"],
    from_url: tuple[str | None, str | None],
) -> tuple[str | None, str | None, str | None]:
    """(username, password, source) by the documented order; see `resolve_repository`."""
    if from_url[1]:
        return from_url[0], from_url[1], "repository URL"
    user_var, password_var = ENV_CREDENTIALS[role]
    username = from_url[0] or environ.get(user_var) or None
    password = environ.get(password_var) or None
    if password:
        return username, password, "environment"
    if section is not None:
        username = username or parser.get(section, "username", fallback=None)
        password = parser.get(section, "password", fallback=None) or None
        if password:
            return username, password, ".pypirc"
    username, password = _keyring_credentials(upload_url, username)
    return username, password, "keyring" if password else None


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


def _read_index(
    repo: Repository, url: str, timeout: float, *, method: str = "GET", body: bool = True
) -> Answer:
    accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
    try:
        return fetch(url, timeout, accept=accept, method=method, body=body)
    except Unreadable as exc:
        hint = exc.hint
        if exc.unreachable:
            hint = f"check the network, the index and simple-index for {repo.label} in [tool.releasekit]"
            hint += ", then re-run the same command"
        raise PackageIndexError(
            f"{repo.label} index at {redact.scrub(repo.simple_url)} {exc.reason}", hint
        ) from None


def list_files(repo: Repository, project: str, timeout: float) -> dict[str, IndexFile]:
    """Every file the index holds for `project`, by file name; an unknown project is empty.

    The index is not trusted: the whole read is bounded by `timeout` and `PAGE_LIMIT`, and a
    malformed page or a file name with control characters is a PackageIndexError, never a
    traceback or a forged line of output.
    """
    url = urllib.parse.urljoin(repo.simple_url, canonicalize_name(project) + "/")
    answer = _read_index(repo, url, timeout)
    if answer.status == 404:
        return {}
    if answer.status >= 500:
        raise PackageIndexError(
            f"{repo.label} index is unavailable ({answer.status}) at {redact.scrub(repo.simple_url)}",
            "re-run the same command when it is back",
        )
    if not 200 <= answer.status < 300:
        raise PackageIndexError(
            f"{repo.label} index answered {answer.status} for {redact.scrub(url)}",
            "check the repository URL, or set simple-index for it in [tool.releasekit]",
        )
    files = _json_files(repo, project, answer) if "json" in answer.content_type else _html_files(answer)
    for entry in files.values():
        _check_entry(repo, project, entry)
    return files


def _json_files(repo: Repository, project: str, answer: Answer) -> dict[str, IndexFile]:
    def malformed(what: str) -> PackageIndexError:
        return PackageIndexError(
            f"{repo.label} index sent malformed PEP 691 JSON for {project} ({what})",
            "the index is broken: report it to its admins, or set simple-index for "
            f"{repo.label} in [tool.releasekit] to a working simple index",
        )

    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        raise malformed("not JSON") from None
    entries = data.get("files", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise malformed("no list of files")
    files: dict[str, IndexFile] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise malformed("a file entry that is not an object")
        filename, href, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes", {})
        if not (isinstance(filename, str) and filename and isinstance(href, str) and href):
            raise malformed("a file entry without a 'filename' or 'url' string")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        if not isinstance(hashes, dict) or not isinstance(sha256, str | None):
            raise malformed(f"'hashes' of {printable(filename)[:120]} is not a map of strings")
        uploaded = entry.get("upload-time")
        files[filename] = IndexFile(
            filename,
            sha256,
            urllib.parse.urljoin(answer.url, href),
            uploaded if isinstance(uploaded, str) else None,
        )
    return files


def _html_files(answer: Answer) -> dict[str, IndexFile]:
    parser = _LinkParser()
    parser.feed(answer.body.decode("utf-8", "replace"))
    files: dict[str, IndexFile] = {}
    for href, text in parser.links:
        absolute = urllib.parse.urljoin(answer.url, href)
        path, _, fragment = absolute.partition("#")
        filename = urllib.parse.unquote(path.rsplit("/", 1)[-1]) or text
        algo, _, digest = fragment.partition("=")
        files[filename] = IndexFile(filename, digest if algo == "sha256" else None, path)
    return files


def _check_entry(repo: Repository, project: str, entry: IndexFile) -> None:
    """Names and links from an index end up in messages and requests: refuse the unprintable."""
    for what, text in (("file name", entry.filename), ("link", urllib.parse.unquote(entry.url))):
        if not text.isprintable():
            raise PackageIndexError(
                f"{repo.label} index lists a {what} with control characters for {project}: "
                f"{printable(text)[:200]}",
                "the index is broken or hostile: have that file removed there, or use another index",
            )
    if urllib.parse.urlsplit(entry.url).scheme not in ("http", "https"):
        raise PackageIndexError(
            f"{repo.label} index links {printable(entry.filename)[:120]} to a non-http(s) URL",
            "the index is broken or hostile: have that file removed there, or use another index",
        )


def check_readable(repo: Repository, project: str, timeout: float) -> None:
    """Before the first upload: the simple index the release will confirm against must answer.

    A new project's page may be missing (404); then the index itself must answer. Otherwise an
    upload would land and its confirmation fail on a simple URL that was wrong from the start
    (devpi serves ``+simple/``, not ``simple/``) with the version burnt. HEAD requests only: the
    root listing of a big index is never downloaded.
    """
    page = urllib.parse.urljoin(repo.simple_url, canonicalize_name(project) + "/")
    for url in (page, repo.simple_url):
        answer = _read_index(repo, url, timeout, method="HEAD")
        if answer.status in (405, 501):  # a server without HEAD: headers of a GET, body unread
            answer = _read_index(repo, url, timeout, body=False)
        if 200 <= answer.status < 300:
            return
        if url == page and answer.status == 404:
            continue
        raise PackageIndexError(
            f"{repo.label} simple index does not answer at {redact.scrub(url)} ({answer.status})",
            f"set simple-index for {repo.label} in [tool.releasekit] to where it serves its simple pages",
        )


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
