"""Carry out a release plan, step by step, in the order that makes it safe.

Before the first byte reaches an index, a failure rolls back what this run did locally (bump
commit, tag, artifacts). After it, nothing is deleted: the error says what is done and that
running the same command again finishes the job, which the planner then detects.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import changelog, dists, indexes, journal, publish, pypirules, redact, vcs, verify, version
from .config import Config
from .dists import Artifact
from .errors import BurntError, Interrupted, PackageIndexError, ReleaseError
from .indexes import Repository
from .plan import Options, Plan
from .report import Reporter


@dataclass
class Summary:
    """What went where: printed at the end, and as JSON with --json."""

    name: str
    version: str
    tag: str
    commit: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    destinations: list[dict[str, Any]] = field(default_factory=list)
    pushed: bool = False
    remote: str = ""
    complete: bool = False
    release_notes: str = ""
    next_version: str = ""  # the .dev0 the files moved on to (post-release = "dev")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "tag": self.tag,
            "commit": self.commit,
            "files": self.files,
            "destinations": self.destinations,
            "pushed": self.pushed,
            "remote": self.remote,
            "complete": self.complete,
            "release_notes": self.release_notes,
            "next_version": self.next_version,
        }


class _Run:
    """One execution of a plan, remembering what it changed so it can undo it."""

    def __init__(self, plan: Plan, config: Config, options: Options, reporter: Reporter) -> None:
        self.plan, self.config, self.options, self.reporter = plan, config, options, reporter
        self.repo = vcs.open_repo(plan.project)
        self.git_dir = vcs.git_dir(self.repo)
        self.journal = journal.load(self.git_dir)
        self.orig_head = plan.head
        self.bumped = False
        self.tagged = False
        self.built_dir: Path | None = None
        self.published = bool(plan.test_files or plan.live_files)
        self.artifacts: list[Artifact] = list(plan.artifacts)
        self.summary = Summary(
            plan.name, plan.version, plan.tag, remote=plan.remote, release_notes=plan.release_notes
        )

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[list[str]]:
        """Time a step and report it; the yielded list lets the step refine its detail line."""
        if not self.plan.will(name):
            why = next(s.why for s in self.plan.steps if s.name == name)
            self.reporter.step(name, "skipped", why)
            yield []
            return
        start = time.monotonic()
        extra: list[str] = [detail] if detail else []
        try:
            yield extra
        except BaseException:
            self.reporter.step(name, "failed", " ".join(extra), time.monotonic() - start)
            raise
        self.reporter.step(name, "done", " ".join(extra), time.monotonic() - start)
        self.journal.record_step(self.plan.version, name)

    # -- local steps (undone on failure before any upload) ------------------------------------

    def bump(self) -> None:
        """The release commit: the new version in the files and the changelog rolled forward."""
        with self.step("bump") as detail:
            if not self.plan.will("bump"):
                return
            changed: list[Path] = []
            self.bumped = True  # from here on, a rollback resets to the original HEAD
            if self.plan.bump:
                source = version.read_version(self.plan.project)
                changed += version.write_version(self.plan.project, source, self.plan.version)
            if self.plan.roll_changelog and self.plan.changelog is not None:
                today = datetime.date.today().isoformat()
                changelog.roll(self.plan.changelog, self.plan.version, today, self.config.tag_format)
                changed.append(self.plan.changelog)
            message = self.config.commit_message.format(version=self.plan.version)
            commit = vcs.commit_files(self.repo, list(changed), message)
            self.journal.record(self.plan.version, "bump_commit", commit)
            self.journal.record(self.plan.version, "bump_parent", self.orig_head)
            detail.append(next(s.why for s in self.plan.steps if s.name == "bump") + ", committed")

    def tag(self) -> None:
        with self.step("tag") as detail:
            if not self.plan.will("tag"):
                return
            vcs.create_tag(
                self.repo, self.plan.tag, self.config.tag_message.format(version=self.plan.version)
            )
            self.tagged = True
            detail.append(f"{self.plan.tag} at {vcs.head_sha(self.repo)[:10]}")

    def build(self) -> None:
        with self.step("build") as detail:
            self._obtain_artifacts(detail)
        for art in self.artifacts:
            self.reporter.note(f"  {art.filename}  {art.size:,} bytes  sha256 {art.sha256}")
        self.journal.record(self.plan.version, "artifacts", {a.filename: a.sha256 for a in self.artifacts})
        self.journal.record(self.plan.version, "commit", vcs.head_sha(self.repo))
        self.summary.files = [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256, "path": str(a.path)}
            for a in self.artifacts
        ]

    def _obtain_artifacts(self, detail: list[str]) -> None:
        """Reuse the stored artifacts, download the verified ones, or build new ones."""
        store = journal.artifacts_dir(self.git_dir, self.plan.version)
        if self.artifacts:
            return
        if self.plan.test_files:
            self.artifacts = self._download(store)
            detail.append(f"downloaded from {self.plan.test.label}")
            return
        shutil.rmtree(store, ignore_errors=True)  # leftovers of a release that was rolled back
        store.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{self.plan.version}-", dir=store.parent))
        try:
            dists.build_dists(self.plan.project, fresh / "dist", warn=self.reporter.warn)
            (fresh / "dist").rename(store)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
        self.built_dir = store
        self.artifacts = dists.collect(store)
        detail.append(f"{len(self.artifacts)} files")

    def _download(self, store: Path) -> list[Artifact]:
        store.mkdir(parents=True, exist_ok=True)
        for entry in self.plan.test_files.values():
            if not (store / entry.filename).exists():
                indexes.download(entry, store, self.config.timeout)
        artifacts = dists.collect(store)
        for art in artifacts:
            if art.sha256 != self.plan.test_files[art.filename].sha256:
                raise PackageIndexError(
                    f"{art.filename} from {self.plan.test.label} does not match its listing"
                )
        return artifacts

    def check(self) -> None:
        with self.step("check"):
            dists.check_consistency(self.artifacts, self.plan.name, self.plan.version)
            dists.check_contents(self.artifacts, vcs.tracked_files(self.repo, self.plan.project))
            publish.check(self.artifacts)
            urls = [self.plan.test.upload_url, self.plan.live.upload_url]
            if pypirules.applies(self.config.pypi_rules, urls):  # PyPI's 400s, before any upload
                pypirules.check(self.artifacts)
        self.summary.commit = vcs.head_sha(self.repo)

    # -- publishing (never undone) ------------------------------------------------------------

    def upload(self, step: str, repo: Repository) -> None:
        destination: dict[str, Any] = {
            "index": repo.label,
            "upload_url": redact.scrub(repo.upload_url),
            "simple_url": redact.scrub(repo.simple_url),
            "files": {},
            "verified": False,
        }
        self.summary.destinations.append(destination)
        with self.step(step, repo.label) as detail:
            if not self.plan.will(step):
                destination["files"] = {a.filename: "present" for a in self.artifacts}
                return
            held = self.plan.test_files if repo is self.plan.test else self.plan.live_files
            for art in self.artifacts:  # wheels first: collect() orders them so
                if art.filename in held:  # the plan found it there with these very bytes
                    destination["files"][art.filename] = "present"
                    continue
                self.published = True  # from here on an upload may have landed
                new = repo.label in self.plan.new_on
                result = publish.upload(
                    repo, art, timeout=self.config.timeout, new_project=new, check_first=False
                )
                destination["files"][art.filename] = result.outcome
                self.journal.record_upload(self.plan.version, repo.label, art.filename, result.outcome)
                self.reporter.note(f"  {result.outcome} {art.filename} ({result.seconds:.1f}s)")
            publish.confirm(repo, self.artifacts, self.config.timeout)
            counts = list(destination["files"].values())
            detail.append(f"{counts.count('uploaded')} uploaded, {counts.count('present')} already there")

    def verify(self, step: str, repo: Repository) -> None:
        destination = self.summary.destinations[-1]
        key = f"{repo.simple_url} " + " ".join(sorted(a.sha256 for a in self.artifacts))
        with self.step(step) as detail:
            if not self.plan.will(step):
                return
            if self.journal.verified(self.plan.version, key):
                detail.append("verified by an earlier run")
                destination["verified"] = True
                return
            wheel = next(a for a in self.artifacts if a.kind == "wheel")
            requires = dists.read_metadata(wheel).get_all("Requires-Dist") or []
            result = verify.verify_install(
                name=self.plan.name,
                version=self.plan.version,
                index_url=repo.simple_url,
                dependencies=[str(r) for r in requires],
                dependency_index_url=self.plan.live.simple_url,
                modules=dists.top_level_modules(wheel),
                timeout=self.config.timeout * 5,
            )
            self.journal.record_verified(self.plan.version, key)
            destination["verified"] = True
            detail.append(f"{self.plan.name}=={result.version} imports {', '.join(result.modules)}")

    def push(self) -> None:
        with self.step("push") as detail:
            if self.plan.will("push"):
                vcs.push(self.repo, self.plan.remote, self.plan.branch, self.plan.tag, self.config.timeout)
                detail.append(f"{self.plan.branch} and {self.plan.tag} to {self.plan.remote}")
        self.summary.pushed = True

    def post_release(self) -> None:
        """Move the files on to the next .dev0, so they never claim a released version.

        The release is complete by now: a config that cannot write the dev version is a warning
        (every file restored), never a failure of the release.
        """
        if self.config.post_release != "dev":
            return
        start = time.monotonic()
        target = version.next_dev(self.plan.version)
        try:
            source = version.read_version(self.plan.project)
            changed = version.write_version(self.plan.project, source, target)
            vcs.commit_files(self.repo, list(changed), f"Start {target}")
        except ReleaseError as exc:
            self.reporter.warn(f"post-release bump to {target} skipped: {exc}")
            return
        self.summary.next_version = target
        self.reporter.step("post-release", "done", f"{target} committed (push it with your next work)",
                           time.monotonic() - start)  # fmt: skip

    def rollback(self) -> list[str]:
        """Undo this run's local changes; only ever called before anything was uploaded."""
        undone = []
        if self.tagged:
            vcs.delete_tag(self.repo, self.plan.tag)
            undone.append(f"tag {self.plan.tag}")
        if self.bumped:
            vcs.reset_hard(self.repo, self.orig_head)
            undone.append(f"bump to {self.plan.version}")
        if self.built_dir is not None:
            shutil.rmtree(self.built_dir, ignore_errors=True)
        return undone


