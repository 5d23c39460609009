"""The package's code: fingerprints ignore what does not run, the training code is declared exactly,
each edit reruns the rules it should, stages import downwards only, and modules and functions stay
short. All read from the source with `ast`: nothing is trained, no Snakemake is started."""

import ast
from pathlib import Path

import pytest

from conftest import ROOT
from nndl import fingerprint
from nndl.runs.code import REGISTRY, TRAINING_CODE
from nndl.tasks.registry import TASKS

PACKAGE = ROOT / "src" / "nndl"
SCRIPTS = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
NOTEBOOKS = {"summary_report": ROOT / "reports" / "summary.ipynb", "studies_report": ROOT / "reports" / "studies.ipynb"}


def fake_package(folder: Path, modules: dict[str, str]) -> Path:
    """A package 'nndl' in `folder` with the modules {relative path: source}."""
    package = folder / "nndl"
    for relative, source in {"__init__.py": "", **modules}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return package


BASE = {
    "core.py": 'def add(a, b):\n    """Add."""\n    return a + b\n',
    "user.py": "from nndl.core import add\n\n\ndef twice(x):\n    return add(x, x)\n",
}


# Each variant is written to a folder of its own: a process reads a given file once.
@pytest.mark.parametrize("edited", [
    'def add(a, b):\n    """Add two numbers, documented at length."""\n    return a + b  # a comment\n',
    '"""A new module docstring."""\n\n\ndef add(a,   b):\n\n    return a + b\n',
])
def test_comments_docstrings_and_layout_do_not_change_the_fingerprint(tmp_path, edited):
    before = fake_package(tmp_path / "before", BASE)
    after = fake_package(tmp_path / "after", {**BASE, "core.py": edited})
    assert fingerprint.code_digest(after / "core.py") == fingerprint.code_digest(before / "core.py")
    modules = fingerprint.closure(["nndl.user"], before)
    assert modules == ["nndl", "nndl.core", "nndl.user"] == fingerprint.closure(["nndl.user"], after)
    assert fingerprint.fingerprint(modules, after) == fingerprint.fingerprint(modules, before)


def test_a_code_change_changes_the_fingerprint(tmp_path):
    before = fake_package(tmp_path / "before", BASE)
    after = fake_package(tmp_path / "after", {**BASE, "core.py": BASE["core.py"].replace("a + b", "a - b")})
    assert fingerprint.code_digest(after / "core.py") != fingerprint.code_digest(before / "core.py")
    modules = fingerprint.closure(["nndl.user"], before)
    assert fingerprint.fingerprint(modules, after) != fingerprint.fingerprint(modules, before)
    # A module the entry does not import is not part of its fingerprint.
    unrelated = fake_package(tmp_path / "unrelated", {**BASE, "other.py": "X = 1\n"})
    assert fingerprint.closure(["nndl.user"], unrelated) == modules
    assert fingerprint.fingerprint(modules, unrelated) == fingerprint.fingerprint(modules, before)


@pytest.mark.parametrize("source", [
    "import nndl.missing\n",
    "from nndl.missing import thing\n",
    "def late():\n    from nndl.nowhere.deeper import thing\n    return thing\n",
])
def test_an_import_of_a_module_that_does_not_exist_is_an_error(tmp_path, source):
    package = fake_package(tmp_path, {**BASE, "user.py": source})
    with pytest.raises(fingerprint.UnresolvedImport, match="nndl.(missing|nowhere)"):
        fingerprint.closure(["nndl.user"], package)


def test_training_code_is_exactly_what_training_imports():
    imported = fingerprint.closure(["nndl.learn.run", "nndl.data.tensors"])
    assert list(TRAINING_CODE) == [module for module in imported if module not in REGISTRY]


