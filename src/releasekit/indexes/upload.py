"""twine, in-process: `twine check` (errors stop the release, warnings are shown), then confirmed uploads.

twine's own upload loop has no network timeout, retries a 5xx without backoff and never asks
whether a file landed; so each file goes up alone with twine's single-attempt upload, under a
timeout, and every doubtful outcome (5xx, dropped connection, timeout, "file exists") is settled
by reading the index: identical sha256 is success, other bytes stop the release.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from releasekit import redact
from releasekit.dists.artifact import Artifact
from releasekit.errors import BuildError, BurntError, CredentialsError, PackageIndexError, UploadError
from releasekit.indexes import listing
from releasekit.indexes.resolve import Repository

if TYPE_CHECKING:
    from twine.package import PackageFile


@dataclass(frozen=True)
class UploadResult:
    filename: str
    outcome: str  # "uploaded" | "present" (already there with the same bytes)
    seconds: float


@contextlib.contextmanager
def _captured(*logger_names: str, log: io.StringIO | None = None) -> Iterator[io.StringIO]:
    """Collect what twine prints (rich) and logs, so only our own lines reach the user.

    With `log`, what the loggers say goes there and what is printed to the returned buffer.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer if log is None else log)
    loggers = [logging.getLogger(n) for n in logger_names]
    saved = [(lg.handlers[:], lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate


def preload() -> threading.Thread:
    """Import twine and requests in the background, while the build waits on its backend.

    They cost ~0.1 s to import and are needed only from the check step on; the build spends
    that time waiting on subprocesses, so the import overlaps it instead of adding to it.
    Nothing else imports them early: `invoke --list` and `status` never pay for them.
    """

    def load() -> None:
        import requests  # noqa: F401
        import twine.commands.check
        import twine.package
        import twine.repository  # noqa: F401

    thread = threading.Thread(target=load, name="releasekit-preload", daemon=True)
    thread.start()
    return thread


def check(artifacts: Sequence[Artifact], *, strict: bool = False) -> list[str]:
    """`twine check`, file by file: an error (the description would not render on PyPI) stops the
    release; a warning is returned to be shown, as PyPI accepts the file (`strict`: it stops too).

    Each file is checked on its own, so every message names its file whole, as releasekit knows
    it, never as twine wrapped it.
    """
    from twine.commands.check import check as twine_check

    warnings: list[str] = []
    for art in artifacts:
        log = io.StringIO()
        with _captured("twine", log=log):
            failed = twine_check([str(art.path)], strict=False)
        said = [ln.strip() for ln in log.getvalue().splitlines() if ln.strip()]
        text = redact.printable(redact.scrub(" ".join(said)))[:300] or "see twine check"
        if failed:
            raise BuildError(
                f"twine check failed for {art.filename}: {text}",
                "fix the package metadata (README, description content type), then re-run",
            )
        if said and strict:
            raise BuildError(
                f"twine check --strict failed for {art.filename}: {text}",
                "fix the warning, or set strict-check = false in [tool.releasekit] to release with it",
            )
        warnings += [f"twine check: {art.filename}: {redact.printable(redact.scrub(line))}" for line in said]
    return warnings


def _same_bytes(repo: Repository, art: Artifact, timeout: float) -> bool | None:
    """True/False when the index has the file; None when it does not list it."""
    listed = listing.list_files(repo, art.name, timeout).get(art.filename)
    if listed is None:
        return None
    return listed.sha256 == art.sha256


def _burnt(repo: Repository, art: Artifact) -> BurntError:
    return BurntError(
        f"{repo.label} already holds {art.filename} with different bytes (sha256 differs)",
        "on a private index delete that file; on PyPI the version is burnt: bump the version",
    )


def upload(
    repo: Repository,
    art: Artifact,
    *,
    timeout: float,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    new_project: bool = False,
    check_first: bool = True,
    progress: listing.Progress = listing.no_progress,
) -> UploadResult:
    """Upload one file; every doubtful outcome is settled by what the index lists.

    `check_first=False` skips the look-up before the first attempt, for callers that have just
    read the index; `confirm` afterwards proves the bytes landed. Each attempt reports the
    file's bytes to `progress` as they go out, adding up to the file's size when it is sent.
    """
    from twine.package import PackageFile

    start = time.monotonic()
    present = _same_bytes(repo, art, timeout) if check_first else None
    if present:
        return UploadResult(art.filename, "present", time.monotonic() - start)
    if present is False:
        raise _burnt(repo, art)
    # Made once: it hashes the whole file (sha256 and blake2b, in blocks), a second per GB.
    with _captured("twine"):
        package = PackageFile.from_filename(str(art.path), comment=None)
    last = ""
    for attempt in range(1, attempts + 1):
        what = f"uploading {art.filename} to {repo.label}"
        what += f" (attempt {attempt} of {attempts})" if attempt > 1 else ""
        with progress(what, art.size) as advance:
            status, reason = _post(repo, package, timeout, art.size, advance)
        if status == 200:
            return UploadResult(art.filename, "uploaded", time.monotonic() - start)
        last = f"{status} {reason}" if status else reason
        _refuse_credentials(repo, art, status, reason, new_project=new_project)
        # Whatever happened, the index may hold the file now: ask it before deciding.
        try:
            present = _same_bytes(repo, art, timeout)
        except PackageIndexError:
            present = None  # the index is briefly unreadable too: unknown, so back off and retry
            last += "; the index could not be read"
        if present:
            return UploadResult(art.filename, "uploaded", time.monotonic() - start)
        _raise_unless_retryable(repo, art, status, reason, last, present)
        if attempt < attempts:
            sleep(min(30.0, 2 ** (attempt - 1)) * (0.5 + random.random() / 2))  # noqa: S311 (jitter)
    raise UploadError(
        f"uploading {art.filename} to {repo.label} failed after {attempts} attempts ({redact.scrub(last)})",
        "nothing is lost: re-run the same command when the index is back",
    )


def _post(
    repo: Repository, package: PackageFile, timeout: float, size: int, advance: Callable[[int], None]
) -> tuple[int, str]:
    """One single-attempt POST through twine: (HTTP status, reason), or (0, error name) without one.

    A dropped connection or a timeout is not an error here but an outcome like a 5xx: the caller
    settles it by reading the index. twine's own output is kept from the user.
    """
    import requests
    from twine.repository import Repository as TwineRepository

    with _captured("twine"):
        # twine's own bar would draw on its own console: ours is the reporter's.
        twine_repo = TwineRepository(repo.upload_url, repo.username, repo.password, disable_progress_bar=True)
        _instrument(twine_repo.session, timeout, size, advance)
        try:
            response = twine_repo.upload(package, max_redirects=1)
            return response.status_code, response.reason
        except (requests.ConnectionError, requests.Timeout) as exc:
            return 0, type(exc).__name__
        finally:
            twine_repo.close()


def _refuse_credentials(
    repo: Repository, art: Artifact, status: int, reason: str, *, new_project: bool
) -> None:
    """A 401/403 will not change on retry: stop, naming the likelier cause for a new project."""
    if status == 403 and new_project:
        raise CredentialsError(
            f"{repo.label} refused the first upload of {art.name} ({status} {reason})",
            "the name may belong to another project (names compare normalised: my_pkg is my-pkg), "
            "or the token is scoped to another project: a first upload needs an account-wide token",
        )
    if status in (401, 403):
        raise CredentialsError(
            f"{repo.label} refused the credentials ({status} {reason}) uploading {art.filename}",
            f"check the token for {repo.label} in ~/.pypirc or TWINE_PASSWORD, then re-run",
        )


def _raise_unless_retryable(
    repo: Repository, art: Artifact, status: int, reason: str, last: str, present: bool | None
) -> None:
    """After a failed attempt and a read of the listing: stop when no retry can help.

    `present` is False when other bytes hold the name (burnt), None when the file is not listed or
    the listing was unreadable. A 4xx the listing does not explain is final too; a 5xx or a
    dropped connection returns, so the caller backs off and tries again.
    """
    if present is False:
        raise _burnt(repo, art)
    if status in (400, 409) and "exist" in reason.lower():
        raise BurntError(
            f"{repo.label} says {art.filename} already exists, but does not list it",
            "if it appears there shortly, re-run; otherwise the file name was used before "
            "(PyPI never reuses a deleted file's name): bump the version",
        )
    if 400 <= status < 500:
        raise UploadError(
            f"{repo.label} refused {art.filename}: {redact.scrub(last)}",
            "fix what the index objects to, then re-run the same command",
        )


def confirm(repo: Repository, artifacts: Sequence[Artifact], timeout: float) -> None:
    """The index lists every artifact with the same sha256: the upload really landed, unaltered."""
    listed = listing.list_files(repo, artifacts[0].name, timeout)
    for art in artifacts:
        entry = listed.get(art.filename)
        if entry is None:
            raise UploadError(
                f"{repo.label} accepted {art.filename} but does not list it",
                "the index may be slow to update: re-run the same command in a minute",
            )
        if entry.sha256 != art.sha256:
            raise _burnt(repo, art)


def _instrument(session: object, timeout: float, size: int, advance: Callable[[int], None]) -> None:
    """Give every request of twine's session a timeout, and report the upload's progress.

    twine posts without a timeout. It sends the file inside a multipart body read through a
    requests_toolbelt `MultipartEncoderMonitor`, whose `callback` runs after every read (that
    is how twine drives its own bar): ours is chained to it. The body is the file plus a few
    hundred bytes of metadata, so its progress is scaled to the file's size; the reports never
    pass that size and reach it exactly when the whole body has gone out.
    """
    from requests_toolbelt import MultipartEncoderMonitor

    original = session.request  # type: ignore[attr-defined]
    reported = 0

    def watch(monitor: MultipartEncoderMonitor, twines: Callable[[object], None]) -> None:
        nonlocal reported
        twines(monitor)
        done = size * monitor.bytes_read // max(monitor.len, 1)
        if done > reported:
            advance(done - reported)
            reported = done

    def request(method: str, url: str, **kwargs: object) -> object:
        kwargs.setdefault("timeout", timeout)
        body = kwargs.get("data")
        if isinstance(body, MultipartEncoderMonitor):
            body.callback = functools.partial(watch, twines=body.callback)
        return original(method, url, **kwargs)

    session.request = request  # type: ignore[attr-defined]
