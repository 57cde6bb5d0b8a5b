"""Find a version literal in a file and rewrite exactly that literal, all files or none.

Every version source that keeps the version in the files is built from these pieces. A literal is
located precisely (a Python assignment by its syntax tree, a TOML key inside its own table, an INI
key inside its own section), so a bump never touches a dependency pin that happens to equal the
version, and the project's quoting and layout stay as they were.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from releasekit.errors import VersionError

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:[#;].*)?$")


_QUOTES = ('"""', "'''", '"', "'")


@dataclass(frozen=True)
class Literal:
    """Where one version string sits in one file: text offsets of its characters, and the text."""

    path: Path
    start: int
    end: int
    value: str  # what the file means (a TOML escape decoded)
    raw: str | None = None  # the characters, where they differ from value


def read_text(path: Path) -> str:
    """The file's text with its own line endings (newline="" keeps CRLF files CRLF)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _spans(text: str, wanted: str) -> Iterator[tuple[int, int]]:
    """Text spans of the TOML table or INI section called `wanted`, headers excluded."""
    offset, start = 0, None
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line.rstrip("\r\n"))
        if header:
            if start is not None:
                yield start, offset
            start = offset + len(line) if header.group(1).strip().strip("'\"") == wanted else None
        offset += len(line)
    if start is not None:
        yield start, offset


def toml_string(path: Path, table: str, key: str) -> Literal | None:
    """`key = "1.2.3"` (or single-quoted) directly inside `[table]`, on one line."""
    text = read_text(path)
    pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=[ \t]*([\"'])([^\"'\r\n]*)\1", re.MULTILINE)
    hits = [m for s, e in _spans(text, table) for m in pattern.finditer(text, s, e)]
    if len(hits) != 1:
        return None
    raw = hits[0].group(2)
    value = tomllib.loads(f"v = {hits[0].group(1)}{raw}{hits[0].group(1)}")["v"]
    return Literal(path, hits[0].start(2), hits[0].end(2), value, None if value == raw else raw)


def ini_value(path: Path, section: str, key: str) -> Literal | None:
    """`key = 1.2.3` (or `key: 1.2.3`) inside `[section]`: the whole value after the separator."""
    text = read_text(path)
    pattern = re.compile(rf"^{re.escape(key)}[ \t]*[=:][ \t]*([^\r\n]*?)[ \t]*$", re.MULTILINE)
    hits = [m for s, e in _spans(text, section) for m in pattern.finditer(text, s, e)]
    if len(hits) != 1 or not hits[0].group(1):
        return None
    return Literal(path, hits[0].start(1), hits[0].end(1), hits[0].group(1))


def whole_file(path: Path) -> Literal | None:
    """A file such as VERSION that holds nothing but the version (surrounding whitespace kept)."""
    text = read_text(path)
    found = re.fullmatch(r"\s*(\S+)\s*", text)
    return Literal(path, found.start(1), found.end(1), found.group(1)) if found else None


def pattern_match(path: Path, pattern: str) -> Literal | None:
    """The first match of a regex with a `version` group (or one group), as hatchling reads it."""
    text = read_text(path)
    try:
        found = re.search(pattern, text, flags=re.MULTILINE)
    except re.error as exc:
        raise VersionError(
            f"the version pattern {pattern!r} is not a valid regular expression: {exc}"
        ) from exc
    if found is None:
        return None
    group: int | str = "version" if "version" in found.groupdict() else 1
    return Literal(path, found.start(group), found.end(group), found.group(group))


def parse_python(path: Path) -> ast.Module | None:
    """The module's syntax tree, or None when it is not valid Python (then it holds no literal)."""
    try:
        return ast.parse(path.read_bytes(), filename=path.name)
    except (SyntaxError, ValueError):
        return None


def string_node(path: Path, node: ast.expr | None) -> Literal | None:
    """The characters between the quotes of a plain string literal node, if it is one."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or node.end_lineno is None:
        return None
    text = read_text(path)
    lines = text.splitlines(keepends=True)
    if node.lineno != node.end_lineno:
        return None
    line_start = sum(len(line) for line in lines[: node.lineno - 1])
    raw = lines[node.lineno - 1].encode("utf-8")
    # ast columns count UTF-8 bytes; the file is edited as text.
    start = line_start + len(raw[: node.col_offset].decode("utf-8"))
    end = line_start + len(raw[: node.end_col_offset].decode("utf-8"))
    segment = text[start:end]
    body = segment.lstrip("uUrR")
    quote = next((q for q in _QUOTES if body.startswith(q) and body.endswith(q)), None)
    if quote is None or body[len(quote) : -len(quote)] != node.value:
        return None  # an implicit concatenation or an escape: not one literal we can rewrite
    inner = end - len(quote) - len(node.value)
    return Literal(path, inner, inner + len(node.value), node.value)


def python_assignment(path: Path, name: str) -> Literal | None:
    """A module-level `name = "1.2.3"` (or annotated) literal, as setuptools' `attr:` reads it."""
    tree = parse_python(path)
    for node in tree.body if tree else ():
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return string_node(path, node.value)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return string_node(path, node.value)
    return None


def rewrite(literals: Iterable[Literal], new: str) -> None:
    """Replace each literal with `new`, after checking it still holds the text that was read."""
    by_path: dict[Path, list[Literal]] = {}
    for lit in literals:
        by_path.setdefault(lit.path, []).append(lit)
    for path, found in by_path.items():
        text = read_text(path)
        for lit in sorted(found, key=lambda x: x.start, reverse=True):
            if text[lit.start : lit.end] != (lit.value if lit.raw is None else lit.raw):
                raise VersionError(
                    f"{path.name} changed since its version {lit.value} was read",
                    "run the release again",
                )
            text = text[: lit.start] + new + text[lit.end :]
        replace_file(path, text.encode("utf-8"))


def replace_file(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".releasekit-restore")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@contextlib.contextmanager
def all_or_nothing(files: Iterable[Path], what: str) -> Iterator[dict[Path, bytes]]:
    """Snapshot `files`; if anything in the block fails (even Ctrl-C), put every byte back.

    `what` names the configuration that lists the files, for the error about a missing one.
    """
    files = tuple(dict.fromkeys(files))
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise VersionError(
            f"{what} is configured to rewrite {missing[0].name}, which does not exist",
            f"create {missing[0].name} or remove it from the configuration",
        )
    snapshot = {p: p.read_bytes() for p in files}
    try:
        yield snapshot
    except BaseException:
        for path, data in snapshot.items():
            replace_file(path, data)
        raise


def changed(snapshot: dict[Path, bytes]) -> tuple[Path, ...]:
    """The snapshotted files whose bytes differ now."""
    return tuple(p for p, data in snapshot.items() if p.read_bytes() != data)
