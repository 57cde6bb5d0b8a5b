"""What PyPI's upload endpoint would refuse, refused here before the first file goes anywhere.

A release that passes a private or test index and then gets a 400 from PyPI stops half-way:
the test index holds files the live one never will. So, when the rules apply, the artifacts are
held to the checks of warehouse's upload view (`warehouse/forklift/legacy.py`) and its metadata
rules (`warehouse/forklift/metadata.py`) while nothing is published yet. The platform tables are
copied from legacy.py and must follow it when PyPI admits a new platform.
"""

from __future__ import annotations

import datetime
import email.message
import re
import tarfile
import urllib.parse
import zipfile
from collections.abc import Sequence

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from releasekit.dists import artifact
from releasekit.dists.artifact import Artifact
from releasekit.errors import PyPIRulesError

MAX_FILE_SIZE = 100 * 1024 * 1024  # warehouse.constants.MAX_FILESIZE, PyPI's default per file


MAX_URL_LABEL = 32


MAX_SUMMARY = 512


NEW_FILES_WINDOW = datetime.timedelta(days=14)  # legacy.MAXIMUM_AGE_FOR_NEW_UPLOADS_DAYS


METADATA_VERSIONS = frozenset({"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"})


_PYPI_HOSTS = ("pypi.org", "test.pypi.org")


_STATIC_PLATFORMS = frozenset(
    {
        "any", "win32", "win_arm64", "win_amd64", "win_ia64",
        "manylinux1_x86_64", "manylinux1_i686", "manylinux2010_x86_64", "manylinux2010_i686",
        "manylinux2014_x86_64", "manylinux2014_i686", "manylinux2014_aarch64", "manylinux2014_armv7l",
        "manylinux2014_ppc64", "manylinux2014_ppc64le", "manylinux2014_s390x",
        "linux_armv6l", "linux_armv7l",
    }
)  # fmt: skip


_MACOSX = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.*)")


_MACOSX_ARCHES = frozenset(
    {"ppc", "ppc64", "i386", "x86_64", "arm64", "intel", "fat", "fat3", "fat64", "universal", "universal2"}
)


_MACOSX_MAJORS = frozenset({"11", "12", "13", "14", "15", "26"})


_IOS = re.compile(r"ios_(\d+)_(\d+)_(?P<arch>.*)_(iphoneos|iphonesimulator)")


_ANDROID = re.compile(r"android_(\d+)_(?P<arch>.*)")


_ANDROID_ARCHES = frozenset({"armeabi_v7a", "arm64_v8a", "x86", "x86_64"})


_LINUX = re.compile(r"(?P<libc>many|musl)linux_(\d+)_(\d+)_(?P<arch>.*)")


_LINUX_ARCHES = frozenset({"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"})


_EMSCRIPTEN = re.compile(r"pyemscripten_(\d+)_(\d+)_wasm32")


def applies(setting: str | bool, upload_urls: Sequence[str]) -> bool:
    """Whether the rules are on: always, never, or ("auto") when an upload goes to PyPI or TestPyPI."""
    if isinstance(setting, bool):
        return setting
    hosts = [(urllib.parse.urlsplit(url).hostname or "").lower() for url in upload_urls]
    return any(host in _PYPI_HOSTS or host.endswith(".pypi.org") for host in hosts)


def check(artifacts: Sequence[Artifact]) -> None:
    """Raise PyPIRulesError for the first thing PyPI would refuse in any of the artifacts.

    Each message names the file, what PyPI refuses about it and how to fix it. Reads only the
    files; a file too damaged to read is a BuildError from `artifact.read_metadata`.
    """
    for art in artifacts:
        _check_size(art)
        if art.kind == "wheel":
            _check_wheel_tags(art)
        meta = artifact.read_metadata(art)
        _check_filename(art, meta.get("Name", ""), meta.get("Version", ""))
        _check_metadata(art, meta)
        _check_license_files(art, meta.get_all("License-File") or [])


