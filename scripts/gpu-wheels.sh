#!/usr/bin/env bash
# The wheels the lent GPU machine lacks for benchmarks/gpu_check.py's pipeline run, fetched here
# into .whl/ (ignored by git) for the device tool to carry. That machine has Python 3.12 with torch,
# numpy, pandas, matplotlib, pyyaml (scripts/gpu-machine-packages.txt) but no Snakemake or MLflow,
# and no network.
#
#   scripts/gpu-wheels.sh            # fills .whl/, prints its size against the 64 MiB a call carries
#
# Carried: snakemake and its dependencies, mlflow-skinny (MLflow's client and stores, without the
# server and UI: the pipeline needs only those) with SQLAlchemy and Alembic for the sqlite store,
# jsonschema (the config check). Left out: pulp (15.6 MB; Snakemake's ILP scheduler, so run
# Snakemake with --scheduler greedy there), the full mlflow package (its server and UI, 11.5 MB),
# papermill and nbconvert (the reports: the check runs the pipeline up to the training chunks).
# Then, on the GPU machine (the device tool's README):
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${NNDL_WHEELS:-$ROOT/.whl}
LIMIT_MIB=${NNDL_WHEELS_LIMIT_MIB:-40}  # of the 64 MiB a call carries; Fashion-MNIST's .gz files are 29 MiB more
PACKAGES=(snakemake==9.27.1 mlflow-skinny==3.17.2 mlflow-tracing==3.17.2 sqlalchemy alembic jsonschema)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64
    manylinux2014_x86_64 manylinux1_x86_64 any)

rm -rf "$OUT" && mkdir -p "$OUT"
# Pure-Python dependencies published only as source: build them here (py3-none-any fits anywhere).
python3 -m pip wheel --quiet --no-deps -w "$OUT" connection_pool==0.0.3
python3 -m pip download --quiet --only-binary=:all: --python-version 3.12 --implementation cp \
    $(printf -- '--platform %s ' "${PLATFORMS[@]}") --find-links "$OUT" -d "$OUT" "${PACKAGES[@]}"
# Drop what the machine already has (a second version of a package there would clash), and pulp.
python3 - "$OUT" "$ROOT/scripts/gpu-machine-packages.txt" <<'EOF'
import re
import sys
from pathlib import Path

out, listing = Path(sys.argv[1]), Path(sys.argv[2])
present = {line.strip().lower().replace("_", "-") for line in listing.read_text().splitlines()
           if line.strip() and not line.startswith("#")} | {"pulp"}
for wheel in sorted(out.glob("*.whl")):
    if re.split(r"-\d", wheel.name, maxsplit=1)[0].lower().replace("_", "-") in present:
        wheel.unlink()
EOF
size=$(du -sm "$OUT" | cut -f1)
echo "$(ls "$OUT" | wc -l) wheels, ${size} MiB in $OUT (limit ${LIMIT_MIB} MiB)"
if [ "$size" -gt "$LIMIT_MIB" ]; then
    echo "over the limit: carry fewer packages" >&2
    exit 1
fi
