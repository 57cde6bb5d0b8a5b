"""The team's size rule, checked on every run: no function over 60 lines, no module over 500.

ruff holds complexity (C901) and statement counts (PLR0915) but has no rule for length, and a
long function of simple statements hides as much as a complex one. The source is read with
`ast`, never imported, so the check costs milliseconds and sees every file, used or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "releasekit"

MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def _checked_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _offences(path: Path, shown_from: Path = ROOT) -> list[str]:
    """Each function (nested ones and methods too) over the limit, and the module itself if it is."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(shown_from).as_posix()
    found = []
    module_lines = len(text.splitlines())
    if module_lines > MAX_MODULE_LINES:
        found.append(f"{where}: module has {module_lines} lines (limit {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(text, filename=where)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # From `def` to the last line of the body: decorators are not the function's length.
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{where}:{node.lineno}: {node.name} has {length} lines (limit {MAX_FUNCTION_LINES})"
                )
    return found


def test_every_function_and_module_is_within_the_size_rule() -> None:
    files = _checked_files()
    assert len(files) > 20, f"the size rule found only {len(files)} files under {PACKAGE}"
    offences = [line for path in files for line in _offences(path)]
    assert not offences, "split these (functions <= 60 lines, modules <= 500):\n" + "\n".join(offences)


def test_the_rule_catches_a_long_function(tmp_path: Path) -> None:
    """The check itself must bite: a 61-line function and a 501-line module are named."""
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    module = tmp_path / "long.py"
    module.write_text("def long_one():\n" + body + "\n" * (MAX_MODULE_LINES - 60), encoding="utf-8")
    offences = _offences(module, shown_from=tmp_path)
    assert any("long_one has 61 lines" in line for line in offences), offences
    assert any("module has 501 lines" in line for line in offences), offences