# Which rules' jobs rerun when a module's code changes (rule = script stem).
RERUNS = {
    "nndl.report.plots": {"figure_samples", "figures", "study_summary"},
    "nndl.report.catalog": {"figure_samples", "figures", "log_figures", "study_summary", "summary_report",
                            "studies_report"},
    "nndl.report.answers": {"study_summary"},
    "nndl.report.table_text": {"study_summary", "summary_report", "studies_report"},  # the parent's description
    "nndl.report.tables": {"summary_report"},
    "nndl.report.theory_text": {"study_summary", "studies_report"},
    "nndl.theory.linear": {"study_summary"},  # the theory is recomputed; no run is retrained
    "nndl.learn.loop": {"train_chunk"},
    "nndl.learn.learners": {"train_chunk"},
    "nndl.learn.linear": {"train_chunk"},  # imported by name (the registry's `model`): its task's chunks rerun
    "nndl.learn.mlp": {"train_chunk"},
    # A chunk job counts its own task's entry instead (chunk_code); the saved views name its metrics.
    "nndl.tasks.registry": {"figure_samples", "figures", "log_figures", "study_summary", "summary_report",
                            "studies_report", "track_runs", "log_studies"},
    "nndl.tasks.shared": {"figure_samples", "figures", "log_figures", "study_summary", "summary_report",
                          "studies_report", "track_runs", "log_studies"},
    "nndl.learn.environment": {"env_check"},
    "nndl.data.download": {"fashion_mnist"},
    "nndl.data.acquire": {"fashion_mnist"},
    "nndl.data.synthetic": {"synthetic_data", "train_chunk", "study_summary"},  # the theory reads the data
    "nndl.data.tensors": {"train_chunk"},
    "nndl.runs.chunks": {"train_chunk"},
    "nndl.tracking.admin": set(),
    "nndl.tracking.readback": {"track_runs"},
    "nndl.tracking.studies": {"log_studies", "train_chunk"},
    "nndl.tracking.views": {"log_studies", "track_runs", "study_summary"},  # the saved views; a study's link
    "nndl.config.validate": set(),
    "nndl.config.studies": set(),
}


def rule_modules() -> dict[str, set[str]]:
    entries = {script.stem: [script, *([NOTEBOOKS[script.stem]] if script.stem in NOTEBOOKS else [])]
               for script in SCRIPTS}
    found = {rule: set(fingerprint.closure(paths)) for rule, paths in entries.items()}
    # A chunk job's code (nndl.runs.code.chunk_code): its script's modules but the registry, and its
    # task's model module, which the learners import by name.
    found["train_chunk"] = (found["train_chunk"] - set(REGISTRY)) | set(
        fingerprint.closure([task.model for task in TASKS.values()]))
    return found


def test_each_edit_reruns_the_rules_it_should_and_no_others():
    by_rule = rule_modules()
    assert {"train_chunk", "figures", "summary_report", "studies_report"} <= set(by_rule)
    actual = {module: {rule for rule, modules in by_rule.items() if module in modules} for module in RERUNS}
    assert actual == RERUNS


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: the package modules it imports directly}, at module level or inside functions."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "nndl"}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "nndl":
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if fingerprint.module_file(child, PACKAGE) else node.module)
        graph[module_name(path)] = found - {module_name(path)}
    return graph


CORE = {"nndl", "nndl.errors", "nndl.files", "nndl.values", "nndl.settings", "nndl.joblog", "nndl.fingerprint",
        "nndl.provenance", "nndl.interrupt", "nndl.numerics", "nndl.full_disk", "nndl.commands", "nndl.heap"}
STAGES = ["core", "nndl.data", "nndl.tasks", "nndl.learn", "nndl.tracking", "nndl.runs", "nndl.config", "nndl.theory",
          "nndl.report"]


def stage(module: str) -> int:
    if module in CORE:
        return 0
    return STAGES.index(".".join(module.split(".")[:2]))


def test_the_import_graph_has_no_cycles():
    graph = import_graph()
    assert "nndl.learn.run" in graph and all(target in graph for targets in graph.values() for target in targets)
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            assert state.get(target) != "open", " -> ".join([*trail, module, target])
            if target not in state:
                visit(target, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_stages_import_downwards_only():
    graph = import_graph()
    assert all(stage(module) >= 0 for module in graph)  # every module is in a stage
    upwards = sorted(f"{module} ({STAGES[stage(module)]}) imports {target} ({STAGES[stage(target)]})"
                     for module, targets in graph.items() for target in targets if stage(target) > stage(module))
    assert upwards == []


MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40


def checked_files() -> list[Path]:
    return [*sorted(PACKAGE.rglob("*.py")), *sorted((ROOT / "benchmarks").rglob("*.py"))]


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """From the def line to the end of the body, without the docstring's lines."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_modules_and_functions_are_short():
    long_modules, long_functions = [], []
    for path in checked_files():
        source = path.read_text()
        where = path.relative_to(ROOT)
        if len(source.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{where}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and function_lines(node) > MAX_FUNCTION_LINES:
                long_functions.append(f"{where}:{node.lineno} {node.name}: {function_lines(node)} lines")
    assert long_modules == [] and long_functions == []
