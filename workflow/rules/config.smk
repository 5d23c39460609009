from pathlib import Path

from nndl.config.validate import DEFAULT_CONFIG, read_yaml

# A YAML syntax error in the workflow's own config is named here with its file, line and column:
# Snakemake's loader (the configfile directive that follows) says only "not valid JSON or YAML".
if Path(DEFAULT_CONFIG).exists():
    read_yaml(DEFAULT_CONFIG)
