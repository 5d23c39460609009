"""Snakemake adapter: generate y = Xw + b + noise."""

from nndl import synthetic
from nndl.joblog import job_log

spec = snakemake.params.synthetic
with job_log(snakemake.log[0]) as log:
    dataset = synthetic.make_dataset(spec["true_w"], spec["true_b"], spec["n_train"], spec["n_test"],
                                     spec["noise_std"], spec["seed"])
    synthetic.save_dataset(dataset, snakemake.output.arrays, snakemake.output.description, spec)
    print(f"wrote {spec['n_train']} + {spec['n_test']} examples, w = {spec['true_w']}, b = {spec['true_b']}",
          file=log)
