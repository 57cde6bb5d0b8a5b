"""The planner from constructed states: a pure function, so every resume rule is a table row."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasekit.config import Config
from releasekit.errors import GitError, PackageIndexError, ReleaseError, VersionError
from releasekit.indexes.credentials import IndexAccess
from releasekit.indexes.listing import IndexFile
from releasekit.indexes.resolve import Repository
from releasekit.release.journal import Record
from releasekit.release.model import Intent, StepName
from releasekit.release.plan import make_plan
from releasekit.release.state import IndexView, ReleaseState
from releasekit.vcs import RemoteState
from releasekit.versioning.declared import StaticPyprojectSource
from releasekit.versioning.literals import Literal

HEAD, PARENT, OTHER = "a" * 40, "b" * 40, "c" * 40
NAME = "demo"
WHEEL, SDIST = "demo-1.4.3-py3-none-any.whl", "demo-1.4.3.tar.gz"
BUILT = {WHEEL: "1" * 64, SDIST: "2" * 64}
TEST = Repository("testpypi", "http://127.0.0.1:1/", "http://127.0.0.1:1/simple/", "u", "p", ".pypirc")
LIVE = Repository("pypi", "http://127.0.0.1:2/", "http://127.0.0.1:2/simple/", "u", "q", ".pypirc")


def files(*names: str, sha: dict[str, str] = BUILT) -> dict[str, IndexFile]:
    return {n: IndexFile(n, sha[n], f"http://127.0.0.1/{n}") for n in names}


def state(
    *,
    version: str = "1.4.2",
    tags: dict[str, str] | None = None,
    remote_tags: dict[str, str] | None = None,
    remote_head: str = HEAD,
    test: dict[str, IndexFile] | None = None,
    live: dict[str, IndexFile] | None = None,
    records: dict[str, Record] | None = None,
    reachable: tuple[str, ...] = (HEAD, PARENT),
    parents: dict[str, str | None] | None = None,
    version_text: str | None = None,
) -> ReleaseState:
    return ReleaseState(
        project=Path("/nonexistent/project"),
        git_dir=Path("/nonexistent/project/.git"),
        name=NAME,
        source=StaticPyprojectSource(Literal(Path("/nonexistent/project/pyproject.toml"), 0, 0, version)),
        version_text=version_text or version,
        head=HEAD,
        branch="main",
        branches=("main",),
        changed=(),
        untracked=(),
        local_tags=tags or {},
        merged_tags=frozenset(t for t, sha in (tags or {}).items() if sha in reachable),
        remote=RemoteState({"main": remote_head}, remote_tags or {}, "main"),
        remote_error="",
        test=IndexView(IndexAccess(TEST), test or {}),
        live=IndexView(IndexAccess(LIVE), live or {}),
        records=records or {},
        stored={},
        reachable=frozenset(reachable),
        parents=parents or {HEAD: PARENT},
    )


def record(**values: object) -> dict[str, Record]:
    return {"1.4.3": Record(version="1.4.3", command=("release", "--bump", "patch", "--yes"), **values)}  # type: ignore[arg-type]


CONFIG = Config(changelog="")
BUMP = Intent(bump="patch", yes=True, command=("release", "--bump", "patch", "--yes"))

# (id, state, intent, version, steps that run)
ROWS = [
    ("fresh bump", state(), BUMP, "1.4.3", {"bump", "tag", "build", "check", "upload-test", "verify-test",
                                            "upload-live", "verify-live", "push"}),
    ("killed after the bump commit: resumed, not bumped again",
     state(version="1.4.3", records=record(bump_parent=PARENT, bump_commit=HEAD)), BUMP, "1.4.3",
     {"tag", "build", "check", "upload-test", "verify-test", "upload-live", "verify-live", "push"}),
    ("committed but killed before the journal noted it",
     state(version="1.4.3", records=record(bump_parent=PARENT)), BUMP, "1.4.3",
     {"tag", "build", "check", "upload-test", "verify-test", "upload-live", "verify-live", "push"}),
    ("killed the moment the tag reached origin: already released",
     state(version="1.4.3", tags={"v1.4.3": HEAD}, remote_tags={"v1.4.3": HEAD},
           test=files(WHEEL, SDIST), live=files(WHEEL, SDIST),
           records=record(bump_commit=HEAD, tag="v1.4.3", tag_commit=HEAD, artifacts=BUILT,
                          uploads={"pypi": {WHEEL: "uploaded", SDIST: "uploaded"}}, pushing=True)),
     BUMP, "1.4.3", set()),
    ("killed after the journal closed the release, then the same --bump: still nothing to do",
     state(version="1.4.3", tags={"v1.4.3": HEAD}, remote_tags={"v1.4.3": HEAD},
           test=files(WHEEL, SDIST), live=files(WHEEL, SDIST),
           records={"1.4.3": Record(version="1.4.3", closed="finished", artifacts=BUILT,
                                    command=("release", "--bump", "patch", "--yes"))}),
     BUMP, "1.4.3", set()),
    ("released by another command (rc -> final without new commits): the bump goes on",
     state(version="1.4.3", tags={"v1.4.3": HEAD}, remote_tags={"v1.4.3": HEAD},
           test=files(WHEEL, SDIST), live=files(WHEEL, SDIST),
           records={"1.4.3": Record(version="1.4.3", closed="finished", artifacts=BUILT,
                                    command=("release", "--bump", "pre", "--yes"))}),
     BUMP, "1.4.4", {"bump", "tag", "build", "check", "upload-test", "verify-test", "upload-live",
                     "verify-live", "push"}),
    ("published live, push refused, then a pull: only the push remains (files fetched back to check)",
     state(version="1.4.3", tags={"v1.4.3": PARENT}, test=files(WHEEL, SDIST), live=files(WHEEL, SDIST),
           records=record(bump_commit=PARENT, tag="v1.4.3", tag_commit=PARENT, artifacts=BUILT,
                          uploads={"pypi": {WHEEL: "uploaded", SDIST: "uploaded"}},
                          verified=("testpypi " + " ".join(sorted(BUILT.values())),
                                    "pypi " + " ".join(sorted(BUILT.values())))),
           remote_head=OTHER, reachable=(HEAD, PARENT, OTHER)),
     BUMP, "1.4.3", {"download", "check", "push"}),
    ("artifacts gone after --test: fetched back, checked against the recorded sha256",
     state(version="1.4.3", tags={"v1.4.3": HEAD}, test=files(WHEEL, SDIST),
           records=record(bump_commit=HEAD, tag="v1.4.3", tag_commit=HEAD, artifacts=BUILT, tested=True,
                          uploads={"testpypi": {WHEEL: "uploaded", SDIST: "uploaded"}})),
     Intent(yes=True), "1.4.3", {"download", "check", "verify-test", "upload-live", "verify-live", "push"}),
    ("tested, then HEAD moved on: the next version, the tested one stays on the test index",
     state(version="1.4.3", tags={"v1.4.3": PARENT}, test=files(WHEEL, SDIST),
           records=record(bump_commit=PARENT, tag="v1.4.3", tag_commit=PARENT, artifacts=BUILT, tested=True,
                          uploads={"testpypi": {WHEEL: "uploaded", SDIST: "uploaded"}})),
     BUMP, "1.4.4", {"bump", "tag", "build", "check", "upload-test", "verify-test", "upload-live",
                     "verify-live", "push"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "observed", "intent", "expected", "running"), ROWS, ids=[r[0] for r in ROWS]
)
def test_plan_table(case, observed, intent, expected, running):
    plan = make_plan(observed, CONFIG, intent)
    assert plan.version == expected
    assert {s.name.value for s in plan.steps if s.run} - {"post-release"} == running
    assert all(s.why for s in plan.steps)  # every decision says why


def test_the_push_of_a_resumed_release_tags_its_release_commit_not_head():
    row = next(r for r in ROWS if r[0].startswith("published live, push refused"))
    plan = make_plan(row[1], CONFIG, BUMP)
    assert plan.tag_commit == PARENT and plan.resumed and not plan.bump


REFUSALS = [
    ("index copy altered: not the bytes built",
     state(version="1.4.3", tags={"v1.4.3": HEAD},
           test=files(WHEEL, SDIST, sha={WHEEL: "9" * 64, SDIST: BUILT[SDIST]}),
           records=record(tag="v1.4.3", tag_commit=HEAD, artifacts=BUILT, tested=True,
                          uploads={"testpypi": {WHEEL: "uploaded", SDIST: "uploaded"}})),
     Intent(yes=True), PackageIndexError, "nor on an index with the bytes built"),
    ("no record of the bytes: nothing is fetched back",
     state(version="1.4.3", tags={"v1.4.3": HEAD}, test=files(WHEEL, SDIST)),
     Intent(yes=True), PackageIndexError, "no record of the bytes it built"),
    ("a new version while one is published but untagged",
     state(version="1.4.3", tags={"v1.4.3": PARENT}, live=files(WHEEL, SDIST),
           records=record(tag="v1.4.3", tag_commit=PARENT, artifacts=BUILT,
                          uploads={"pypi": {WHEEL: "uploaded"}})),
     Intent(new_version="2.0.0", yes=True), VersionError, "cannot start before it ends"),
    ("published from a commit this branch lacks",
     state(version="1.4.3", live=files(WHEEL, SDIST), reachable=(HEAD,),
           records=record(tag="v1.4.3", tag_commit=OTHER, artifacts=BUILT,
                          uploads={"pypi": {WHEEL: "uploaded"}})),
     BUMP, GitError, "which this branch does not contain"),
    ("behind the remote", state(remote_head=OTHER, reachable=(HEAD,)), BUMP, GitError, "is behind"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "observed", "intent", "error", "text"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_plan_refusals(case, observed, intent, error, text):
    with pytest.raises(error) as caught:
        make_plan(observed, CONFIG, intent)
    assert isinstance(caught.value, ReleaseError) and text in str(caught.value)


def test_dry_run_json_names_every_step():
    plan = make_plan(state(), CONFIG, BUMP)
    steps = plan.as_dict(NAME)["steps"]
    assert isinstance(steps, list)
    assert [s["name"] for s in steps] == [n.value for n in StepName]
    assert all({"run", "why", "phase"} <= set(s) for s in steps)


def test_adding_files_to_a_release_older_than_14_days_is_refused_where_pypi_rules_apply():
    import datetime

    from releasekit.errors import PyPIRulesError

    old = {WHEEL: IndexFile(WHEEL, BUILT[WHEEL], f"http://127.0.0.1/{WHEEL}", "2026-11-01T10:00:00Z")}
    observed = state(
        version="1.4.3", tags={"v1.4.3": HEAD}, test=files(WHEEL, SDIST), live=old,
        records=record(tag="v1.4.3", tag_commit=HEAD, artifacts=BUILT,
                       uploads={"pypi": {WHEEL: "uploaded"},
                                "testpypi": {WHEEL: "uploaded", SDIST: "uploaded"}}),
    )  # fmt: skip
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    with pytest.raises(PyPIRulesError, match="bump the version"):
        make_plan(observed, Config(changelog="", pypi_rules=True), BUMP, now=now)
    plan = make_plan(observed, Config(changelog="", pypi_rules=False), BUMP, now=now)  # a private index
    assert plan.will(StepName.UPLOAD_LIVE)


def test_a_maintenance_release_below_a_newer_series_on_another_branch_or_the_index_goes_on():
    newer = {"v2.0.0": OTHER, "v1.4.2": PARENT}  # 2.0.0 was tagged on main; this is the 1.4 branch
    plan = make_plan(state(tags=newer), CONFIG, BUMP)
    assert plan.version == "1.4.3"
    assert any("below 2.0.0" in note and "maintenance release" in note for note in plan.notes)
    wheel = "demo-3.0.0-py3-none-any.whl"
    on_index = {wheel: IndexFile(wheel, "3" * 64, f"http://127.0.0.1/{wheel}")}
    plan = make_plan(state(tags={"v1.4.2": PARENT}, live=on_index), CONFIG, BUMP)
    assert plan.version == "1.4.3" and any("below 3.0.0" in note for note in plan.notes)
    with pytest.raises(VersionError, match=r"not greater than the last released one \(2\.0\.0\)"):
        make_plan(state(tags={"v2.0.0": PARENT}), CONFIG, BUMP)  # on this branch: refused


def test_moving_major_and_minor_tags_are_not_releases():
    tags = {"v1.4.2": PARENT, "v1.4": PARENT, "v1": PARENT, "latest": PARENT}
    plan = make_plan(state(tags=tags), CONFIG, BUMP)
    assert plan.version == "1.4.3" and plan.tag == "v1.4.3"


def test_a_local_marker_between_releases_is_dropped_by_a_bump_and_never_hinted_back():
    plan = make_plan(state(version_text="1.4.2+dev", tags={"v1.4.2": PARENT}), CONFIG, BUMP)
    assert plan.version == "1.4.3" and plan.current_version == "1.4.2"
    assert any("local marker" in note for note in plan.notes)
    with pytest.raises(VersionError) as caught:
        make_plan(state(version_text="1.4.2+dev", tags={"v1.4.2": PARENT}), CONFIG, Intent(yes=True))
    assert "--bump patch releases 1.4.3" in str(caught.value) and "release 1.4.2" not in str(caught.value)