def execute(plan: Plan, config: Config, options: Options, reporter: Reporter) -> Summary:
    """Run every step of the plan; on failure, roll back or say how to finish."""
    run = _Run(plan, config, options, reporter)
    run.journal.record(plan.version, "started", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    try:
        run.bump()
        run.tag()
        run.build()
        run.check()
        run.upload("upload-test", plan.test)
        run.verify("verify-test", plan.test)
        if not plan.test_only:
            run.upload("upload-live", plan.live)
            run.verify("verify-live", plan.live)
            run.push()
    except (ReleaseError, KeyboardInterrupt) as exc:
        raise _explain(run, exc) from exc
    run.summary.complete = not plan.test_only
    run.journal.record(plan.version, "finished" if not plan.test_only else "tested", True)
    if not plan.test_only:
        run.post_release()
    return run.summary


def _explain(run: _Run, exc: BaseException) -> ReleaseError:
    """The same error, with what state the release is in and how to go on."""
    base = (
        exc
        if isinstance(exc, ReleaseError)
        else Interrupted(f"interrupted during the release of {run.plan.version}")
    )
    if not run.published:
        undone = run.rollback()
        hint = "nothing was published" + (f"; rolled back {', '.join(undone)}" if undone else "")
        return type(base)(base.message, f"{base.hint}; {hint}" if base.hint else hint)
    done = [
        f"{d['index']}: {sum(1 for o in d['files'].values() if o in ('uploaded', 'present'))} file(s)"
        for d in run.summary.destinations
        if d["files"]
    ]
    so_far = f"done so far: {', '.join(done)}" if done else "no file is confirmed on an index yet"
    if isinstance(base, BurntError):
        state = f"{so_far}; nothing else was published"
    elif "re-run" in (base.hint or ""):
        state = so_far
    else:
        state = f"{so_far}; re-run the same command to finish"
    return type(base)(base.message, f"{base.hint}; {state}" if base.hint else state)
