"""The one subpackage that talks to MLflow: nothing else in nndl imports mlflow.

uri (which store, its UI's pages; no mlflow import), probe (the store as the workflow sees it where
it is parsed: its experiment, a server that refuses or does not answer, a damaged sqlite file; no
mlflow import), store (the store's creation, the experiment, which runs are live), delivery (every
call to the store sent in the background, tried again until it goes through), run (one run,
opened and always closed in a final state), ledger (which MLflow run records a run's files: its
run key, found by the ids the project notes), times (when a run trained), repairs (runs a killed job or a lost server left behind), studies (a study's parent
run), attach (files and tags added to finished runs), readback (the runs as MLflow has them, for
the report), tags (the tag names), admin (accounts on the team server). The store's URI comes from
the environment (MLFLOW_TRACKING_URI, which the workflow sets), never from a rule's params.
"""
