"""What a distribution's file name says: kind, canonical name and version, or nothing for junk."""

from __future__ import annotations

import pytest

from releasekit.dists.artifact import parse_filename


@pytest.mark.parametrize(
    ("filename", "parsed"),
    [
        ("rk_sample-1.4.2-py3-none-any.whl", ("wheel", "rk-sample", "1.4.2")),
        ("RK.Sample-2.0.0rc1-cp311-cp311-manylinux_2_28_x86_64.whl", ("wheel", "rk-sample", "2.0.0rc1")),
        ("rk_sample-1.4.2.tar.gz", ("sdist", "rk-sample", "1.4.2")),
        ("Rk_Sample-1.0.0.post1.tar.gz", ("sdist", "rk-sample", "1.0.0.post1")),
    ],
)
def test_parse_filename_of_distributions(filename: str, parsed: tuple[str, str, str]) -> None:
    assert parse_filename(filename) == parsed


@pytest.mark.parametrize(
    "filename",
    [
        "README.md",
        "rk_sample.tar.gz",  # no version
        "rk_sample-not.a.version.tar.gz",
        "rk_sample-1.x-py3-none-any.whl",
        "rk_sample-1.4.2-py3-none-any.whl.part",
        "rk_sample-1.4.2.zip",
        "rk_sample-1.4.2.tar.bz2",
    ],
)
def test_parse_filename_of_junk_is_none(filename: str) -> None:
    assert parse_filename(filename) is None
