"""What each rule's job imports, computed from the code, and what those imports cost.

    python -m benchmarks.job_imports

For each workflow script (workflow/scripts/<rule>.py), nndl.fingerprint.closure gives the package
modules it imports; ast gives the third-party top-level packages that the script and those modules
import: at load, and only inside functions (lazily). A new rule is included as soon as its script exists. Each job's
start-up imports (the package modules its script names) are then timed in a fresh interpreter,
median of 3, with the heavy packages they actually loaded. Target: no rule imports what it does not
use at load, as RULE_USES says.
"""

from __future__ import annotations

import ast
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import common
from nndl.fingerprint import closure, imported, module_file

SCRIPTS = common.ROOT / "workflow" / "scripts"
HEAVY = ["torch", "torchvision", "mlflow", "matplotlib", "papermill"]
# The rules whose work needs each heavy package; any other rule importing it is a miss.
RULE_USES = {"torch": {"env_check", "train_chunk"}, "torchvision": set(),
             "mlflow": {"train_chunk", "track_runs", "log_figures", "log_studies"},
             "matplotlib": {"figure_samples", "figures", "study_summary"},
             "papermill": {"summary_report", "studies_report"}}


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return {node.module.split(".")[0]}
    return set()


def _at_load(node: ast.AST) -> set[str]:
    """The imports a module runs when it is loaded: everywhere but inside function bodies."""
    found = _names(node)
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            found |= _at_load(child)
    return found


def third_party(path: Path) -> tuple[set[str], set[str]]:
    """Top-level names of the packages outside the standard library and nndl that `path` imports:
    (when it is loaded, anywhere including inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    ours = set(sys.stdlib_module_names) | {"nndl", "__future__"}
    anywhere = set().union(*(_names(node) for node in ast.walk(tree)))
    return _at_load(tree) - ours, anywhere - ours


def rule_imports() -> dict[str, dict]:
    """{rule: {modules, packages (at load), lazy_packages (inside functions only)}} for every script."""
    table = {}
    for script in sorted(SCRIPTS.glob("*.py")):
        modules = closure([script])
        found = [third_party(script), *(third_party(module_file(name)) for name in modules)]
        at_load = set().union(*(pair[0] for pair in found))
        anywhere = set().union(*(pair[1] for pair in found))
        table[script.stem] = {"modules": modules, "packages": sorted(at_load),
                              "lazy_packages": sorted(anywhere - at_load), "entry_modules": sorted(imported(script))}
    return table


def import_seconds(modules: list[str], repeats: int = 3) -> tuple[float, list[str]]:
    """Median wall time of importing `modules` in a fresh interpreter, and the heavy packages loaded."""
    statement = (f"import sys; import {', '.join(modules) or 'nndl'}; "
                 f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    times, loaded = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        loaded = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True,
                                check=True).stdout.strip()
        times.append(time.perf_counter() - started)
    return statistics.median(times), loaded.split(",") if loaded else []


def misses(table: dict[str, dict]) -> list[str]:
    return [f"{rule} imports {package}" for rule, row in table.items() for package in row["packages"]
            if package in RULE_USES and rule not in RULE_USES[package]]


def measure(options) -> dict:
    table = rule_imports()
    for rule, row in table.items():
        row["import_s"], row["heavy_loaded"] = import_seconds(row["entry_modules"], 1 if options.quick else 3)
        heavy = [package for package in row["packages"] if package in HEAVY]
        lazy = [package for package in row["lazy_packages"] if package in HEAVY]
        common.say(f"  {rule:<16} imports {row['import_s']:5.2f} s; heavy at load: {', '.join(heavy) or '-'}; "
                   f"only inside functions: {', '.join(lazy) or '-'}; loaded at start: "
                   f"{', '.join(row['heavy_loaded']) or '-'}")
    found = misses(table)
    return {"rules": table, "rule_uses": {key: sorted(value) for key, value in RULE_USES.items()},
            "verdicts": [common.verdict("no rule imports what it does not use (rules importing a heavy package "
                                        "they do not use)", len(found), 0, not found, misses=found)]}


if __name__ == "__main__":
    common.main("job_imports", measure, __doc__)
