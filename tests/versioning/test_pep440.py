"""PEP 440 versions: parsing what a release may carry, normalising, and computing the next one."""

from __future__ import annotations

import pytest

from releasekit.errors import VersionError
from releasekit.versioning.pep440 import next_version, normalise, parse_version

# parse_version, normalise


def test_parse_version_accepts_a_public_version() -> None:
    assert str(parse_version("1.2.3rc1")) == "1.2.3rc1"


def test_parse_version_refuses_an_invalid_version() -> None:
    with pytest.raises(VersionError) as caught:
        parse_version("1.x")

    assert caught.value.message == "version '1.x' is not a valid PEP 440 version"


def test_parse_version_refuses_a_local_version() -> None:
    with pytest.raises(VersionError) as caught:
        parse_version("1.0+abc", what="new version")

    assert caught.value.message == "new version '1.0+abc' is a local version (+abc); PyPI refuses them"
    assert caught.value.hint == "release 1.0 instead"


@pytest.mark.parametrize(
    "text", ["1.2.3\n", "1.2.3\nRelease 9", " 1.2.3", "1.2.3\t", "1.2.3\r", "1.2 .3", "", "1.2.3\x1b"]
)
def test_parse_version_refuses_whitespace_line_breaks_and_empty(text: str) -> None:
    """packaging strips surrounding whitespace: "1.2.3\\n" would be valid and written as given."""
    with pytest.raises(VersionError) as caught:
        parse_version(text, what="new version")

    assert caught.value.message == f"new version {text!r} is empty or contains whitespace or a line break"
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.0.0-rc.1", "1.0.0rc1"),
        ("v2.0", "2.0"),
        ("1.0.0.post0", "1.0.0.post0"),
        ("1.0.0-ALPHA1", "1.0.0a1"),
    ],
)
def test_normalise(text: str, canonical: str) -> None:
    assert normalise(text) == canonical


def test_normalise_refuses_an_invalid_version() -> None:
    with pytest.raises(VersionError):
        normalise("not-a-version")


# next_version


@pytest.mark.parametrize(
    ("current", "part", "expected"),
    [
        ("1.4.2", "major", "2.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.5", "patch", "1.5.1"),
        ("1.4.2.post1", "patch", "1.4.3"),
        # A bump bigger than the pre-release's pending final skips nothing.
        ("1.5.3rc1", "minor", "1.6.0"),
        ("1.5.0rc2", "major", "2.0.0"),
    ],
)
def test_next_version(current: str, part: str, expected: str) -> None:
    assert next_version(current, part) == expected


@pytest.mark.parametrize(
    ("current", "final"),
    [("1.5.0rc2", "1.5.0"), ("2.0.0rc1", "2.0.0"), ("1.5.3b1", "1.5.3"), ("1.5.0.dev3", "1.5.0")],
)
def test_a_patch_bump_of_a_pre_release_is_refused_naming_its_final(current: str, final: str) -> None:
    # The docstring: the next release of 2.0.0rc1 is 2.0.0 itself, which a patch bump would skip.
    with pytest.raises(VersionError) as caught:
        next_version(current, "patch")

    assert caught.value.message == f"--bump patch on the pre-release {current} would skip {final}"
    assert caught.value.hint == "use --bump final to release it"


@pytest.mark.parametrize(
    ("current", "part", "final"),
    [("1.5.0rc2", "minor", "1.5.0"), ("2.0.0rc1", "major", "2.0.0"), ("2.0.0b1", "minor", "2.0.0")],
)
def test_no_bump_of_a_pre_release_skips_its_final(current: str, part: str, final: str) -> None:
    with pytest.raises(VersionError) as caught:
        next_version(current, part)

    assert caught.value.message == f"--bump {part} on the pre-release {current} would skip {final}"
    assert caught.value.hint == "use --bump final to release it"


def test_a_bump_keeps_the_epoch() -> None:
    assert next_version("1!2.0.0", "major") == "1!3.0.0"


def test_next_version_refuses_an_unknown_part() -> None:
    with pytest.raises(VersionError) as caught:
        next_version("1.4.2", "micro")

    assert caught.value.message == "unknown bump 'micro'"
    assert caught.value.hint == "use one of major, minor, patch, pre, final"


def test_next_version_refuses_an_invalid_current_version() -> None:
    with pytest.raises(VersionError) as caught:
        next_version("1.x", "patch")

    assert caught.value.message == "current version '1.x' is not a valid PEP 440 version"


@pytest.mark.parametrize(
    ("current", "part", "pre", "expected"),
    [
        ("1.4.2", "minor", None, "1.5.0"),
        ("1.4.2", "minor", "rc", "1.5.0rc1"),
        ("1.5.0rc1", "pre", None, "1.5.0rc2"),
        ("1.5.0rc2", "final", None, "1.5.0"),
        ("1.5.0a2", "pre", "b", "1.5.0b1"),
        ("1.5.0b1", "pre", "rc", "1.5.0rc1"),
        ("1.4.2", "major", "a", "2.0.0a1"),
        ("1.4.2", "patch", "b", "1.4.3b1"),
        ("1.5.0.dev3", "final", None, "1.5.0"),
        ("1.5.0.dev3", "pre", "rc", "1.5.0rc1"),
        ("1!2.0.0rc1", "final", None, "1!2.0.0"),
    ],
)
def test_pep440_bumps(current: str, part: str, pre: str | None, expected: str) -> None:
    assert next_version(current, part, pre) == expected


@pytest.mark.parametrize(
    ("current", "part", "pre", "message"),
    [
        ("1.5.0rc2", "patch", None, "--bump patch on the pre-release 1.5.0rc2 would skip 1.5.0"),
        ("1.4.2", "pre", None, "1.4.2 is not a pre-release"),
        ("1.4.2", "final", None, "1.4.2 is already a final release"),
        ("1.5.0rc1", "pre", "a", "--pre a would go back from 1.5.0rc1"),
        ("1.4.2", "minor", "dev", "unknown pre-release kind 'dev'"),
    ],
)
def test_pep440_bumps_refused(current: str, part: str, pre: str | None, message: str) -> None:
    with pytest.raises(VersionError) as caught:
        next_version(current, part, pre)
    assert caught.value.message == message
