"""Check config files as the pipeline reads them, naming the file, line and column of a YAML
syntax error (Snakemake's loader says only "Config file is not valid JSON or YAML"):

    .venv/bin/python -m nndl.config config/mine.yaml [more.yaml ...]

Each file is read as YAML; then the workflow's config/config.yaml with the files over it (as
`snakemake --configfile` merges them) is validated against the schema, and the runs it plans are
counted. Exit status 0 when all is well, 1 with the messages otherwise. Run it in the project root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nndl.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nndl.config", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="config files, as given to --configfile")
    parser.add_argument("--workflow", type=Path, default=Path("."), help="the project root (default: here)")
    options = parser.parse_args(argv)

    from snakemake.utils import update_config  # merges as `snakemake --configfile` does

    from nndl.config.validate import DEFAULT_CONFIG, SCHEMA_PATH, read_yaml, validate
    from nndl.runs.plan import check_size

    try:
        default = options.workflow / DEFAULT_CONFIG
        config: dict = {}
        for path in [default, *options.files]:
            if path != default or path.exists():
                update_config(config, read_yaml(path))
        config = validate(config, options.workflow / SCHEMA_PATH)
        check_size(config, log=sys.stdout)
    except ConfigError as error:
        print(f"ConfigError: {error}", file=sys.stderr)
        return 1
    print(f"{', '.join(map(str, options.files))}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
