"""What the chapter's theory predicts for a study, computed from the data and settings its runs
used, beside what the runs measured: the theory block of a study's summary (nndl.theory.choose).

Plain numpy and arithmetic on the pipeline's files: no torch, no MLflow, so the study summary job
stays light.
"""
