"""Snakemake adapter: read the pipeline's runs back from MLflow, for the report (which then needs no MLflow)."""

from nndl.files import write_json
from nndl.joblog import job_log
from nndl.runs import record
from nndl.tracking import ledger
from nndl.tracking.readback import store_summary
from nndl.tracking.uri import tracking_uri

with job_log(snakemake.log[0]) as log:
    uri, experiment = tracking_uri(), snakemake.params.experiment
    keys = {spec["name"]: record.read(spec["dir"]).key for spec in snakemake.params.runs}
    ids = ledger.run_ids(uri, experiment, list(keys.values()))
    run_ids = {name: ids.get(key) for name, key in keys.items()}  # None: not recorded in this store
    summary = store_summary(uri, experiment, run_ids)
    print(f"{len(summary['runs'])} of the pipeline's {len(run_ids)} runs are in {experiment!r} at {uri}", file=log)
    write_json(summary, snakemake.output[0])
