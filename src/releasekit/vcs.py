"""Everything git, through GitPython: state checks, commit, annotated tag, atomic push.

This is the only module that writes to git. Commands run with no terminal prompt and no editor,
and every network call (ls-remote, push) has a timeout. GitPython reports a rejected push in
`PushInfo` flags rather than raising, so `push` checks the flags and then asks the remote again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from releasekit import redact
from releasekit.errors import GitError

# Git must never wait on a person: no credential prompt, no editor, no pager.
# Reads take no optional locks: a read interrupted by Ctrl-C must never leave .git/index.lock.
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true", "GIT_PAGER": "cat", "GIT_ASKPASS": "echo",
    "GIT_OPTIONAL_LOCKS": "0",
}  # fmt: skip


@dataclass(frozen=True)
class RemoteState:
    """What the remote holds: branch heads and tags, tags peeled to their commits."""

    heads: dict[str, str]
    tags: dict[str, str]
    default_branch: str | None


def open_repo(project: Path) -> git.Repo:
    """Open the work tree that holds `project`, found upward (a package may live in a subfolder).

    Not inside a git work tree is a user error, not a traceback.
    """
    try:
        repo = git.Repo(project, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError) as exc:
        raise GitError(
            f"{project} is not inside a git work tree", "run releasekit in the project's folder, or git init"
        ) from exc
    if repo.bare:
        raise GitError(f"{project} is a bare repository", "run releasekit in a work tree")
    repo.git.update_environment(**_GIT_ENV, **_blanked_credentials())
    return repo


def _blanked_credentials() -> dict[str, str]:
    """Credential variables set empty for git: GitPython can add to git's environment, never
    remove from it, so an empty value is how TWINE_PASSWORD and the like stay out of hooks."""
    kept = redact.child_environ()
    return {key: "" for key in os.environ if key not in kept}


def _git(repo: git.Repo, *args: str, timeout: float | None = None) -> str:
    try:
        out: str = repo.git.execute(["git", *args], kill_after_timeout=timeout, with_extended_output=False)
    except GitCommandError as exc:
        detail = redact.scrub((exc.stderr or str(exc)).strip().replace("\n", " "))
        raise GitError(f"git {args[0]} failed: {detail.removeprefix('stderr: ').strip()[:300]}") from exc
    return out


def head_sha(repo: git.Repo) -> str:
    try:
        return repo.head.commit.hexsha
    except ValueError as exc:  # a repository without a commit yet
        raise GitError("the repository has no commit yet", "commit the project first (git commit)") from exc


def git_dir(repo: git.Repo, project: Path | None = None) -> Path:
    """Where releasekit keeps this project's journal: the git directory, or for a package in a
    subfolder of its repository a folder of its own under it, so members never share a journal."""
    base = Path(repo.git_dir)
    if project is None:
        return base
    prefix = _prefix(repo, project)
    return base if not prefix else base / "releasekit-members" / prefix.replace("/", "--")


def _prefix(repo: git.Repo, project: Path) -> str:
    root = Path(repo.working_dir).resolve()
    prefix = project.resolve().relative_to(root).as_posix()
    return "" if prefix == "." else prefix


def tracked_files(repo: git.Repo, project: Path) -> set[str]:
    """Paths git tracks under `project`, relative to it (what an sdist may contain)."""
    root = Path(repo.working_dir).resolve()
    prefix = project.resolve().relative_to(root).as_posix()
    names = _git(repo, "ls-files", "-z", "--full-name", "--", prefix or ".").split("\0")
    start = len(prefix) + 1 if prefix not in ("", ".") else 0
    return {n[start:] for n in names if n}


def current_branch(repo: git.Repo) -> str | None:
    """The checked-out branch, or None when HEAD is detached."""
    return None if repo.head.is_detached else repo.active_branch.name


def unclean_paths(repo: git.Repo, project: Path | None = None) -> tuple[list[str], list[str]]:
    """Tracked changes (staged or not) and untracked files that .gitignore does not cover.

    With `project`, only under it: a sibling package's work in a monorepo is not this release's.
    Paths are relative to the repository's root.
    """
    prefix = _prefix(repo, project) if project is not None else ""
    scope = ["--", prefix] if prefix else []
    out = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", *scope)
    changed, untracked = [], []
    entries = iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
        else:
            changed.append(path)
            if "R" in code or "C" in code:
                next(entries, None)  # a rename's second path
    return changed, untracked


def remote_url(repo: git.Repo, remote: str) -> str:
    try:
        return redact.scrub(repo.remote(remote).url)
    except ValueError as exc:
        raise GitError(
            f"no git remote named '{remote}'",
            f"add it: git remote add {remote} URL (or set [tool.releasekit] remote = ...)",
        ) from exc


def has_remote(repo: git.Repo, remote: str) -> bool:
    return remote in {r.name for r in repo.remotes}


def local_branches(repo: git.Repo) -> list[str]:
    return [h.name for h in repo.heads]


def read_remote(repo: git.Repo, remote: str, timeout: float) -> RemoteState:
    """Branch heads, tags and the default branch of the remote, in one call, without fetching."""
    heads: dict[str, str] = {}
    tags: dict[str, str] = {}
    default: str | None = None
    for line in _git(repo, "ls-remote", "--symref", remote, timeout=timeout).splitlines():
        sha, _, ref = line.partition("\t")
        if sha.startswith("ref: refs/heads/") and ref == "HEAD":
            default = sha.removeprefix("ref: refs/heads/")
        elif ref.startswith("refs/heads/"):
            heads[ref.removeprefix("refs/heads/")] = sha
        elif ref.startswith("refs/tags/"):
            name = ref.removeprefix("refs/tags/")
            if name.endswith("^{}"):
                tags[name[:-3]] = sha  # the peeled commit of an annotated tag wins
            else:
                tags.setdefault(name, sha)
    return RemoteState(heads, tags, default)


def contains(repo: git.Repo, ancestor: str, descendant: str = "HEAD") -> bool:
    """True when `ancestor` is known locally and reachable from `descendant`."""
    try:
        repo.git.merge_base("--is-ancestor", ancestor, descendant)
    except GitCommandError:
        return False
    return True


def local_tags(repo: git.Repo) -> dict[str, str]:
    """Local tag names -> the commit each one points to."""
    tags: dict[str, str] = {}
    for tag in repo.tags:
        try:
            tags[tag.name] = tag.commit.hexsha
        except ValueError:  # a tag of a non-commit object: never one of ours
            continue
    return tags


def merged_tags(repo: git.Repo) -> frozenset[str]:
    """The local tags whose commits HEAD contains: the releases of this branch's history."""
    return frozenset(line for line in _git(repo, "tag", "--merged", "HEAD").splitlines() if line)


