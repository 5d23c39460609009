"""The tags the pipeline sets on MLflow runs, named once."""

HOST_TAG, PID_TAG = "nndl.host", "nndl.pid"  # the process that ran it: for the orphan sweep
# MLflow's own tags: the run's description (the UI's Description box), the code that made it, the
# parent a run is folded under in the runs table.
DESCRIPTION_TAG, SOURCE_TAG, PARENT_TAG = "mlflow.note.content", "mlflow.source.name", "mlflow.parentRunId"
STUDY_TAG, ROLE_TAG, OUTCOME_TAG = "nndl.study", "nndl.role", "outcome"
STUDY_ROLE, STUDY_RUN_ROLE = "study", "study run"  # values of ROLE_TAG: a study's parent, its runs
RUN_DIR_TAG, CONFIG_HASH_TAG, CODE_HASH_TAG = "nndl.run_dir", "config_hash", "code_hash"
# What finds a run's files in MLflow (nndl.runs.record.run_key), and the mark that its record is
# whole (set last, just before the run ends): a run without it is an attempt, replaced by the next.
RUN_KEY_TAG, RECORDED_TAG = "nndl.run_key", "nndl.recorded"
# RECORDED_TAG's values: the record is whole; or the run was replaced by a newer record of the same
# key (ended, and deleted too where the user may delete: MLflow's MANAGE permission). A study's
# parent run is WHOLE from its creation, SUPERSEDED if another job's parent of the study won
# (nndl.tracking.studies): it has no run key, so the readers that count runs by key never see it.
WHOLE, SUPERSEDED = "true", "superseded"
# A study run's full name (nndl.runs.names.study_run_name: its folder's and its log lines'): its
# MLflow name says what differs first, and is short (nndl.runs.names.study_run_title).
FULL_NAME_TAG = "nndl.run_name"
# The project that made the run (nndl.runs.project): a pipeline ends, marks or deletes only its own.
PROJECT_TAG = "nndl.project"


def project_filter(project: str) -> str:
    """MLflow's search filter for the runs `project` made."""
    return f"tags.`{PROJECT_TAG}` = '{project}'"


def live_filter(project: str) -> str:
    """MLflow's search filter for `project`'s live runs: whole records and study parents, not the
    runs a newer record superseded (kept, ended, where the user may not delete them) nor attempts.
    A tag filter, `=` as `!=`, leaves out every run without the tag (MLflow's SQL store, and a
    server's search, which is that store's: checked in tests/test_tracking.py)."""
    return f"{project_filter(project)} and tags.`{RECORDED_TAG}` = '{WHOLE}'"
