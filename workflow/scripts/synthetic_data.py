"""Snakemake adapter: generate y = Xw + b + noise."""

from nndl.data import synthetic
from nndl.joblog import job_log

spec = snakemake.params.synthetic
with job_log(snakemake.log[0]) as log:
    synthetic.save_dataset(synthetic.dataset_from(spec), snakemake.output.arrays, snakemake.output.description, spec)
    print(f"wrote {spec['n_train']} + {spec['n_test']} examples, w = {spec['true_w']}, b = {spec['true_b']}, "
          f"{spec['noise']} noise of std {spec['noise_std']}, {spec['outliers']} outlier(s)", file=log)