def commit_files(repo: git.Repo, paths: list[Path], message: str) -> str:
    """Commit exactly these paths with git itself, so hooks and signing config apply.

    A path that no longer exists (a news fragment a changelog tool removed) is committed as removed.
    """
    rel = [os.path.relpath(p, repo.working_dir) for p in paths]
    present = [r for r, p in zip(rel, paths, strict=True) if p.exists()]
    gone = [r for r, p in zip(rel, paths, strict=True) if not p.exists()]
    if present:
        _git(repo, "add", "--", *present)
    if gone:
        _git(repo, "rm", "--cached", "--quiet", "--ignore-unmatch", "--", *gone)
    _git(repo, "commit", "--quiet", "--no-edit", "-m", message, "--", *rel)
    return head_sha(repo)


def create_tag(repo: git.Repo, name: str, message: str, commit: str = "HEAD") -> None:
    """An annotated tag: lightweight tags are skipped by --follow-tags and carry no date."""
    _git(repo, "tag", "--annotate", "-m", message, name, commit)


def parent(repo: git.Repo, sha: str) -> str | None:
    """The first parent of a commit, or None for a root commit or an unknown one."""
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{sha}^1^{{commit}}")).strip() or None
    except GitCommandError:
        return None


def delete_tag(repo: git.Repo, name: str) -> None:
    _git(repo, "tag", "--delete", name)


