"""Which modules of the package a module imports, read from the source (nothing is imported).

Snakemake's `code` trigger sees a rule's script, not the package it calls: the rules list these
modules as inputs, so editing one reruns exactly the rules whose code imports it. The same list,
hashed, tells a chunk job whether a finished run was trained by today's code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

PACKAGE = "nndl"


# `import nndl.x`, `from nndl.x import ...`, `from nndl import x, y` (parenthesised lists too), at
# any indentation. A regular expression, not ast: Snakemake runs this on every start.
_IMPORT = re.compile(rf"^[ \t]*(?:import {PACKAGE}\.(\w+)|from {PACKAGE}\.(\w+) import"
                     rf"|from {PACKAGE} import (\([^)]*\)|[^\n]*))", re.MULTILINE)


def _source(path: Path) -> str:
    """A module's or script's text; a notebook's code cells."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    return path.read_text(encoding="utf-8")


@functools.cache  # the workflow asks once per rule; each file is read once
def _imported(path: Path) -> frozenset[str]:
    """Names of the package's modules that `path` imports anywhere (top level or inside functions)."""
    names = set()
    for module, from_module, listed in _IMPORT.findall(_source(path)):
        if module or from_module:
            names.add(module or from_module)
        else:
            listed = re.sub(r"#[^\n]*", "", listed).strip("()")  # comments inside a parenthesised list
            names |= {name.split(" as ")[0].strip() for name in listed.split(",")}
    return frozenset(name for name in names if name)


def closure(package_dir: str | Path, *entries: str | Path) -> list[Path]:
    """The package modules that `entries` import, directly or not, sorted. An entry is a module of
    the package by name ('chunks', included itself) or a file outside it (a script, a notebook)."""
    package_dir = Path(package_dir)
    seen: set[str] = set()
    pending = ["__init__"]
    for entry in entries:
        if isinstance(entry, Path):
            pending.extend(_imported(entry))
        else:
            pending.append(entry)
    while pending:
        name = pending.pop()
        path = package_dir / f"{name}.py"
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        pending.extend(_imported(path) - seen)
    return sorted(package_dir / f"{name}.py" for name in seen)


def fingerprint(package_dir: str | Path, *entries: str | Path) -> str:
    """A short hash of the contents of `closure(package_dir, *entries)`."""
    digest = hashlib.sha256()
    for path in closure(package_dir, *entries):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