def platform_tag_allowed(platform: str) -> bool:
    """True for the wheel platform tags PyPI accepts; mirrors legacy._valid_platform_tag, `match` and all."""
    if platform in _STATIC_PLATFORMS:
        return True
    m = _MACOSX.match(platform)
    if (
        m
        and m["arch"] in _MACOSX_ARCHES
        and (m["major"] == "10" or (m["major"] in _MACOSX_MAJORS and m["minor"] == "0"))
    ):
        return True
    if m := _LINUX.match(platform):
        return m["arch"] in _LINUX_ARCHES or (m["libc"] == "many" and m["arch"] == "ppc64")
    if (m := _IOS.match(platform)) and m["arch"] in ("arm64", "x86_64"):
        return True
    if (m := _ANDROID.match(platform)) and m["arch"] in _ANDROID_ARCHES:
        return True
    return bool(_EMSCRIPTEN.match(platform))


def check_upload_window(
    first_upload_time: str | None, now: datetime.datetime, *, release: str = "this release"
) -> None:
    """Refuse to add files to a release PyPI has closed: it takes new files for 14 days only.

    `first_upload_time` is the PEP 691 `upload-time` of the release's oldest file on the index
    (None when it has no file yet or does not say). PyPI counts from the release's creation,
    which is that first upload. A time that cannot be parsed is treated as unknown: the index,
    not this guess, then has the last word. Naive times are taken as UTC.
    """
    if not first_upload_time:
        return
    try:
        first = datetime.datetime.fromisoformat(first_upload_time.replace("Z", "+00:00"))
    except ValueError:
        return
    if first.tzinfo is None:
        first = first.replace(tzinfo=datetime.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    age = now - first
    if age > NEW_FILES_WINDOW:
        raise PyPIRulesError(
            f"{release} got its first file {age.days} days ago ({first:%Y-%m-%d}); "
            f"PyPI adds no files to a release after {NEW_FILES_WINDOW.days} days",
            "bump the version and release that instead of re-running",
        )


def _check_size(art: Artifact) -> None:
    if art.size > MAX_FILE_SIZE:
        raise PyPIRulesError(
            f"{art.filename} is {art.size / 2**20:.0f} MiB; PyPI refuses files over "
            f"{MAX_FILE_SIZE // 2**20} MiB",
            "make it smaller (leave data and build droppings out), or have PyPI raise the project's "
            "limit and set pypi-rules = false",
        )


def _check_wheel_tags(art: Artifact) -> None:
    _, _, _, tags = parse_wheel_filename(art.filename)
    for tag in sorted(tags, key=str):
        if platform_tag_allowed(tag.platform):
            continue
        if tag.platform.startswith("linux_"):
            hint = "build manylinux wheels with cibuildwheel in CI, or repair them with auditwheel"
        else:
            hint = "build the wheel for a platform PyPI accepts (manylinux, musllinux, macosx, win)"
        raise PyPIRulesError(
            f"{art.filename} has the platform tag '{tag.platform}', which PyPI refuses", hint
        )


def _check_filename(art: Artifact, name: str, version: str) -> None:
    """PEP 625 sdists and PEP 427 wheels: the file starts with the normalised name and version."""
    try:
        canonical_version = str(Version(version))
    except InvalidVersion:
        return  # check_consistency has already refused it with a better message
    stem = canonicalize_name(name).replace("-", "_")
    if art.kind == "sdist":
        expected = f"{stem}-{canonical_version}.tar.gz"
        if art.filename != expected:
            raise PyPIRulesError(
                f"PyPI refuses the sdist name {art.filename}; PEP 625 makes it {expected}",
                "upgrade the build backend (setuptools >= 69.3, hatchling >= 1.22, flit-core >= 3.11)",
            )
    elif art.filename.split("-", 1)[0] != stem:
        raise PyPIRulesError(
            f"PyPI refuses the wheel name {art.filename}: it must start with {stem}-",
            "upgrade the build backend so it normalises the project name",
        )


def _check_metadata(art: Artifact, meta: email.message.Message) -> None:
    where = art.filename
    metadata_version = meta.get("Metadata-Version", "")
    if metadata_version not in METADATA_VERSIONS:
        raise PyPIRulesError(
            f"{where} has Metadata-Version {metadata_version!r}, which PyPI does not accept",
            f"use a build backend that writes one of {', '.join(sorted(METADATA_VERSIONS))}",
        )
    if len(meta.get("Summary", "")) > MAX_SUMMARY:
        raise PyPIRulesError(
            f"the description (Summary) in {where} is over {MAX_SUMMARY} characters; PyPI refuses it",
            "shorten [project] description to one line; put the rest in the README",
        )
    _check_classifiers(where, meta.get_all("Classifier") or [])
    _check_license(where, meta)
    _check_requirements(where, meta.get_all("Requires-Dist") or [])
    _check_project_urls(where, meta.get_all("Project-URL") or [])


def _check_classifiers(where: str, classifiers: list[str]) -> None:
    # Loaded only when the rules apply: a release to any other index never pays for the list.
    from trove_classifiers import all_classifiers, deprecated_classifiers

    for classifier in classifiers:
        if classifier.startswith("Private ::"):
            raise PyPIRulesError(
                f"{where} has the classifier {classifier!r}: PyPI refuses 'Private ::' classifiers",
                "that classifier is there to stop uploads to PyPI; remove it to publish there",
            )
        if classifier in deprecated_classifiers:
            successors = deprecated_classifiers[classifier]
            instead = f"use {' or '.join(repr(s) for s in successors)}" if successors else "remove it"
            raise PyPIRulesError(f"{where} has the deprecated classifier {classifier!r}", instead)
        if classifier not in all_classifiers:
            raise PyPIRulesError(
                f"{where} has the classifier {classifier!r}, which PyPI does not know",
                "fix it in [project] classifiers (https://pypi.org/classifiers/); if it is new there, "
                "upgrade trove-classifiers",
            )


def _check_license(where: str, meta: email.message.Message) -> None:
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    expression = meta.get("License-Expression")
    if expression is None:
        return
    if meta.get("License") is not None:
        raise PyPIRulesError(
            f"{where} has both License-Expression and License; PyPI refuses the two together",
            "drop the old license text field (a license table or license classifier in the config)",
        )
    try:
        canonicalize_license_expression(expression)
    except InvalidLicenseExpression as exc:
        raise PyPIRulesError(
            f"{where} has License-Expression {expression!r}, which is not a valid SPDX expression",
            "use SPDX ids such as 'MIT' or 'Apache-2.0 OR MIT' (LicenseRef-… for your own)",
        ) from exc


def _check_requirements(where: str, requirements: list[str]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise PyPIRulesError(
                f"{where} has an invalid dependency {text!r}", "fix [project] dependencies"
            ) from exc
        if requirement.url is not None:
            raise PyPIRulesError(
                f"{where} depends on {requirement.name} by direct URL ({text!r}); PyPI refuses that",
                f"publish {requirement.name} to the index and depend on it by version",
            )


def _check_project_urls(where: str, entries: list[str]) -> None:
    for entry in entries:
        label, _, url = (part.strip() for part in entry.partition(","))
        if not label or len(label) > MAX_URL_LABEL:
            raise PyPIRulesError(
                f"{where} has the project URL label {label!r}; PyPI wants 1 to {MAX_URL_LABEL} characters",
                "shorten the key in [project.urls]",
            )
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or any(ch.isspace() for ch in url):
            raise PyPIRulesError(
                f"{where} has the project URL {label} = {url!r}, which PyPI refuses",
                "use an http(s) URL in [project.urls]",
            )


def _check_license_files(art: Artifact, license_files: list[str]) -> None:
    """PEP 639: every License-File the metadata names is inside the artifact, where PyPI looks."""
    if not license_files:
        return
    if art.kind == "wheel":
        with zipfile.ZipFile(art.path) as zf:
            names = set(zf.namelist())
        dist_info = "-".join(art.filename.split("-", 2)[:2]) + ".dist-info"
        expected = {f: f"{dist_info}/licenses/{f}" for f in license_files}
    else:
        with tarfile.open(art.path) as tf:
            names = set(tf.getnames())
        top = art.filename.removesuffix(".tar.gz")
        expected = {f: f"{top}/{f}" for f in license_files}
    for license_file, member in expected.items():
        if member not in names:
            raise PyPIRulesError(
                f"{art.filename} names License-File {license_file} but does not contain {member}",
                "check license-files in pyproject.toml and rebuild",
            )
