"""The README is a front page and docs/ the reference: both kept true to the code.

Every flag of every task is in docs/tasks.md under its task, every [tool.releasekit] key with its
default in docs/configuration.md, every module in docs/architecture.md, and every relative link
(and its anchor) resolves. Each failure names what is missing and where it belongs.
"""

from __future__ import annotations

import re
from pathlib import Path

from releasekit.config import KEYS, Config
from releasekit.tasks import ns

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PACKAGE = ROOT / "src" / "releasekit"

_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
_FLAG_ROW = re.compile(r"--([a-z][a-z0-9-]*)")


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            out.add(slug if not count else f"{slug}-{count}")
    return out


def _section(path: Path, heading: str) -> str:
    """The text under one `## ` heading, up to the next heading of that level."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1 : end])


def _table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in _prose(text):
        if line.startswith("|") and not re.match(r"\|\s*:?-{3}", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _long_flag(name: str) -> str:
    """invoke's spelling of an argument: dry_run -> dry-run, json_ -> json."""
    return name.rstrip("_").replace("_", "-")


def test_every_flag_of_every_task_is_documented_under_its_task() -> None:
    page = DOCS / "tasks.md"
    problems = []
    for name, task in ns.tasks.items():
        heading = f"## `{name}`"
        section = _section(page, heading)
        if not section:
            problems.append(f"docs/tasks.md has no section '{heading}' for the task {name}")
            continue
        flags = {}
        for argument in task.get_arguments():
            long, *shorts = argument.names
            flags[_long_flag(long)] = [s for s in shorts if len(s) == 1]
        for flag, shorts in flags.items():
            for short in shorts or [None]:
                shown = rf"`--{re.escape(flag)}(?: [^`]*)?`" + (rf" / `-{short}`" if short else "")
                if not re.search(shown, section):
                    want = f"`--{flag}`" + (f" / `-{short}`" if short else "")
                    problems.append(f"docs/tasks.md, section {heading}: {want} is not documented")
        documented = {flag for row in _table_rows(section) for flag in _FLAG_ROW.findall(row[0])}
        problems += [
            f"docs/tasks.md, section {heading}: --{extra} is documented; {name} has no such flag"
            for extra in sorted(documented - set(flags))
        ]
    assert not problems, "\n".join(problems)


def _toml(value: object) -> str:
    """A default as it is written in pyproject.toml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict) and not value:
        return "{}"
    return repr(value)


def test_every_config_key_is_documented_once_with_its_default() -> None:
    page = DOCS / "configuration.md"
    rows = {row[0].strip("`"): row for row in _table_rows(_section(page, "## Keys")) if len(row) >= 3}
    rows.pop("key", None)
    defaults = Config()
    problems = [f"docs/configuration.md, '## Keys': no row for `{key}`" for key in KEYS if key not in rows]
    problems += [f"docs/configuration.md documents `{key}`: not a key" for key in rows if key not in KEYS]
    for key in KEYS:
        if key in rows:
            want = f"`{_toml(getattr(defaults, key.replace('-', '_')))}`"
            if rows[key][1] != want:
                problems.append(f"docs/configuration.md: `{key}` defaults to {rows[key][1]}; Config: {want}")
    for path in _pages():
        if path.name == "configuration.md":
            continue
        for row in _table_rows(path.read_text(encoding="utf-8")):
            if row[0].strip("`") in KEYS and row[0].startswith("`"):
                problems.append(f"{path.relative_to(ROOT)}: a table row for {row[0]}; link configuration.md")
    assert not problems, "\n".join(problems)


def test_every_module_has_its_line_in_the_architecture_page() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))
    listed = re.findall(r"^- `([\w/]+\.py)`:", text, flags=re.MULTILINE)
    page = "docs/architecture.md"
    problems = [f"{page}: no line `{m}`: for src/releasekit/{m}" for m in modules if m not in listed]
    problems += [f"{page} lists `{m}`, which is not in src/releasekit" for m in listed if m not in modules]
    problems += [f"{page} lists `{m}` twice" for m in set(listed) if listed.count(m) > 1]
    assert not problems, "\n".join(problems)


def test_every_relative_link_points_to_a_file_and_anchor_that_exist() -> None:
    problems = []
    for page in _pages():
        for line in _prose(page.read_text(encoding="utf-8")):
            for target in _LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("<"):
                    continue
                where = f"{page.relative_to(ROOT)}: link ({target})"
                path_part, _, anchor = target.partition("#")
                if path_part.startswith("/"):
                    problems.append(f"{where} is absolute; make it relative to the page")
                    continue
                linked = (page.parent / path_part).resolve() if path_part else page
                if not linked.exists():
                    problems.append(f"{where}: {path_part} does not exist")
                elif ROOT not in linked.parents and linked != ROOT:
                    problems.append(f"{where} leaves the repository")
                elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                    problems.append(f"{where}: no heading makes #{anchor} in {path_part or page.name}")
    assert not problems, "\n".join(problems)


def test_every_docs_page_is_in_the_table_of_contents() -> None:
    contents = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = [p.name for p in sorted(DOCS.glob("*.md")) if p.name != "README.md"]
    missing = [name for name in pages if f"]({name}" not in contents]
    assert not missing, f"docs/README.md does not link to: {', '.join(missing)}"


def test_readme_is_a_front_page_that_names_both_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines < 200, f"README.md has {lines} lines; keep it under 200 and move reference text to docs/"
    assert "## Set-up: the two commands" in text, "README.md lost its 'Set-up: the two commands' section"
    for command in ("python3 scripts/demo.py", "python3 scripts/test.py"):
        assert command in text, f"README.md no longer names the set-up command `{command}`"
