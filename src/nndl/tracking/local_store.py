"""Whether this project can use a local sqlite store, found read-only before any MLflow client is
made: whether MLflow can open it, and whether it keeps its files inside the project.

MLflow makes and changes its schema with Alembic. On SQLite a table is changed by a batch
migration: a new table `_alembic_tmp_<table>` is made, filled, and renamed over the old one. SQLite
does not undo DDL, so a migration cut short (a full disk, a killed process, several first
connections at once) leaves that table behind, and from then on every MLflow client fails on it
("table _alembic_tmp_experiments already exists"). Such a store is set aside when it holds no run
(the first job makes a new one) and stops the pipeline, with the fix, when it does. A store of
another MLflow version stops it too, with the command that upgrades it. No MLflow import: the
schema's latest revision is read from MLflow's migration files.

A store inside the project whose experiment keeps its files outside it was copied or moved with
the project (MLflow keeps the absolute folder it was made with): it stops the pipeline too.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import time
import urllib.parse
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import TextIO

from filelock import FileLock

from nndl.commands import shell
from nndl.errors import ConfigError, TrackingError
from nndl.tracking.uri import mlflow_command

LEFT_BY_A_CUT_MIGRATION = "_alembic_tmp_"  # Alembic's name prefix for a table a batch migration is making
RUN_TABLES = ("runs", f"{LEFT_BY_A_CUT_MIGRATION}runs")  # where a store's runs can be, mid-migration too
ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def lock_path(database: Path) -> Path:
    """The lock beside a local sqlite store, held while the store is made or set aside
    (nndl.tracking.store.creating_store)."""
    return database.with_name(f".{database.name}.lock")


def check_schema(database: Path, uri: str, log: TextIO) -> bool:
    """True if `database` was half-made by a failure and held no run, and was set aside (said on
    `log`); False if MLflow can open it, or it is not there yet; TrackingError with the fix
    otherwise (half-made and holding runs, or made by another MLflow version)."""
    if _state(database) is None:
        return False
    with FileLock(lock_path(database)):  # a job may be making the store right now: look again, alone
        found = _state(database)
        if found is None:
            return False
        leftovers, version, runs = found
        if leftovers or version is None:
            what = ", ".join(leftovers) or "no alembic_version"
            if runs:
                raise TrackingError(
                    f"the MLflow store {database} was left half-made by a change of its schema that was cut short "
                    f"({what}: a full disk, a killed process), and MLflow cannot open it; it holds {runs} runs. "
                    f"Keep it aside and start a new store: {shell('mv', database, f'{database}.half-made')}, then "
                    "run snakemake again: it makes a new store and records every complete run in it from its "
                    "files, without training. Nothing ran.")
            aside = database.with_name(f"{database.name}.half-made-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-journal", "-wal", "-shm"):
                if (part := Path(f"{database}{suffix}")).exists():
                    part.rename(f"{aside}{suffix}")
            print(f"nndl: the MLflow store {database} was left half-made by a change of its schema that was cut "
                  f"short ({what}: a full disk, a killed process) and held no run: it is set aside as {aside.name}, "
                  "and a new store is made in its place.", file=log, flush=True)
            return True
    head, known = revisions()
    if version in known:
        raise TrackingError(
            f"the MLflow store {database} has the schema of an older MLflow ({version}; this one needs {head}). "
            f"Keep a copy and upgrade it: {shell('cp', database, f'{database}.before-upgrade')} && "
            f"{shell(mlflow_command(), 'db', 'upgrade', uri)}, then run snakemake again. Nothing ran.")
    raise TrackingError(
        f"the MLflow store {database} has a schema this MLflow does not know ({version}: a newer MLflow made it). "
        "Use that MLflow, or give this project a store of its own: "
        f"{shell('mv', database, f'{database}.newer')}, then run snakemake again: it records every complete run "
        "in the new store from its files, without training. Nothing ran.")


def _state(database: Path) -> tuple[list[str], str | None, int] | None:
    """(leftover tables, schema revision, runs) of a store MLflow cannot open as it is; None for
    one it can (or none there, or an empty file: MLflow makes the schema)."""
    if not database.is_file() or database.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as connection:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return None
            leftovers = sorted(name for name in tables if name.startswith(LEFT_BY_A_CUT_MIGRATION))
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone() \
                if "alembic_version" in tables else None
            version = row[0] if row else None
            if not leftovers and version == revisions()[0]:
                return None
            runs = sum(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                       for table in RUN_TABLES if table in tables)
    except sqlite3.DatabaseError:
        return None  # not a database at all: the integrity check says so (nndl.tracking.probe)
    return leftovers, version, runs


@cache
def revisions() -> tuple[str, frozenset[str]]:
    """(the latest revision of MLflow's schema, every revision it knows), from its migration files."""
    spec = importlib.util.find_spec("mlflow")  # finds the package without importing it (seconds)
    versions = Path(spec.origin).parent / "store" / "db_migrations" / "versions"
    known, replaced = set(), set()
    for path in versions.glob("*.py"):
        assigned = dict(ASSIGNED.findall(path.read_text(encoding="utf-8")))
        if "revision" in assigned:
            known.update(re.findall(r"[\"'](\w+)[\"']", assigned["revision"]))
            replaced.update(re.findall(r"[\"'](\w+)[\"']", assigned.get("down_revision", "")))
    (head,) = known - replaced
    return head, frozenset(known)


def check_files_inside(database: Path, experiment: str, artifact_location: str | None, root: Path) -> None:
    """Stop if a store inside the project keeps its experiment's files outside it: the store was
    copied or moved with the project (MLflow keeps the folder it was made with, as an absolute
    path), and this project's runs would write into the other folder, or into one gone."""
    root, database = root.resolve(), database.resolve()
    location = urllib.parse.urlsplit(artifact_location or "")
    if not database.is_relative_to(root) or location.scheme not in ("", "file"):
        return  # a shared store elsewhere keeps its files where it was made: that is its own folder
    folder = Path(urllib.parse.unquote(location.path))
    if folder.resolve().is_relative_to(root):
        return
    raise ConfigError(
        f"the MLflow store {database} is in this project, but its experiment {experiment!r} keeps its runs' files in "
        f"{folder}, outside it: the store was copied or moved here with the project, and this project's runs would "
        "write into the other folder. Give this project a store of its own: "
        f"{shell('mv', database, f'{database}.moved')}, then run snakemake again: it makes a new store here and "
        "records every complete run in it from its files, without training (the moved file keeps the old runs). "
        "Nothing ran.")
