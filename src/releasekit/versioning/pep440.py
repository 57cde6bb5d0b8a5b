"""PEP 440 arithmetic on versions: parse, normalise, and compute the next one for a bump.

Versions are compared and normalised with `packaging`. Where the version lives, and reading or
writing it there, is `detect`'s job; this module imports nothing of releasekit but its errors,
so any module may use it without pulling in detection.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from releasekit.errors import VersionError

BUMP_PARTS = ("major", "minor", "patch", "pre", "final")


PRE_LABELS = ("a", "b", "rc")


def parse_version(text: str, *, what: str = "version") -> Version:
    """Parse a public PEP 440 version; local versions are refused because PyPI refuses them.

    packaging strips surrounding whitespace, so "1.2.3\\n" would parse and then be written into
    the files, tag and commit message as it was given: whitespace anywhere is refused instead.
    """
    if not text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise VersionError(
            f"{what} {text!r} is empty or contains whitespace or a line break",
            "give it as e.g. 1.2.3, with nothing around it",
        )
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise VersionError(
            f"{what} '{text}' is not a valid PEP 440 version", "use e.g. 1.2.3, 1.2.3rc1, 1.2.3.post1"
        ) from exc
    if version.local is not None:
        raise VersionError(
            f"{what} '{text}' is a local version (+{version.local}); PyPI refuses them",
            f"release {version.public} instead",
        )
    return version


def next_version(current: str, part: str, pre: str | None = None) -> str:
    """The version a --bump gives, computed with PEP 440 semantics.

    major/minor/patch bump the release number (with `pre`, the first pre-release of it:
    1.4.2 minor + rc -> 1.5.0rc1); `pre` moves a pre-release on (rc1 -> rc2, or a1 -> b1 with
    pre="b"); `final` drops the pre-release or dev part (1.5.0rc2 -> 1.5.0). A bump that would
    skip a pre-release's own final (patch on 1.5.0rc2) is refused with the command that is meant.
    """
    if part not in BUMP_PARTS:
        raise VersionError(f"unknown bump '{part}'", f"use one of {', '.join(BUMP_PARTS)}")
    if pre is not None and pre not in PRE_LABELS:
        raise VersionError(f"unknown pre-release kind '{pre}'", f"use one of {', '.join(PRE_LABELS)}")
    version = parse_version(current, what="current version")
    major, minor, patch = [*version.release, 0, 0][:3]
    epoch = f"{version.epoch}!" if version.epoch else ""
    unfinished = version.is_prerelease or version.is_devrelease
    if part == "final":
        if not unfinished:
            raise VersionError(f"{current} is already a final release", "use --bump patch, minor or major")
        return f"{epoch}{version.base_version.removeprefix(epoch)}"
    if part == "pre":
        return _next_pre(version, epoch, pre)
    if unfinished:
        final_is = "major" if (minor, patch) == (0, 0) else "minor" if patch == 0 else "patch"
        if BUMP_PARTS.index(part) >= BUMP_PARTS.index(final_is):
            raise VersionError(
                f"--bump {part} on the pre-release {current} would skip {version.base_version}",
                "use --bump final to release it",
            )
    release = {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
    }[part]
    return f"{epoch}{release}{pre + '1' if pre else ''}"


def _next_pre(version: Version, epoch: str, label: str | None) -> str:
    base = version.base_version.removeprefix(epoch)
    if version.pre is None:
        if version.is_devrelease and label:
            return f"{epoch}{base}{label}1"
        raise VersionError(
            f"{version} is not a pre-release",
            "start one with e.g. --bump minor --pre rc, or use --new-version",
        )
    current_label, number = version.pre
    label = label or current_label
    if PRE_LABELS.index(label) < PRE_LABELS.index(current_label):
        raise VersionError(
            f"--pre {label} would go back from {version}", f"use --pre {current_label} or later"
        )
    return f"{epoch}{base}{label}{number + 1 if label == current_label else 1}"


def next_dev(released: str) -> str:
    """The development version after a release: 1.5.0 -> 1.5.1.dev0, 2.0.0rc1 -> 2.0.0rc2.dev0."""
    version = parse_version(released)
    epoch = f"{version.epoch}!" if version.epoch else ""
    if version.pre is not None:
        label, number = version.pre
        return f"{epoch}{version.base_version.removeprefix(epoch)}{label}{number + 1}.dev0"
    major, minor, patch = [*version.release, 0, 0][:3]
    return f"{epoch}{major}.{minor}.{patch + 1}.dev0"


def normalise(text: str) -> str:
    """The canonical spelling, so tags, file names and metadata agree."""
    return str(parse_version(text))
