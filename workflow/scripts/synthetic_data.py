"""Snakemake adapter: generate y = Xw + b + noise."""

from nndl.data import synthetic
from nndl.joblog import job_log

block = snakemake.params.synthetic
with job_log(snakemake.log[0], writes=snakemake.output) as log:
    synthetic.save_dataset(synthetic.dataset_from(block), snakemake.output.arrays, snakemake.output.description, block)
    print(f"wrote {block['n_train']} + {block['n_test']} examples, w = {block['true_w']}, b = {block['true_b']}, "
          f"{block['noise']} noise of std {block['noise_std']}, {block['outliers']} outlier(s)", file=log)
