"""The one subpackage that talks to MLflow: nothing else in nndl imports mlflow.

uri (which store, its UI's pages, whether its server lets this user in; no mlflow import), store
(the store's creation, the experiment, which runs are live), run (one run, opened and always closed
in a final state), repairs (runs a killed job left behind), studies (a study's parent run), attach
(files and tags added to finished runs), readback (the runs as MLflow has them, for the report),
tags (the tag names), admin (accounts on the team server). The store's URI comes from the environment
(MLFLOW_TRACKING_URI, which the workflow sets), never from a rule's params.
"""