def restore(repo: git.Repo, paths: list[str]) -> None:
    """Put these work-tree paths back to HEAD's content (undoing an interrupted bump)."""
    _git(repo, "checkout", "HEAD", "--", *paths)


def reset_hard(repo: git.Repo, sha: str) -> None:
    """Undo this run's own bump commit; only called when the tree was clean before it."""
    _git(repo, "reset", "--quiet", "--hard", sha)


def push_dry_run(
    repo: git.Repo, remote: str, branch: str, tag: str, timeout: float, tag_source: str | None = None
) -> None:
    """Ask git whether branch and tag would both be accepted, before anything is published.

    Before the tag exists the probe offers HEAD's commit under the tag's name (`tag_source`
    names the local tag once it exists): an existing remote tag of that name, or a branch that
    is not a fast-forward, fails here.
    """
    refspecs = [f"HEAD:refs/heads/{branch}", f"{tag_source or head_sha(repo)}:refs/tags/{tag}"]
    try:
        _git(repo, "push", "--dry-run", "--atomic", "--porcelain", remote, *refspecs, timeout=timeout)
    except GitError as exc:
        raise GitError(
            f"{remote} would refuse the push of {branch} and {tag}: {exc.message.split(': ', 1)[-1]}",
            f"git pull {remote} {branch}, or remove a conflicting tag {tag} from {remote}, then re-run",
        ) from exc


def push(
    repo: git.Repo, remote: str, branch: str, tag: str, timeout: float, tag_commit: str | None = None
) -> None:
    """Push branch and tag in one atomic push and confirm the remote holds both.

    git itself runs the push (not GitPython's wrapper, which logs raw remote lines on its own),
    so every refusal comes back as one GitError.
    """
    head = head_sha(repo)
    tag_at = tag_commit or head
    refspecs = [f"HEAD:refs/heads/{branch}", f"refs/tags/{tag}:refs/tags/{tag}"]
    try:
        _git(repo, "push", "--atomic", "--porcelain", remote, *refspecs, timeout=timeout)
    except GitError as exc:
        raise GitError(f"git push to {remote} was refused: {exc.message.split(': ', 1)[-1]}") from exc
    state = read_remote(repo, remote, timeout)
    if state.heads.get(branch) != head or state.tags.get(tag) != tag_at:
        raise GitError(f"after the push, {remote} does not hold {branch} at {head[:10]} and {tag}")


def inside_work_tree(path: Path) -> bool:
    try:
        git.Repo(path, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return False
    return True


def init_and_commit(path: Path, message: str, identity: tuple[str, str] | None = None) -> str:
    """`git init` on main and commit every file: a new package's first commit.

    Where git has no user identity configured, `identity` (the package's author) signs it.
    """
    repo = git.Repo.init(path, initial_branch="main")
    repo.git.update_environment(**_GIT_ENV)
    if identity and not (config_value("user.name") and config_value("user.email")):
        name, email = identity
        email = email or "unknown@example.invalid"
        repo.git.update_environment(
            GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email
        )
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--no-edit", "-m", message)
    return head_sha(repo)


def config_value(key: str) -> str | None:
    """A value of the user's git config (e.g. user.name), for defaults; None when unset."""
    try:
        value: str = git.Git().config("--get", key)
    except GitCommandError:
        return None
    return value.strip() or None


def count_commits(repo: git.Repo, revision_range: str) -> int | None:
    """How many commits `a..b` holds; None when a side is not known locally."""
    try:
        return int(repo.git.rev_list("--count", revision_range))
    except (GitCommandError, ValueError):
        return None
