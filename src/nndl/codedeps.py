"""Which modules of the package a module imports, read from the source (nothing is imported).

Snakemake's `code` trigger sees a rule's script, not the package it calls: the rules list these
modules as inputs, so editing one reruns exactly the rules whose code imports it. The same list,
hashed, tells a chunk job whether a finished run was trained by today's code.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "nndl"


@functools.cache  # the workflow asks once per rule; each file is parsed once
def _imported(path: Path) -> frozenset[str]:
    """Names of the package's modules that `path` imports anywhere (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith(f"{PACKAGE}.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                names |= {alias.name for alias in node.names}
            elif node.module.startswith(f"{PACKAGE}."):
                names.add(node.module.split(".")[1])
    return frozenset(names)


def closure(package_dir: str | Path, *entries: str) -> list[Path]:
    """The files of `entries` (module names such as 'chunks') and of every package module they
    import, directly or not, sorted."""
    package_dir = Path(package_dir)
    seen: set[str] = set()
    pending = [*entries, "__init__"]
    while pending:
        name = pending.pop()
        path = package_dir / f"{name}.py"
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        pending.extend(_imported(path) - seen)
    return sorted(package_dir / f"{name}.py" for name in seen)


def fingerprint(package_dir: str | Path, *entries: str) -> str:
    """A short hash of the contents of `closure(package_dir, *entries)`."""
    digest = hashlib.sha256()
    for path in closure(package_dir, *entries):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
