"""Which modules of the package a piece of code imports, and a fingerprint of their code.

Read from the source with `ast`, nothing imported. The fingerprint hashes each module's syntax tree
without its docstrings, so comments, docstrings and formatting never change it; a change to what
the code does always does. An import of the package that names no module or package is an error,
never skipped: a skipped name would be code that changes results without changing the fingerprint.
"""

from __future__ import annotations

import ast
import atexit
import functools
import hashlib
import json
from pathlib import Path

PACKAGE = "nndl"
PACKAGE_DIR = Path(__file__).resolve().parent


class UnresolvedImport(ImportError):
    """An import names something under nndl that is not a module or a package of it."""


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """'nndl.learn.run' -> .../nndl/learn/run.py ('nndl.learn' -> .../learn/__init__.py); None if none."""
    parts = name.split(".")[1:]
    base = package_dir.joinpath(*parts)
    candidates = [base.with_suffix(".py"), base / "__init__.py"] if parts else [base / "__init__.py"]
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def _source(path: Path) -> str:
    """A module's or script's text; a notebook's code cells."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    return path.read_text(encoding="utf-8")


@functools.cache  # a file is parsed once per process
def _tree(path: Path) -> ast.Module:
    return ast.parse(_source(path), filename=str(path))


class _FileFacts:
    """What a file's source gives (its package imports, its code digest), kept per file and, with
    `use_cache`, on disk keyed by the file's size and mtime: Snakemake asks on every start, and
    parsing the package each time would cost about a second."""

    def __init__(self):
        self.path: Path | None = None
        self.facts: dict[str, list] = {}
        self.memo: dict[tuple[Path, str], object] = {}  # this process: files do not change mid-parse
        self.changed = False

    def load(self, path: Path) -> None:
        self.load_quietly(path)
        atexit.register(self.save)

    def load_quietly(self, path: Path) -> None:
        self.path = path
        try:
            self.facts = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or cut short: the facts are computed again
            self.facts = {}

    def save(self) -> None:
        """Merge this process's facts into the file: another Snakemake may have saved its own."""
        if self.path is None or not self.changed:
            return
        from nndl.files import write_json

        on_disk = _FileFacts()
        on_disk.load_quietly(self.path)
        write_json({**on_disk.facts, **self.facts}, self.path)
        self.changed = False

    def get(self, path: Path, what: str, compute):
        if (path, what) not in self.memo:
            self.memo[path, what] = self._lookup(path, what, compute)
        return self.memo[path, what]

    def _lookup(self, path: Path, what: str, compute):
        stat = path.stat()
        key = f"{path.resolve()}:{what}"
        stamp = [stat.st_mtime_ns, stat.st_size]
        cached = self.facts.get(key)
        if cached is not None and cached[:2] == stamp:
            return cached[2]
        value = compute(path)
        self.facts[key] = [*stamp, value]
        self.changed = True
        return value


_FACTS = _FileFacts()


def use_cache(path: str | Path) -> None:
    """Keep the files' imports and digests in `path` (a JSON file) between processes."""
    _FACTS.load(Path(path))


def _with_parents(name: str) -> list[str]:
    """'nndl.learn.run' -> ['nndl', 'nndl.learn', 'nndl.learn.run']: importing runs every __init__."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def imported(path: Path, package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The package's modules that `path` imports anywhere (top level or inside functions)."""
    found = set()
    for module, names in _FACTS.get(path, "imports", _import_statements):
        for name in names or [None]:  # `from nndl.learn import scratch`: a module if there is one
            child = f"{module}.{name}" if name else module
            found.add(child if name is None or module_file(child, package_dir) else module)
    for name in found:
        if module_file(name, package_dir) is None:
            raise UnresolvedImport(f"{path}: imports {name}, which is not a module of {package_dir}")
    return {parent for name in found for parent in _with_parents(name)}


def _import_statements(path: Path) -> list[tuple[str, list[str]]]:
    """[(module, [names imported from it])] of the package's imports in `path`, as written: which of
    them are modules is decided when they are resolved, since modules come and go."""
    statements = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            raise UnresolvedImport(f"{path}:{node.lineno}: a relative import; nndl imports itself by absolute "
                                   "names, which its fingerprints can follow")
        if isinstance(node, ast.Import):
            statements += [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            statements.append((node.module, [alias.name for alias in node.names]))
    return statements


def closure(entries: list[str | Path], package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The package modules that `entries` import, directly or not, sorted. An entry is a module by
    name ('nndl.learn.run', included itself) or a file outside the package (a script, a notebook)."""
    seen: set[str] = set()
    pending: list[str] = []
    for entry in entries:
        if isinstance(entry, Path):
            pending.extend(imported(entry, package_dir))
        else:
            pending.extend(_with_parents(entry))
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = module_file(name, package_dir)
        if path is None:
            raise UnresolvedImport(f"{name} is not a module of {package_dir}")
        seen.add(name)
        pending.extend(imported(path, package_dir) - seen)
    return sorted(seen)


class _StripDocstrings(ast.NodeTransformer):
    def _strip(self, node):
        self.generic_visit(node)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip


def code_digest(path: Path) -> str:
    """The SHA-256 of a file's syntax tree without docstrings (no comments, no line numbers)."""
    return _FACTS.get(Path(path), "digest", _code_digest)


def _code_digest(path: Path) -> str:
    stripped = _StripDocstrings().visit(ast.parse(_source(path), filename=str(path)))
    return hashlib.sha256(ast.dump(stripped, annotate_fields=False).encode()).hexdigest()


def fingerprint(modules: list[str], package_dir: Path = PACKAGE_DIR, files: list[Path] = ()) -> str:
    """A short hash of the code of `modules` (and of `files` outside the package)."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(f"{name}\0{code_digest(module_file(name, package_dir))}\0".encode())
    for path in files:
        digest.update(f"{Path(path).name}\0{code_digest(Path(path))}\0".encode())
    return digest.hexdigest()[:12]
