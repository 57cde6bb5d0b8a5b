"""The LICENSE.txt templates render to the full standard license texts."""

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).parent.parent / "templates" / "licenses"

YEAR = 2026
HOLDER = "Ada Lovelace"

# SPDX id -> (characteristic phrases of the full text, minimum rendered length)
LICENSES: dict[str, tuple[tuple[str, ...], int]] = {
    "MIT": (
        (
            "MIT License",
            "Permission is hereby granted, free of charge",
            "The above copyright notice and this permission notice shall be included",
            'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND',
        ),
        1000,
    ),
    "Apache-2.0": (
        (
            "Apache License",
            "Version 2.0, January 2004",
            "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
            "Grant of Patent License.",
            "END OF TERMS AND CONDITIONS",
            "APPENDIX: How to apply the Apache License to your work.",
        ),
        10000,
    ),
    "BSD-3-Clause": (
        (
            "BSD 3-Clause License",
            "Redistribution and use in source and binary forms",
            "Neither the name of the copyright holder",
            "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS",
        ),
        1400,
    ),
    "ISC": (
        (
            "ISC License",
            "Permission to use, copy, modify, and/or distribute",
            "THE AUTHOR DISCLAIMS ALL WARRANTIES",
        ),
        700,
    ),
    "MPL-2.0": (
        (
            "Mozilla Public License Version 2.0",
            "1. Definitions",
            "6. Disclaimer of Warranty",
            "10. Versions of the License",
            "Exhibit A - Source Code Form License Notice",
            "Exhibit B",
        ),
        15000,
    ),
    "GPL-3.0-or-later": (
        (
            "GNU GENERAL PUBLIC LICENSE",
            "Version 3, 29 June 2007",
            "TERMS AND CONDITIONS",
            "15. Disclaimer of Warranty.",
            "END OF TERMS AND CONDITIONS",
            "How to Apply These Terms to Your New Programs",
        ),
        30000,
    ),
}

HOLDER_IN_COPYRIGHT_LINE = {
    "MIT": f"Copyright (c) {YEAR} {HOLDER}",
    "BSD-3-Clause": f"Copyright (c) {YEAR}, {HOLDER}",
    "ISC": f"Copyright (c) {YEAR}, {HOLDER}",
}


def _render(spdx_id: str, holder: str = HOLDER) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # Escapes only .html/.htm/.xml templates: the .txt.j2 licenses render as plain text.
        autoescape=select_autoescape(),
    )
    return env.get_template(f"{spdx_id}.txt.j2").render(year=YEAR, holder=holder)


def test_one_template_per_license() -> None:
    names = sorted(p.name for p in TEMPLATES_DIR.glob("*.txt.j2"))
    assert names == sorted(f"{spdx_id}.txt.j2" for spdx_id in LICENSES)


@pytest.mark.parametrize("spdx_id", sorted(LICENSES))
def test_renders_full_text(spdx_id: str) -> None:
    phrases, min_length = LICENSES[spdx_id]
    text = _render(spdx_id)

    for leftover in ("{{", "}}", "{%", "<year>", "[year]", "[fullname]", "<<"):
        assert leftover not in text, f"{spdx_id}: leftover {leftover!r}"
    for phrase in phrases:
        assert phrase in text, f"{spdx_id}: missing {phrase!r}"
    assert len(text) > min_length
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


@pytest.mark.parametrize("spdx_id", sorted(HOLDER_IN_COPYRIGHT_LINE))
def test_copyright_line_filled(spdx_id: str) -> None:
    text = _render(spdx_id)
    assert HOLDER in text
    assert HOLDER_IN_COPYRIGHT_LINE[spdx_id] in text.splitlines()


def test_holder_is_not_html_escaped() -> None:
    text = _render("MIT", holder="Smith & Jones <dev@example.org>")
    assert "Copyright (c) 2026 Smith & Jones <dev@example.org>" in text.splitlines()


def test_apache_appendix_filled() -> None:
    text = _render("Apache-2.0")
    assert f"   Copyright {YEAR} {HOLDER}" in text.splitlines()
    assert "[yyyy]" not in text


def test_gpl_how_to_apply_filled() -> None:
    text = _render("GPL-3.0-or-later")
    assert f"    Copyright (C) {YEAR}  {HOLDER}" in text.splitlines()
    assert "<name of author>" not in text


@pytest.mark.parametrize("spdx_id", sorted(LICENSES))
def test_template_file_format(spdx_id: str) -> None:
    raw = (TEMPLATES_DIR / f"{spdx_id}.txt.j2").read_bytes()
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    assert not raw.endswith(b"\n\n")
    lines = raw.decode("ascii").splitlines()
    assert all(line == line.rstrip() for line in lines), "trailing whitespace"
