"""What an index holds for a project, read from its simple API, and downloads of those files.

PEP 691 JSON or PEP 503 HTML with `#sha256=` fragments, so "already uploaded" means "the same
bytes are there". Every read is bounded in time and size (`bounded_http`).
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeAlias

from packaging.utils import canonicalize_name

from releasekit import redact
from releasekit.errors import PackageIndexError
from releasekit.indexes.bounded_http import USER_AGENT as _USER_AGENT
from releasekit.indexes.bounded_http import Answer, Unreadable, fetch
from releasekit.indexes.resolve import Repository
from releasekit.redact import printable


@dataclass(frozen=True)
class IndexFile:
    filename: str
    sha256: str | None
    url: str
    upload_time: str | None = None  # PEP 700 `upload-time`, when the index says


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


# How a transfer shows its progress: `progress(what, total_bytes)` opens a context whose value
# is `advance(nbytes)` (a Reporter's `progress`, passed down by the release steps). The default
# shows nothing.
Progress: TypeAlias = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]


def no_progress(what: str, total: int | None) -> AbstractContextManager[Callable[[int], None]]:
    """The Progress of a caller with nobody watching."""
    return nullcontext(_ignore)


def _ignore(nbytes: int) -> None:
    """Bytes moved, with nobody watching."""


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
    progress: Progress = no_progress,
) -> Path:
    """Fetch a file the index holds into `dest`, refusing it unless its sha256 is the expected one.

    The body streams to a temporary file inside `dest`, hashed as it arrives, so memory does not
    grow with the file. `timeout` bounds the whole request (connecting, headers and every read),
    not each read, so a server that trickles bytes cannot hold the release; `max_bytes` bounds
    its size. Only when the sha256 matches the listing's (and `expected_sha256`, when given) is
    the file renamed into place; on any failure or interrupt the temporary file is removed, so a
    partial download is never left where a later run would trust it. The bytes are reported to
    `progress` as they arrive, against the size the index announces.
    """
    import hashlib
    import tempfile
    import time

    _refuse_unsafe_listing(file)
    deadline = time.monotonic() + timeout
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix=f".{file.filename}.", suffix=".part", dir=dest)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:

            def keep(block: bytes) -> None:
                digest.update(block)
                out.write(block)

            with _download_errors(file, timeout):
                _stream(file, keep, deadline, max_bytes, progress)
        _check_digest(file, digest.hexdigest(), expected_sha256)
        target = dest / file.filename
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _refuse_unsafe_listing(file: IndexFile) -> None:
    """The name becomes a path in `dest` and the URL a request: no traversal, no hidden file, http(s) only."""
    if Path(file.filename).name != file.filename or file.filename.startswith("."):
        raise PackageIndexError(f"the index lists a file named {file.filename!r}, which is not a file name")
    if urllib.parse.urlsplit(file.url).scheme not in ("http", "https"):
        raise PackageIndexError(f"the index lists {file.filename} at a URL that is not http(s)")


@contextlib.contextmanager
def _download_errors(file: IndexFile, timeout: float) -> Iterator[None]:
    """Turn what a failed transfer raises into one PackageIndexError, telling a timeout apart.

    urllib, http.client and the socket each raise their own kind; the user needs to know only
    whether raising `timeout` could help, and that nothing partial was kept.
    """
    import http.client

    try:
        yield
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


def _check_digest(file: IndexFile, found: str, expected_sha256: str | None) -> None:
    """Only bytes whose sha256 is the listing's (and the recorded one, when given) are kept."""
    if file.sha256 and found != file.sha256:
        raise PackageIndexError(f"{file.filename} downloaded with a different sha256 than the index lists")
    if expected_sha256 and found != expected_sha256:
        raise PackageIndexError(
            f"{file.filename} downloaded with sha256 {found}, not the {expected_sha256} expected",
            "the index serves other bytes than the ones this release recorded: do not publish them",
        )


def _stream(
    file: IndexFile, sink: Callable[[bytes], None], deadline: float, max_bytes: int, progress: Progress
) -> None:
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
        announced = int(length) if length and length.isdigit() else None
        with progress(f"downloading {printable(file.filename)}", announced) as advance:
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
                advance(len(block))
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
